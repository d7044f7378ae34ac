"""Relationships between resources, declared on serializers.

A ``Relationship`` reads resource linkage (``{"type": ..., "id": ...}``) from requests and
tells the document builder how to find related ids and objects on a model instance; it
never renders itself, so a list never loads a related object just to print its id.
"""

import contextvars
import re
from contextlib import contextmanager
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from rest_framework import serializers
from rest_framework.fields import SkipField

from .tenancy import context_organization, scoped

# Ids are integers, ISO codes, UUIDs or slugs: unreserved ASCII URL characters.
RESOURCE_ID = re.compile(r"[A-Za-z0-9._~:-]+")

# The rows relationships have read in the current block of reuse_referenced_rows.
_rows_read = contextvars.ContextVar("rows_read", default=None)


@contextmanager
def reuse_referenced_rows():
    """Within the block (one transaction of several writes: Atomic Operations), a row that
    relationships name is read, and locked, once: later references reuse it. The lock
    holds to the end of the transaction, so the row cannot be deleted or its key changed
    meanwhile by anyone else; a write of the block that may change rows itself calls
    ``forget_referenced_rows`` first."""
    token = _rows_read.set({})
    try:
        yield
    finally:
        _rows_read.reset(token)


def forget_referenced_rows():
    remembered = _rows_read.get()
    if remembered is not None:
        remembered.clear()


class Relationship(serializers.Field):
    default_error_messages = {
        "type_conflict": "Expected a resource of type '{expected}', got '{actual}'.",
        "does_not_exist": "There is no {expected} resource with id '{id}'.",
        "not_a_list": "A to-many relationship takes an array of resource identifiers.",
        "not_an_object": "A to-one relationship takes a resource identifier object or null.",
        "empty": "At least one {expected} resource is required.",
    }

    def __init__(self, resource_type, *, many=False, queryset=None, allow_empty=True, **kwargs):
        self.resource_type = resource_type
        self.many = many
        self.queryset = queryset
        self.allow_empty = allow_empty
        super().__init__(**kwargs)

    def bind_path(self, model):
        """Resolve, once, how to reach the related id from an instance of ``model``."""
        self.path = self.source.split(".")
        self.select_path = "__".join(self.path)
        for hop in self.path[:-1]:
            model = model._meta.get_field(hop).related_model
        last = model._meta.get_field(self.path[-1])
        self.id_attname = None if self.many else last.attname
        # For a reverse foreign key (product -> tracks): the field pointing back at the owner,
        # which Django fills from the owner itself when it prefetches the relationship.
        self.back_reference = last.field.name if last.one_to_many else None

    @cached_property
    def target_id_field(self):
        """The field of the related model its resource id is (see ResourceSchema.id_field)."""
        from .schema import schema_for_type

        schema = schema_for_type(self.resource_type)
        return "pk" if schema is None else schema.id_field

    def get_attribute(self, instance):
        raise SkipField  # the document builder renders linkage from the schema

    def _parent_of_last(self, instance):
        for hop in self.path[:-1]:
            instance = getattr(instance, hop)
            if instance is None:
                return None
        return instance

    def identifier(self, instance):
        owner = self._parent_of_last(instance)
        if owner is None:
            return None
        if self.target_id_field == "pk":
            related_id = getattr(owner, self.id_attname)
        else:  # the related row is joined (ResourceSchema.always_selected)
            related = getattr(owner, self.path[-1])
            related_id = None if related is None else getattr(related, self.target_id_field)
        return None if related_id is None else {"type": self.resource_type, "id": str(related_id)}

    def related_id(self, obj):
        return str(getattr(obj, self.target_id_field))

    def related_objects(self, instance):
        owner = self._parent_of_last(instance)
        if owner is None:
            return []
        related = getattr(owner, self.path[-1])
        if self.many:
            return list(related.all())
        return [] if related is None else [related]

    def related_queryset(self, instance):
        return getattr(self._parent_of_last(instance), self.path[-1]).all()

    def to_internal_value(self, data):
        if not self.many:
            if not isinstance(data, dict):
                self.fail("not_an_object")
            return self._resolve(data)
        if not isinstance(data, list):
            self.fail("not_a_list")
        if not data and not self.allow_empty:
            self.fail("empty", expected=self.resource_type)
        return [self._resolve(identifier) for identifier in data]

    def _resolve(self, identifier):
        actual = identifier.get("type")
        if actual != self.resource_type:
            self.fail("type_conflict", expected=self.resource_type, actual=actual)
        if not RESOURCE_ID.fullmatch(identifier.get("id", "")):
            self.fail("does_not_exist", expected=self.resource_type, id=identifier.get("id"))
        # Another organization's rows do not exist for this request.
        organization = context_organization(self.context)
        queryset = scoped(self.queryset, organization)
        lookup = {self.target_id_field: identifier["id"]}
        remembered = _rows_read.get()
        key = None
        if remembered is not None:
            key = (str(self.queryset.query), getattr(organization, "pk", None), identifier["id"])
            if key in remembered:
                return remembered[key]
        try:
            row = get_referenced_row(queryset, lookup)
        except (ObjectDoesNotExist, ValueError, TypeError, DjangoValidationError):
            self.fail("does_not_exist", expected=self.resource_type, id=identifier.get("id"))
        if key is not None:
            remembered[key] = row
        return row

    def to_representation(self, value):  # pragma: no cover - never called, see get_attribute
        raise NotImplementedError


def get_referenced_row(queryset, lookup):
    """``queryset.get(**lookup)``: the row a new reference will point at. Inside a write on
    PostgreSQL it is read FOR KEY SHARE, as the foreign key check at COMMIT would lock it,
    but before the reference is written: a concurrent delete of that row then either waits
    for this write (and finds the reference, a 409) or has deleted it already (and this
    write finds no row). Other writers referring to the same row are not held up."""
    rows = queryset.filter(**lookup)
    connection = connections[queryset.db]
    query = rows.query
    if (
        connection.vendor != "postgresql"
        or not connection.in_atomic_block
        or query.select_related
        or query.annotations
        or query.deferred_loading != (frozenset(), True)
    ):
        return rows.get()
    sql, params = rows.order_by().query.get_compiler(queryset.db).as_sql()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    found = list(queryset.model._base_manager.raw(f"{sql} FOR KEY SHARE OF {table}", params))
    if not found:
        raise queryset.model.DoesNotExist
    if len(found) > 1:
        raise queryset.model.MultipleObjectsReturned
    return found[0]
