"""The base serializer of every resource.

It reads a JSON:API resource object (attributes and relationships under their member
names), refuses members that are unknown or read-only instead of ignoring them, and maps
model fields to the strict fields of ``config.jsonapi.fields``.
"""

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings
from rest_framework.validators import UniqueValidator

from config.validation import clean_for_write, has_unique_rules, loaded_relations

from . import fields as strict
from .schema import ResourceSchema, member_name, register
from .tenancy import context_organization, organization_path


class ResourceSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: strict.StrictCharField,
        models.TextField: strict.StrictCharField,
        models.SlugField: strict.StrictSlugField,
        models.IntegerField: strict.StrictIntegerField,
        models.SmallIntegerField: strict.StrictIntegerField,
        models.BigIntegerField: strict.StrictIntegerField,
        models.PositiveIntegerField: strict.StrictIntegerField,
        models.PositiveSmallIntegerField: strict.StrictIntegerField,
        models.PositiveBigIntegerField: strict.StrictIntegerField,
        models.FloatField: strict.StrictFloatField,
        models.DecimalField: strict.StrictDecimalField,
        models.BooleanField: strict.StrictBooleanField,
        models.DateField: strict.StrictDateField,
        models.DateTimeField: strict.StrictDateTimeField,
        models.UUIDField: strict.StrictUUIDField,
        models.JSONField: strict.JSONField,  # the model's validators judge its shape
    }
    serializer_choice_field = strict.StrictChoiceField

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if hasattr(getattr(cls, "Meta", None), "resource_name"):
            register(cls)

    @classmethod
    def schema(cls):
        if "_schema" not in cls.__dict__:
            cls._schema = ResourceSchema(cls)
        return cls._schema

    @classmethod
    def shared_fields(cls):
        """The fields of a serializer of no request, built once: they render, in any
        request, the attributes whose rendering does not depend on it (see
        plans.reads_without_request). Reading leaves a field unchanged."""
        if "_shared_fields" not in cls.__dict__:
            cls._shared_fields = cls(context={}).fields
        return cls._shared_fields

    def get_fields(self):
        """The fields. Those built from the model (dozens of introspections each) are built
        once per class and copied (shallowly: validation and rendering never change a
        field's own state, only its binding) for each serializer; declared ones are
        deep-copied, as DRF does."""
        cls = type(self)
        if "_field_prototypes" not in cls.__dict__:
            prototypes = super().get_fields()
            for name, prototype in prototypes.items():
                prototype.error_messages = {**prototype.error_messages, **required(name)}
            cls._field_prototypes = prototypes
        fields = {}
        for name, prototype in cls._field_prototypes.items():
            if name in self._declared_fields:
                field = copy.deepcopy(prototype)  # built again: its messages too
                field.error_messages.update(required(name))
            else:
                field = copy.copy(prototype)
            if self.unique_by_database:
                field.validators = [
                    validator
                    for validator in field.validators
                    if not isinstance(validator, UniqueValidator)
                ]
            fields[name] = field
        return fields

    def to_internal_value(self, data):
        """Validate a resource object: its members first, then DRF's field validation."""
        schema = self.schema()
        flat, errors = {}, {}
        if "id" in data:  # a client-generated id (resource_object lets it through on create)
            flat[schema.id_field] = data["id"]
        attributes = (
            schema.writable_attributes if self.instance is None else schema.updatable_attributes
        )
        for section, writable in (
            ("attributes", attributes),
            ("relationships", schema.writable_relationships),
        ):
            for member, value in data.get(section, {}).items():
                if member in writable:
                    flat[writable[member]] = value
                else:
                    errors[f"/data/{section}/{member}"] = [member_error(schema, section, member)]
        try:
            value = super().to_internal_value(flat)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**errors, **exc.detail}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if model_field.choices and model_field.null:
            field_kwargs["allow_blank"] = False  # null says "none", "" is no choice
        normalizer = getattr(model_field, "normalizer", None)
        if normalizer is not None:
            field_class = strict.NormalizedCharField
            field_kwargs["normalizer"] = normalizer
            field_kwargs["allow_blank"] = False  # a code is given or null, never ""
        return field_class, field_kwargs

    def get_unique_together_validators(self):
        return []  # the model's own constraints are checked by validate()

    def __init__(self, *args, unique_by_database=False, **kwargs):
        """``unique_by_database``: the caller saves right after validation and answers a
        uniqueness violation from the database with ``complete_errors()``. Validation then
        leaves uniqueness to the database's constraints and asks the database as little
        as it can (``config.validation``); a document it refuses is validated again
        completely when its model has uniqueness rules, so that its errors are exactly
        those it has always had."""
        self.unique_by_database = unique_by_database
        super().__init__(*args, **kwargs)

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            if not self.unique_by_database or not has_unique_rules(self.Meta.model):
                raise  # nothing was left out
            raise serializers.ValidationError(self.complete_errors() or exc.detail) from exc

    def complete_errors(self):
        """The errors of this document validated again completely, uniqueness included
        (None if it passes: after the database refused a clash, the clashing row may be
        gone meanwhile)."""
        again = type(self)(
            self.instance, data=self.initial_data, partial=self.partial, context=self.context
        )
        return None if again.is_valid() else again.errors

    def validate(self, attrs):
        """Run the model's validation (fields, clean(), constraints): the rules live there,
        so the admin and the importers apply exactly the same ones."""
        model = self.Meta.model
        if self.instance is None and organization_path(model) == "organization":
            # A new row belongs to the organization the request acts in; set before
            # full_clean, which checks uniqueness within that organization.
            attrs["organization"] = context_organization(self.context)
        instance = self.instance or model()
        for name, value in attrs.items():
            if not model._meta.get_field(name).many_to_many:  # set after saving, by DRF
                setattr(instance, name, value)
        derived = [field.name for field in model._meta.fields if not field.editable]
        try:
            if self.unique_by_database:
                # Related rows exist: just read by the relationship fields, or unchanged.
                loaded = loaded_relations(model, attrs, unchanged=self.instance is not None)
                clean_for_write(instance, derived, loaded)
            else:
                instance.full_clean(exclude=derived)  # the model fills non-editable fields
        except DjangoValidationError as exc:
            sent = set(attrs) if self.instance is not None else None
            raise serializers.ValidationError(model_errors(exc, sent)) from exc
        return attrs


def required(field_name):
    return {"required": f"The {member_name(field_name)} field is required."}


def member_error(schema, section, member):
    """Why ``member`` cannot be written under ``section`` of a ``schema.type`` resource."""
    declared_in = None
    if member in schema.attributes or member in schema.writable_attributes:
        declared_in = "attributes"
    elif member in schema.relationships:
        declared_in = "relationships"
    if declared_in is None:
        return ErrorDetail(f"'{member}' is not a member of {schema.type}.", "unknown_member")
    if declared_in != section:
        return ErrorDetail(f"'{member}' belongs under {declared_in}.", "unknown_member")
    if member in schema.writable_attributes:
        return ErrorDetail(f"'{member}' is set when the resource is created.", "read_only")
    return ErrorDetail(f"'{member}' is read-only.", "read_only")


def model_errors(exc, sent=None):
    """Django's error dict as DRF detail.

    A multi-field uniqueness error points at its last field (the ISRC of (product, ISRC)).
    On an update (``sent``: the fields the request changes), a rule between fields
    (``params={"fields": ...}``) that the request broke only together with stored values is
    a conflict with the resource's state (code ``state_conflict``, a 409).
    """
    detail = {}
    for name, errors in exc.error_dict.items():
        for error in errors:
            check = (error.params or {}).get("unique_check") if name == NON_FIELD_ERRORS else None
            key = check[-1] if check else name
            inner = (error.params or {}).get("path")  # a spot inside a JSON member
            if inner and key != NON_FIELD_ERRORS:
                key = f"{key}/{inner}"
            if key == NON_FIELD_ERRORS:
                key = api_settings.NON_FIELD_ERRORS_KEY
            code = "unique" if error.code in ("unique", "unique_together") else error.code
            fields = (error.params or {}).get("fields")
            if sent is not None and fields and not set(fields) <= sent:
                code = "state_conflict"
            for message in error.messages:
                detail.setdefault(key, []).append(ErrorDetail(message, code))
    return detail
