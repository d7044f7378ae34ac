"""Strict serializer fields: a JSON string is never silently coerced into a number or a
boolean (DRF's own fields accept ``"1"`` for an integer and ``"yes"`` for a boolean)."""

from rest_framework import serializers


class StrictTypeMixin:
    """Rejects values whose JSON type is not one of ``json_types`` before DRF converts them."""

    json_types = ()
    type_message = "Must be a {expected}."
    expected = "value"

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


class StrictJSONField(serializers.JSONField):
    """JSON members stay JSON: the model field's validators judge their shape."""


class NormalizedCharField(StrictCharField):
    """A string brought to its canonical form (``normalizer``) before it is validated."""

    def __init__(self, *, normalizer, **kwargs):
        self.normalizer = normalizer
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return self.normalizer(super().to_internal_value(data))
