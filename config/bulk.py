"""The API's validation of a resource's attributes, for importers validating many rows.

The API validates a document with its serializer's fields (JSON types, formats,
normalisation, the model field's validators), then with the model (``clean_fields``,
``clean()``, check constraints: ``config.validation``). An importer applies the same
rules to every row, without a serializer per row (about a millisecond each): it reads
each member with the same serializer field and validates the model instance the same
way, remembering the verdict on a value already judged, since a field's rules are
functions of the value alone. Uniqueness is the one rule that is not: the importer
checks it per batch, and the database's constraints back it.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from .jsonapi.exceptions import member_errors
from .jsonapi.serializers import member_error, model_errors, required
from .validation import FieldVerdicts, clean_for_write

# Member values whose reading is remembered: hashable, never changed in place.
_REMEMBERED_TYPES = frozenset({str, int, float, bool, type(None)})
_UNSEEN = object()


class RowValidator:
    """Validates rows of ``serializer_class``'s type given as ``{member: value}``."""

    LIMIT = 10_000  # values remembered per member

    def __init__(self, serializer_class):
        self.schema = serializer_class.schema()
        self.model = self.schema.model
        # Without uniqueness validators: uniqueness is the importer's, per batch.
        self.fields = serializer_class(context={}, unique_by_database=True).fields
        self.required = [
            member
            for member, name in self.schema.writable_attributes.items()
            if self.fields[name].required
        ]
        self.derived = [field.name for field in self.model._meta.fields if not field.editable]
        self.verdicts = FieldVerdicts()
        self._remembered = {}

    def read(self, values):
        """``values`` (attribute member -> value) read by the serializer's fields, as the
        API reads a document's attributes: ``(field values, problems)``, a problem being
        ``(member path, message)``."""
        attrs, detail = {}, {}
        writable = self.schema.writable_attributes
        for member, value in values.items():
            name = writable.get(member)
            if name is None:
                section = "relationships" if member in self.schema.relationships else "attributes"
                detail[f"/{member}"] = [member_error(self.schema, section, member)]
                continue
            remembered = self._remembered.setdefault(member, {})
            remember = type(value) in _REMEMBERED_TYPES
            key = (type(value), value)  # True and 1 are equal keys, not the same value
            verdict = remembered.get(key, _UNSEEN) if remember else _UNSEEN
            if verdict is _UNSEEN:
                try:
                    verdict = (True, self.fields[name].run_validation(value))
                except ValidationError as exc:
                    verdict = (False, exc.detail)
                if remember and len(remembered) < self.LIMIT:
                    remembered[key] = verdict
            valid, result = verdict
            if valid:
                attrs[self.fields[name].source] = result
            else:
                detail[name] = result
        return attrs, self.problems(detail)

    def missing(self, values):
        """The problems of ``values`` as a new row: the required members it lacks."""
        writable = self.schema.writable_attributes
        detail = {
            writable[member]: [required(writable[member])["required"]]
            for member in self.required
            if member not in values
        }
        return self.problems(detail)

    def clean(self, instance, loaded=()):
        """The model's validation of ``instance`` short of uniqueness, as the API's write
        path runs it; ``loaded``: foreign keys holding rows just read. Returns the
        problems."""
        try:
            clean_for_write(instance, self.derived, loaded, self.verdicts)
        except DjangoValidationError as exc:
            return self.problems(model_errors(exc))
        return []

    def problems(self, detail):
        """DRF error detail as ``(member path, message)``: ``isrc-code``,
        ``stream-conditions/usdc-purchase/price``, ``""`` for the whole row."""
        if not detail:
            return []
        return [
            (path.lstrip("/"), str(message)) for path, message in member_errors(detail, self.schema)
        ]
