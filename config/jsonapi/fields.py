"""Strict serializer fields: a JSON string is never silently coerced into a number or a
boolean (DRF's own fields accept ``"1"`` for an integer and ``"yes"`` for a boolean)."""

import base64
import binascii
import math
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.validators import ProhibitSurrogateCharactersValidator


class ProhibitSurrogates(ProhibitSurrogateCharactersValidator):
    """DRF's rule against surrogate characters, with a string searched for them in C:
    DRF's looks at each character in Python, the costliest part of reading a string."""

    def __call__(self, value):
        if type(value) is not str or _SURROGATE.search(value) is not None:
            super().__call__(value)  # (its own message)


_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictTypeMixin:
    """Rejects values whose JSON type is not one of ``json_types`` before DRF converts them."""

    json_types = ()
    type_message = "Must be a {expected}."
    expected = "value"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            ProhibitSurrogates() if type(v) is ProhibitSurrogateCharactersValidator else v
            for v in self.validators
        ]

    def to_internal_value(self, data):
        if (isinstance(data, bool) and bool not in self.json_types) or not isinstance(
            data, self.json_types
        ):
            raise serializers.ValidationError(
                self.type_message.format(expected=self.expected), code="invalid_type"
            )
        return super().to_internal_value(data)


class StrictCharField(StrictTypeMixin, serializers.CharField):
    json_types = (str,)
    expected = "string"


class StrictSlugField(StrictTypeMixin, serializers.SlugField):
    json_types = (str,)
    expected = "string"


class StrictUUIDField(StrictTypeMixin, serializers.UUIDField):
    json_types = (str,)  # DRF's would take a JSON integer as the UUID's 128-bit value
    expected = "UUID string"


class StrictIntegerField(StrictTypeMixin, serializers.IntegerField):
    json_types = (int,)
    expected = "whole number"


class StrictFloatField(StrictTypeMixin, serializers.FloatField):
    json_types = (int, float)
    expected = "number"


class StrictDecimalField(StrictTypeMixin, serializers.DecimalField):
    json_types = (int, float, str)
    expected = "number"


class StrictBooleanField(StrictTypeMixin, serializers.BooleanField):
    json_types = (bool,)
    expected = "boolean (true or false)"


class StrictDateField(StrictTypeMixin, serializers.DateField):
    json_types = (str,)
    expected = "date string (YYYY-MM-DD)"


class StrictDateTimeField(StrictTypeMixin, serializers.DateTimeField):
    json_types = (str,)
    expected = "date-time string (ISO 8601)"


class StrictChoiceField(StrictTypeMixin, serializers.ChoiceField):
    json_types = (str,)
    expected = "string"


class NormalizedCharField(StrictCharField):
    """A string brought to its canonical form (``normalizer``) before it is validated."""

    def __init__(self, *, normalizer, **kwargs):
        self.normalizer = normalizer
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return self.normalizer(super().to_internal_value(data))


class Base64FileField(StrictCharField):
    """A file sent inline as base64 text, decoded to a ``ContentFile``.

    ``max_bytes`` (a callable, so settings can change at run time) is checked on the
    encoded length before anything is decoded, so an oversize upload costs no more memory.
    """

    default_error_messages = {
        "invalid_base64": "Must be base64-encoded file content.",
        "too_large": "The file is larger than the limit of {max_bytes} bytes.",
    }

    def __init__(self, *, max_bytes, content_format="byte", **kwargs):
        self.max_bytes = max_bytes
        self.content_format = content_format  # the OpenAPI format: what the bytes must be
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        limit = self.max_bytes()
        if len(text) > 4 * math.ceil(limit / 3):
            self.fail("too_large", max_bytes=limit)
        try:
            content = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid_base64")
        if len(content) > limit:
            self.fail("too_large", max_bytes=limit)
        return ContentFile(content, name="upload")


class JSONField(serializers.JSONField):
    """A JSON member whose validators may name the spot inside it that is wrong.

    A Django ValidationError with ``params={"path": "usdc-purchase/price"}`` becomes nested
    error detail, so the error's pointer ends in ``/usdc-purchase/price``.
    """

    def to_internal_value(self, data):
        if (
            not self.binary
            and self.encoder is None
            and type(data) is list
            and all(type(item) is str for item in data)
        ):
            return data  # (a list of strings, which DRF's check, a json.dumps, would pass)
        return super().to_internal_value(data)

    def run_validators(self, value):
        errors = {}
        for validator in self.validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                for error in exc.error_list:
                    path = (error.params or {}).get("path", "")
                    message = error.message % error.params if error.params else error.message
                    errors.setdefault(path, []).append(ErrorDetail(message, error.code))
        if not errors:
            return
        if set(errors) == {""}:
            raise serializers.ValidationError(errors[""])
        raise serializers.ValidationError(nest(errors))


def nest(errors):
    """{"a/b": [...]} -> {"a": {"b": [...]}}."""
    nested = {}
    for path, messages in errors.items():
        node, parts = nested, path.split("/") if path else [""]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = messages
    return nested
