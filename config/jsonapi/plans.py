"""How resource objects of a type are read and rendered, decided once per serializer class
and sparse fieldset instead of per request or per row.

Two ways of reading share these decisions:

- the instance path (``documents._TypeRenderer``) renders model instances with the
  ``attribute_plans`` of a type: which attributes are copied from the instance's columns
  as they are and which go through their serializer field;
- the compiled path renders a collection from rows of columns (``values_list``), never
  building model instances. Building ~100 instances of up to 70 fields, and reading
  every member off each of them, was most of what a page of tracks cost. For a type and
  fieldset whose members are all columns that DRF renders without the request, a
  ``ColumnPlan`` names the columns to select and where each member is in a row; the
  attributes DRF renders as stored (text, numbers, booleans, JSON) are copied in one
  ``zip``, and only the others are converted: by their field's own
  ``to_representation``, or a faster equivalent of it where one exists (datetimes in
  the settings' format; tests compare it with DRF's). To-one includes are columns of the
  same query, joined as ``select_related`` joins them for instances, so a document costs
  the queries the instance path costs, whatever the page size.

Anything columns cannot give leaves the whole document to the instance path, unchanged:
a member computed by a method, a property or several fields (``source="*"``), a rendering
that needs the request (a file's URL), a to-many include (prefetched for instances). A
column's value is what the instance's attribute would hold (the same converters read
both); no model served here changes field values while it is loaded.

Plans are cached per serializer class and sparse fieldset (and include tree) in bounded
caches: fieldsets are chosen by clients, so their number is not.
"""

import datetime
import functools
import itertools
import json
from contextlib import nullcontext

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import JSONField
from django.db.models.expressions import Col
from django.db.models.sql.constants import MULTI
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.settings import api_settings

from config import jsoncodec
from config.compiled import STATEMENTS, shape

# DRF fields whose representation of a value of the given type is that value itself
# (None: of any type). An attribute of such a field holding such a value is copied into
# the document as it is, without the field's calls.
_AS_STORED = {
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
    serializers.FloatField.to_representation: float,
    serializers.BooleanField.to_representation: bool,
    serializers.ChoiceField.to_representation: str,
    serializers.JSONField.to_representation: None,
}
# The Python type every backend gives for a column of these model fields (by
# ``get_internal_type``, without a ``from_db_value`` of their own): with a field of
# ``_AS_STORED`` for that type, the column is copied into every row's document unchecked.
_COLUMN_TYPES = {
    **dict.fromkeys(("CharField", "TextField", "SlugField"), str),
    **dict.fromkeys(
        (
            "IntegerField",
            "SmallIntegerField",
            "BigIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "AutoField",
            "SmallAutoField",
            "BigAutoField",
        ),
        int,
    ),
    "BooleanField": bool,
    "FloatField": float,
}
# The DATETIME_FORMAT of config/settings.py: ISO 8601 with microseconds, in UTC marked Z.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
try:  # psycopg loaders of these types (see _loads_natively)
    import psycopg
    from psycopg.postgres import types as _pg_types

    class _JsonbLoader(psycopg.adapt.Loader):
        """``jsonb`` as Django's JSONField reads it: the text, decoded by ``json.loads``;
        by orjson, four times faster, where it gives the same values (it reads a number
        too large for 64 bits as a float, so text with 19 digits in a row is left to
        ``json``, as is anything orjson refuses). tests/jsonapi/test_compiled_reads.py
        compares the two over numbers of every kind."""

        def load(self, data):
            if not jsoncodec.may_hold_long_integers(data):
                try:
                    return orjson.loads(data)
                except orjson.JSONDecodeError:
                    pass
            return json.loads(str(data, "utf-8"))

    _NATIVE_LOADERS = [
        (
            "timestamptz",
            psycopg.adapters.get_loader(_pg_types["timestamptz"].oid, psycopg.pq.Format.TEXT),
        ),
        ("jsonb", _JsonbLoader),
    ]
except ImportError:  # psycopg 2 or SQLite only
    _NATIVE_LOADERS = None
# Plans kept per cache: the fieldsets and include trees clients use, within reason.
PLAN_CACHE_SIZE = 512


def reads_without_request(field):
    """Whether ``field`` renders a value the same in every request: DRF's own reading
    (a text, a number, a date, a choice, JSON), which never looks at the context."""
    field_class = type(field)
    return (
        field_class.to_representation.__module__ == "rest_framework.fields"
        and field_class.get_attribute.__module__ == "rest_framework.fields"
    )


def model_column(field, model):
    """The model field ``field`` reads as it is (a concrete column, not a relation), or
    None when it reads something else: a method, a property, a path, the whole object
    (a field with a ``get_attribute`` of its own, like DRF's ModelField)."""
    if len(field.source_attrs) != 1 or type(field).get_attribute is not Field.get_attribute:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if not model_field.concrete or model_field.is_relation:
        return None
    return model_field


def attribute_plan(field, model):
    """How to render one attribute: (attribute name on the instance or None, whether a
    value may be its own representation, the type whose values are or None for any, the
    field). The name is the model column's when the field reads one directly, so the
    value is taken from the instance's ``__dict__`` without DRF's attribute walk."""
    model_field = model_column(field, model)
    attname = None if model_field is None else model_field.attname
    to_representation = type(field).to_representation
    as_stored = to_representation in _AS_STORED and not getattr(field, "binary", False)
    return attname, as_stored, _AS_STORED.get(to_representation), field


def _fieldset(schema, wanted):
    """``schema``'s attributes and relationships in a sparse fieldset (None: all)."""
    attributes = [
        (member, name)
        for member, name in schema.attributes.items()
        if wanted is None or member in wanted
    ]
    relationships = [
        (member, rel)
        for member, rel in schema.relationships.items()
        if wanted is None or member in wanted
    ]
    return attributes, relationships


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def attribute_plans(serializer_class, wanted):
    """The instance path's attribute plans of a type in a fieldset (``wanted``, a frozenset,
    or None for all), with the fields the class shares between requests; None when an
    attribute renders differently per request, so each request builds its own fields."""
    schema = serializer_class.schema()
    fields = serializer_class.shared_fields()
    attributes, _ = _fieldset(schema, wanted)
    if not all(reads_without_request(fields[name]) for _, name in attributes):
        return None
    return tuple(
        (member, *attribute_plan(fields[name], schema.model)) for member, name in attributes
    )


class ColumnPlan:
    """How a resource object of one type and fieldset is read from a row of columns.

    ``columns`` are ORM paths from the type's model: its id, its attributes (consecutive,
    in member order, so that one ``zip`` copies them), then the ids its to-one
    relationships link to. ``conversions`` are the attributes, by position among the
    attributes, whose values go through their field; ``relationships`` are in member
    order, each with the position of its linkage column (None: to-many, links only).
    """

    def __init__(self, schema, attributes, relationships):
        self.schema = schema
        self.members = tuple(member for member, _, _ in attributes)
        self.conversions = tuple(
            (position, member, field)
            for position, (member, _, field) in enumerate(attributes)
            if field is not None
        )
        self.columns = [schema.id_field, *(column for _, column, _ in attributes)]
        self.relationships = []
        for member, rel in relationships:
            position = None
            if not rel.many:
                position = len(self.columns)
                self.columns.append(linkage_column(rel))
            self.relationships.append((member, rel.resource_type, position))

    @classmethod
    def build(cls, schema, wanted):
        """The plan, or None when a member of the fieldset is not a column read as DRF
        reads it without the request."""
        fields = schema.serializer_class.shared_fields()
        attributes, relationships = _fieldset(schema, wanted)
        readings = []
        for member, name in attributes:
            field = fields[name]
            model_field = model_column(field, schema.model)
            if model_field is None or not reads_without_request(field):
                return None
            converted = None if _copied_as_stored(field, model_field) else field
            readings.append((member, model_field.name, converted))
        return cls(schema, readings, relationships)


def _copied_as_stored(field, model_field):
    """Whether every value of ``model_field``'s column is its own representation by
    ``field`` (anything else goes through ``field.to_representation``, which is exact
    for any value: this only spares the call)."""
    _, as_stored, stored_type, _ = attribute_plan(field, model_field.model)
    if not as_stored:
        return False
    if stored_type is None:
        return True
    column_type = _COLUMN_TYPES.get(model_field.get_internal_type())
    return column_type is stored_type and not hasattr(model_field, "from_db_value")


def linkage_column(rel):
    """The ORM path of the id a to-one relationship links to: the foreign key's own column
    (through the hops of a path like ``product.label``), or the related row's id field
    (joined) when that is not its primary key."""
    if rel.target_id_field == "pk":
        return rel.select_path
    return f"{rel.select_path}__{rel.target_id_field}"


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def column_plan(serializer_class, wanted):
    return ColumnPlan.build(serializer_class.schema(), wanted)


class _Unreadable(Exception):
    """A document plan needs a member or an include that columns cannot give."""


class DocumentPlan:
    """The query and row layout of a collection document read from columns: the primary
    type's columns, then those of each to-one include, prefixed with its path from the
    primary model so that the same query joins them. ``primary`` is (plan, the position in
    the row of each of the plan's columns); ``includes`` mirrors the include tree:
    ((plan, positions), nested includes). A linkage column another type has already placed
    (a track's label and its product's, both ``product__label``) is selected once."""

    def __init__(self, schema, include, wanted):
        self.columns = []
        self.primary = self._place(schema, "", wanted)
        self.includes = self._includes(schema, include, "", wanted)
        self.columns_key = tuple(self.columns)

    def _place(self, schema, prefix, wanted):
        plan = column_plan(schema.serializer_class, wanted.get(schema.type))
        if plan is None:
            raise _Unreadable
        linkage = 1 + len(plan.members)  # the id and the attributes come first
        positions = []
        for index, column in enumerate(plan.columns):
            column = f"{prefix}{column}"
            if index >= linkage and column in self.columns:
                positions.append(self.columns.index(column))
            else:
                positions.append(len(self.columns))
                self.columns.append(column)
        return plan, positions

    def _includes(self, schema, tree, prefix, wanted):
        includes = []
        for member, subtree in tree:
            rel = schema.relationships[member]
            if rel.many:  # prefetched for instances: not a column of this query
                raise _Unreadable
            child = schema.related_schema(member)
            path = f"{prefix}{rel.select_path}__"
            placed = self._place(child, path, wanted)
            includes.append((placed, self._includes(child, subtree, path, wanted)))
        return includes

    def read(self, rows):
        """The rows of a queryset (sliced to a page) as tuples of the plan's columns.
        ``values_list`` keeps its filters, order and joins; prefetches are for instances.
        The SQL is compiled once per shape of query (``compiled.STATEMENTS``)."""
        rows = rows.prefetch_related(None)
        db = rows.db
        connection = connections[db]
        native = _loads_natively(connection)
        found = shape(rows.query, db)
        if found is None:
            return self._first_read(rows, connection, native)[0]
        key = (self.columns_key, native, *found.key)
        kept = STATEMENTS.get(db, key)
        if kept is None:
            with STATEMENTS.first_run(db, key, found) as keep:
                result, reading = self._first_read(rows, connection, native)
            keep(reading)
            return result
        sql, (compiler, converters) = kept
        with connection.cursor() as cursor:
            if native:
                _use_native_loaders(cursor.cursor)
            cursor.execute(sql, found.params)
            return _converted(cursor.fetchall(), compiler, converters)

    def _first_read(self, rows, connection, native):
        """ValuesListIterable's reading (Compiler.results_iter), less the converters of
        the columns psycopg has decoded: the rows, and what reading them again from the
        same SQL needs (the compiler, for its connection's converters; the converters)."""
        compiler = rows.values_list(*self.columns).query.get_compiler(rows.db)
        loading = connection.execute_wrapper(_native_loaders) if native else nullcontext()
        with loading:
            chunks = compiler.execute_sql(MULTI)
        selected = [column for column, *_ in compiler.select[: compiler.col_count]]
        converters = {
            position: (convert, expression)
            for position, (convert, expression) in compiler.get_converters(selected).items()
            if not (native and _loaded_natively(convert, expression))
        }
        rows = _converted(itertools.chain.from_iterable(chunks), compiler, converters)
        return rows, (compiler, converters)


def _converted(rows, compiler, converters):
    if converters:
        return list(map(tuple, compiler.apply_converters(rows, converters)))
    return list(rows)


def _loads_natively(connection):
    """Whether this query may read timestamps and JSON with psycopg's own loaders instead
    of Django's, which parse them in Python: more than a quarter of the time a page of
    tracks took to read, for four timestamps a row, and then a sixth for Django's
    converters, called on each of the two dozen JSON columns of every row, null or not.

    Django's timestamp loader lets psycopg convert a timestamp to the session's time
    zone, then replaces the tzinfo with its own object for that zone: psycopg's gives the
    same instant at the same offset, only with another tzinfo object. The rows of this
    path are only rendered, and the rendering of a datetime depends on its instant and
    offset alone (DRF converts it to the field's time zone first), so the document is the
    same. Django reads ``jsonb`` as text and its JSONField's converter decodes it with
    ``json.loads``; psycopg's loader decodes the same text with the same ``json.loads``,
    in the cursor, for the values that are not null (``_loaded_natively``).
    Only with psycopg 3, aware datetimes, and the session in Django's time zone (as Django
    sets it up)."""
    if connection.vendor != "postgresql" or not settings.USE_TZ or _NATIVE_LOADERS is None:
        return False
    connection.ensure_connection()
    session_zone = connection.connection.info.parameter_status("TimeZone")
    return session_zone == connection.timezone_name


def _native_loaders(execute, sql, params, many, context):
    _use_native_loaders(context["cursor"].cursor)
    return execute(sql, params, many, context)


def _use_native_loaders(cursor):
    for name, loader in _NATIVE_LOADERS:
        cursor.adapters.register_loader(name, loader)


def _loaded_natively(converters, expression):
    """Whether a column's converters only decode the JSON psycopg's loader has decoded:
    a JSONField's own ``from_db_value`` of a plain column, with the standard decoder."""
    field = getattr(expression, "output_field", None)
    return (
        isinstance(expression, Col)
        and isinstance(field, JSONField)
        and type(field).from_db_value is JSONField.from_db_value
        and field.decoder is None
        and converters == [field.from_db_value]
    )


def _frozen(tree):
    return tuple((member, _frozen(subtree)) for member, subtree in tree.items())


def document_plan(schema, include, fields):
    """The plan of a collection of ``schema``'s type with the include tree and sparse
    fieldsets (``{type: members}``) of a request, or None when columns cannot render it."""
    fieldsets = frozenset((name, frozenset(members)) for name, members in fields.items())
    return _document_plan(schema.serializer_class, _frozen(include), fieldsets)


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _document_plan(serializer_class, include, fieldsets):
    try:
        return DocumentPlan(serializer_class.schema(), include, dict(fieldsets))
    except _Unreadable:
        return None


def reading(plan, base_url):
    """The ``CollectionReading`` of ``plan`` for requests to ``base_url`` in the current
    time zone (what it binds), built once for them: building its renderers (the
    converters, the encoded relationships) was a few percent of a request."""
    return _reading(plan, base_url, timezone.get_current_timezone_name())


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _reading(plan, base_url, zone):
    return CollectionReading(plan, base_url)


@receiver(setting_changed)
def _forget_readings(setting, **kwargs):
    """The converters follow the settings' formats and zone (tests change them)."""
    if setting in ("REST_FRAMEWORK", "TIME_ZONE", "USE_TZ"):
        _reading.cache_clear()


class RowRenderer:
    """A ``ColumnPlan`` placed at ``positions`` in a document's rows, bound to a request:
    its link prefix and the converters of its attributes (the current time zone)."""

    def __init__(self, plan, positions, base_url):
        schema = plan.schema
        self.type = schema.type
        self.prefix = f"{base_url}{schema.path}/"
        self.id_index = positions[0]
        start = self.id_index + 1  # the attributes are consecutive, after the id
        self.members = plan.members
        self.attributes = slice(start, start + len(plan.members))
        self.conversions = [
            (member, start + position, converter(field))
            for position, member, field in plan.conversions
        ]
        self.relationships = None
        if plan.relationships:
            self.relationships = EncodedRelationships(
                self.prefix,
                [
                    (member, resource_type, None if position is None else positions[position])
                    for member, resource_type, position in plan.relationships
                ],
            )

    def render(self, row):
        """The resource object of ``row``, member for member as the instance path renders
        the same row."""
        resource_id = str(row[self.id_index])
        self_link = self.prefix + resource_id
        resource = {"type": self.type, "id": resource_id}
        attributes = dict(zip(self.members, row[self.attributes], strict=True))
        for member, index, convert in self.conversions:
            value = row[index]
            if value is not None:  # DRF renders None as null without asking the field
                attributes[member] = convert(value)
        if attributes:
            resource["attributes"] = attributes
        if self.relationships:
            resource["relationships"] = self.relationships.render(row, resource_id)
        resource["links"] = {"self": self_link}
        return resource


class EncodedRelationships:
    """The ``relationships`` member of a type's rows, encoded once: the JSON orjson writes
    for it with marks where a row's id and its to-one linkage go, filled in per row by one
    bytes formatting and handed to orjson as a ``Fragment``. Building the same dicts for
    every row (two links per relationship, the linkage) was a tenth of a page's time.
    ``relationships`` are (member, type, index of the related id in a row or None)."""

    ID = "\ue000"  # private-use characters: in no URL (hosts are checked) or member name

    def __init__(self, prefix, relationships):
        sample, self.linkage, marks = {}, [], {self.ID.encode(): b"%(id)s"}
        for member, resource_type, index in relationships:
            link = f"{prefix}{self.ID}"
            entry = {
                "links": {"self": f"{link}/relationships/{member}", "related": f"{link}/{member}"}
            }
            if index is not None:
                key = f"d{len(self.linkage)}".encode()
                mark = chr(0xE001 + len(self.linkage))
                entry["data"] = mark
                marks[orjson.dumps(mark)] = b"%(" + key + b")s"
                self.linkage.append((key, index, b'{"type":' + orjson.dumps(resource_type)))
            sample[member] = entry
        template = orjson.dumps(sample).replace(b"%", b"%%")
        for mark, slot in marks.items():
            template = template.replace(mark, slot)
        self.template = template

    def render(self, row, resource_id):
        values = {b"id": orjson.dumps(resource_id)[1:-1]}
        for key, index, opening in self.linkage:
            related_id = row[index]
            values[key] = (
                b"null"
                if related_id is None
                else opening + b',"id":' + orjson.dumps(str(related_id)) + b"}"
            )
        return orjson.Fragment(self.template % values)


class CollectionReading:
    """A ``DocumentPlan`` bound to a request: ``read`` fetches a page's rows (or the one
    row of a resource), ``document`` renders them with their included resources, in the
    instance path's order and each once (documents.DocumentBuilder._include), ``single``
    the one."""

    def __init__(self, plan, base_url):
        self.read = plan.read
        self.primary = RowRenderer(*plan.primary, base_url)

        def bind(includes):
            return [(RowRenderer(*placed, base_url), bind(nested)) for placed, nested in includes]

        self.includes = bind(plan.includes)

    def document(self, rows):
        data = [self.primary.render(row) for row in rows]
        return self._with_included({"data": data}, rows, data)

    def single(self, row):
        """The document of one resource, as ``DocumentBuilder.single`` renders it."""
        resource = self.primary.render(row)
        document = {"data": resource, "links": {"self": resource["links"]["self"]}}
        return self._with_included(document, [row], [resource])

    def _with_included(self, document, rows, resources):
        """``document`` with the resources ``rows`` include, when the request includes any."""
        if self.includes:
            included = []
            seen = {(resource["type"], resource["id"]) for resource in resources}
            self._include(self.includes, rows, seen, included)
            document["included"] = included
        return document

    def _include(self, includes, rows, seen, included):
        for renderer, nested in includes:
            index = renderer.id_index
            related = [row for row in rows if row[index] is not None]
            for row in related:
                key = (renderer.type, str(row[index]))
                if key not in seen:
                    seen.add(key)
                    included.append(renderer.render(row))
            if nested:
                self._include(nested, related, seen, included)


def converter(field):
    """How to turn a column's value (not None) into ``field``'s representation of it."""
    if type(field).to_representation is serializers.DateTimeField.to_representation:
        fast = _datetime_converter(field)
        if fast is not None:
            return fast
    return field.to_representation


def _datetime_converter(field):
    """DRF's DateTimeField.to_representation for the settings' format, without strftime
    (which spends most of its time on ``%f``): the aware value in the field's time zone,
    as isoformat writes it to the microsecond, then Z. A year before 1000 (which
    strftime does not pad), a naive value or an overflow is left to DRF."""
    if getattr(field, "format", api_settings.DATETIME_FORMAT) != DATETIME_FORMAT:
        return None
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return None
    fallback = field.to_representation
    # The tzinfo of values already in the zone (UTC: psycopg reads timestamps in the
    # session's zone, Django's, with datetime.UTC), which need no converting.
    in_zone = {zone, datetime.UTC} if getattr(zone, "key", None) == "UTC" else {zone}

    def convert(value):
        if type(value) is not datetime.datetime:
            return fallback(value)
        if value.tzinfo in in_zone:
            local = value
        elif value.utcoffset() is None:
            return fallback(value)
        else:
            try:
                local = value.astimezone(zone)
            except OverflowError:
                return fallback(value)
        if local.year >= 1000:
            return local.isoformat(timespec="microseconds")[:26] + "Z"
        return fallback(value)

    return convert
