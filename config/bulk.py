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

import contextlib
import gc
import sys
from concurrent.futures import ThreadPoolExecutor

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models import signals
from django.db.models.base import Model, ModelState
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from . import jsoncodec
from .jsonapi.exceptions import member_errors
from .jsonapi.serializers import member_error, model_errors, required
from .validation import (
    REMEMBERED_TYPES,
    FieldVerdicts,
    clean_for_write,
    remember_for_shape,
    remembered,
    tuple_getter,
)


class RowValidator:
    """Validates rows of ``serializer_class``'s type given as ``{member: value}``."""

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
        self.derived = frozenset(f.name for f in self.model._meta.fields if not f.editable)
        self.verdicts = FieldVerdicts(self.model, self.derived)
        self._members = {  # member -> (field name, field, its source, its verdicts)
            member: (name, self.fields[name], self.fields[name].source, {})
            for member, name in self.schema.writable_attributes.items()
        }
        self._settled_verdicts = {}  # the names of the values judged valid -> see read
        # Sources whose serializer field's validators cover the model field's (see _read)
        self._validated = frozenset(
            source
            for _, field, source, _ in self._members.values()
            if self.verdicts.covers(source, field.validators)
        )
        # The values of these sources are judged by clean() on the row (see read)
        self._unjudged = frozenset(
            source for _, _, source, _ in self._members.values() if not self.verdicts.judges(source)
        )
        prototype = self.model()
        self._defaults = {k: v for k, v in prototype.__dict__.items() if k != "_state"}
        self._made_defaults = [  # defaults made anew for each row (a list, a dict)
            field
            for field in self.model._meta.concrete_fields
            if field.has_default() and callable(field.default)
        ]
        self._plain_init = not (
            signals.pre_init.has_listeners(self.model)
            or signals.post_init.has_listeners(self.model)
        )
        # Fields that setattr() sets in the instance's __dict__ as it is, under their name
        # (no descriptor of their own setting them: not a relation, a file, a property)
        self._plain_fields = frozenset(
            field.attname
            for field in self.model._meta.concrete_fields
            if field.attname == field.name
            and type(getattr(self.model, field.attname, None)) is DeferredAttribute
        )
        self._foreign_keys = {  # name -> (field, its model, the related field's attname)
            field.name: (field, field.related_model, field.target_field.attname)
            for field in self.model._meta.concrete_fields
            if field.many_to_one and _unrouted(self.model, field.related_model)
        }

    def read(self, values, relationships=()):
        """``values`` (attribute member -> value; the members in ``relationships`` are
        left out) read by the serializer's fields, as the API reads a document's
        attributes, and each value read judged by its model field, as the model's
        ``clean_fields`` judges it (``FieldVerdicts.judge``): ``(field
        values, problems, judged)``, a problem being ``(member path, message)``, the
        values those the model fields cleaned, and ``judged`` what ``clean`` takes of
        their verdicts, for an instance holding those values as they are (see
        ``FieldVerdicts.clean_fields``). One verdict per member and value, remembered."""
        attrs, detail, failed, checked = {}, {}, None, []
        members = self._members
        for member, value in values.items():
            found = members.get(member)
            if found is None:  # (never a relationship: JSON:API gives fields one namespace)
                if member in relationships:
                    continue
                section = "relationships" if member in self.schema.relationships else "attributes"
                detail[f"/{member}"] = [member_error(self.schema, section, member)]
                continue
            name, field, source, verdicts = found
            kind = type(value)  # remembered(), its commonest case first
            verdict = verdicts.get((kind, value)) if kind in REMEMBERED_TYPES else None
            if verdict is None:
                verdict = remembered(verdicts, value, self._read, field, source, value)
            valid, result, errors, holds = verdict
            if not valid:
                detail[name] = result
                continue
            attrs[source] = result
            if errors is not None:
                failed = failed or {}
                failed[source] = (result, errors)
            elif holds:
                checked.append(source)
        settled = frozenset(attrs if failed is None else attrs.keys() - failed.keys())
        if self._unjudged:
            settled -= self._unjudged
        key = (settled, frozenset(checked))
        if failed is not None:
            return attrs, self.problems(detail), (*key, failed)
        judged = self._settled_verdicts.get(key)  # one object for the rows of the
        if judged is None:  # same members, pickled once a message
            judged = (*key, None)
            remember_for_shape(self._settled_verdicts, key, judged)
        return attrs, self.problems(detail), judged

    def _read(self, field, source, value):
        """``field``'s verdict on ``value`` and its model field's on the value read:
        ``(True, the value cleaned, None, whether the check constraints on its field
        alone hold for it)``, ``(True, the value read, the model field's errors,
        False)``, or ``(False, the serializer field's error detail, None, False)``."""
        try:
            value = field.run_validation(value)
        except ValidationError as exc:
            return False, exc.detail, None, False
        judged = self.verdicts.judge(source, value, source in self._validated)
        if judged is None:
            return True, value, None, False
        if not judged[0]:
            return True, value, judged[1], False
        cleaned = judged[1]  # held only as a value never changed in place (see unsettled)
        return (
            True,
            cleaned,
            None,
            type(cleaned) in REMEMBERED_TYPES and self.verdicts.holds(source, cleaned),
        )

    def missing(self, values):
        """The problems of ``values`` as a new row: the required members it lacks."""
        writable = self.schema.writable_attributes
        detail = {
            writable[member]: [required(writable[member])["required"]]
            for member in self.required
            if member not in values
        }
        return self.problems(detail)

    def new(self, attrs):
        """A new instance holding ``attrs`` (field name -> value) over the defaults:
        ``model(**attrs)``, without its per-field work when no signal watches it."""
        if not self._plain_init:
            return self.model(**attrs)
        instance = self.model.__new__(self.model)
        instance.__dict__.update(self._defaults)
        instance._state = ModelState()
        for field in self._made_defaults:
            instance.__dict__[field.attname] = field.get_default()
        if self._plain_fields.issuperset(attrs):
            instance.__dict__.update(attrs)  # (what setattr() does, for each)
        else:
            for name, value in attrs.items():
                setattr(instance, name, value)
        return instance

    def stored(self, names, values):
        """The instance of a stored row read as ``values`` of columns ``names``:
        ``Model.from_db``, without its per-field work when no signal or override of
        ``from_db`` would see the difference."""
        if not self._plain_init or self.model.from_db.__func__ is not Model.from_db.__func__:
            return self.model.from_db(None, names, values)
        instance = self.model.__new__(self.model)
        instance.__dict__.update(zip(names, values, strict=True))
        instance._state = ModelState()
        instance._state.adding = False
        return instance

    def relate(self, instance, name, related):
        """``setattr(instance, name, related)`` for the foreign key ``name`` and an
        instance of its model, as the descriptor sets it (the key's value, the related
        instance cached) without the checks it makes for every row: that ``related`` is
        of the key's model (checked here, more cheaply) and that the routers allow the
        relation, which they do when they send both models' writes to the default
        database and none has a say on relations (``_unrouted``), and both rows are on
        the default database (``instance`` not placed yet: the descriptor would place it
        on ``related``'s, where saving it unplaced puts it too)."""
        found = self._foreign_keys.get(name)
        if (
            found is None
            or type(related) is not found[1]
            or instance._state.db is not None
            or related._state.db not in (None, DEFAULT_DB_ALIAS)
        ):
            setattr(instance, name, related)
            return
        field, _, target = found
        instance.__dict__[field.attname] = getattr(related, target)
        field.set_cached_value(instance, related)

    def clean(self, instance, loaded=(), only=None, judged=None):
        """The model's validation of ``instance`` short of uniqueness, as the API's write
        path runs it; ``loaded``: foreign keys holding rows just read; ``only``: on an
        instance from ``new``, the fields set (the defaults are judged once); ``judged``:
        the verdicts ``read`` gave the values ``instance`` was given, which it holds as
        they are (the fields found valid are not judged again). Returns the problems."""
        try:
            clean_for_write(instance, self.derived, loaded, self.verdicts, only, judged)
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


def _unrouted(*models):
    """Whether the routers leave relations between ``models`` to Django's default: both
    written to the default database, and no router's ``allow_relation``."""
    return not any(hasattr(r, "allow_relation") for r in router.routers) and all(
        router.db_for_write(model) == DEFAULT_DB_ALIAS for model in models
    )


@contextlib.contextmanager
def fewer_collections(threshold=100_000):
    """Python's cyclic garbage collector, run less during a bulk load.

    A load allocates millions of objects that are no cyclic garbage (cells, rows,
    instances, remembered verdicts). With the default thresholds the collector runs
    after every 700 more of them, thousands of times in a load, its full collections
    walking every object alive (Django's own, the remembered verdicts): an eighth of a
    load's time. The objects alive when the load starts are frozen (``gc.freeze``: never
    walked again) and a collection comes after ``threshold`` more objects; cyclic garbage
    is still collected, every batch or two, so memory stays flat.
    """
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(threshold, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not frozen:  # (a caller's own freeze, which this one joined, stands)
            gc.unfreeze()


ANALYZED_AFTER = 10_000  # rows written by a load, after which its tables are analyzed


def analyze(model_classes):
    """Refresh PostgreSQL's statistics of the tables of ``model_classes``, after a load
    wrote many of their rows, as its manual advises after populating a database: until
    autovacuum comes to them (later, if at all: it may be off), the planner takes a table
    just loaded for what it was before, empty perhaps, and plans the next reads of it
    (the API's, a re-run's) for that. It reads a sample of bounded size. Elsewhere,
    nothing."""
    connection = connections[router.db_for_write(model_classes[0])]
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    tables = ", ".join(quote(model._meta.db_table) for model in model_classes)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


@contextlib.contextmanager
def custom_plans(using="default"):
    """PostgreSQL planning a bulk load's statements for their own values every time.

    Its statements come again and again with the same text (a batch's products by UPC,
    its stored tracks), so the connection prepares them (DATABASE_PREPARE_THRESHOLD), and
    after five runs PostgreSQL may settle on a generic plan that ignores the values: for a
    batch's ``IN`` lists it chose plans that made a re-run a third slower. A request's
    statements gain from the generic plan; a batch's planning is nothing beside its rows.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")


class WriteBehind:
    """Writes a bulk load's batches in a thread of its own, on a connection of its own,
    while the loader validates the next batch: PostgreSQL works on one batch while
    Python works on the next (the thread waits on the socket without holding the GIL).

    One write at a time, in the order given; ``wait()`` gives the last write's result
    (raising its exception). Each write commits on the thread's connection, so the
    loader's reads see a batch once ``wait()`` has returned it, and must not depend on
    the batch still being written (the loader waits first when they would). Only outside
    a transaction (``for_load``): inside one, a load's reads must see its own writes.

    While it is open, a thread waiting for the GIL gets it after ``SWITCH_INTERVAL``
    rather than Python's 5 ms: the writer waits for it after every statement and every
    piece of a COPY PostgreSQL has taken, while the loader validates, and those waits
    made up most of a batch's writing (its products' five statements took 25 ms).
    """

    SWITCH_INTERVAL = 0.0005  # seconds

    def __init__(self):
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer")
        self._pending = None
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, self.SWITCH_INTERVAL))

    @classmethod
    def for_load(cls, using="default"):
        """A writer for a load on ``using``, or None where batches must be written in
        turn: inside a transaction, or on a database whose writers lock out its readers."""
        connection = connections[using]
        if (
            connection.vendor != "postgresql"
            or connection.in_atomic_block
            or not connection.get_autocommit()
        ):
            return None
        return cls()

    def submit(self, write, *args):
        """Run ``write(*args)`` once the write before it is done."""
        if self._pending is not None:
            raise RuntimeError("wait() for the write before.")
        self._pending = self._thread.submit(write, *args)

    def wait(self):
        """The result of the write submitted last (None if none is pending)."""
        pending, self._pending = self._pending, None
        return None if pending is None else pending.result()

    def close(self):
        """Wait for the write pending, if any, and close the thread and its connection
        (a write under way is not interrupted: Ctrl-C waits for its COMMIT)."""
        try:
            if self._pending is not None:
                self._pending.exception()  # (its outcome is the caller's, who did not wait)
        finally:
            sys.setswitchinterval(self._interval)
            try:
                self._thread.submit(connections.close_all).result()
            finally:
                self._thread.shutdown()


def upsert(model, instances, unique_fields, update_fields):
    """Insert ``instances``, updating ``update_fields`` of the stored rows they clash
    with on ``unique_fields`` (INSERT ... ON CONFLICT DO UPDATE); their primary keys are
    not read back.

    On PostgreSQL the rows are streamed with COPY into a temporary table, then moved
    with one statement (``_staged``). Elsewhere: ``bulk_create``.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            instances,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        return
    meta, quote = model._meta, connection.ops.quote_name
    keys = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in (meta.get_field(name).column for name in update_fields)
    )
    with _staged(connection, model, instances) as (cursor, move, _):
        cursor.execute(f"{move} ON CONFLICT ({keys}) DO UPDATE SET {updates}")


def insert(model, instances, key):
    """Insert ``instances``, new rows of a model whose primary key the database sets,
    and give each its key and saved state: a row clashing with a stored one is refused
    (``IntegrityError``), the whole statement with it. ``key``: a unique field the rows
    all hold, by which the keys the database returns are matched with the instances.
    On PostgreSQL the rows are streamed with COPY (``_staged``), their values as they
    are, without ``bulk_create``'s ``pre_save`` and preparing of each value (but the
    times Django sets on save); elsewhere: ``bulk_create``."""
    meta = model._meta
    field = meta.get_field(key)
    if not field.unique or not meta.pk.db_returning:
        raise ValueError(f"{model.__name__}.{key} is not unique, or its key is not the database's.")
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances)
        return
    quote = connection.ops.quote_name
    with _staged(connection, model, instances) as (cursor, move, stamp):
        cursor.execute(f"{move} RETURNING {quote(meta.pk.column)}, {quote(field.column)}")
        keys = {value: pk for pk, value in cursor.fetchall()}
        found = [keys.get(getattr(instance, field.attname)) for instance in instances]
        if None in found or len(keys) != len(instances):  # (rolled back with the rows)
            raise ValueError(f"Rows of {model.__name__} not told apart by {key}.")
    for instance, pk in zip(instances, found, strict=True):
        instance.pk = pk
        stamp(instance)
        instance._state.adding = False
        instance._state.db = connection.alias


def copy_new(model, instances):
    """Insert ``instances``, new rows whose primary keys are not read back: on
    PostgreSQL with one COPY into the table, refused whole (``IntegrityError``) when a
    row clashes with a stored one; elsewhere: ``bulk_create``. Staging them as ``upsert``
    does cost PostgreSQL twice the writing."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances)
        return
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        _copy(cursor, model, connection.ops.quote_name(model._meta.db_table), instances)


@contextlib.contextmanager
def _staged(connection, model, instances):
    """``instances`` streamed with COPY into a temporary table like ``model``'s, and
    ``(a cursor, the INSERT ... SELECT moving them into the table, a function giving an
    instance the times its row was stamped with)`` for the caller to complete and run,
    in one transaction; the temporary table is emptied after."""
    quote = connection.ops.quote_name
    table, stage = quote(model._meta.db_table), quote(f"staged_{model._meta.db_table}")
    # One transaction: rows staged by a statement that failed are not left for the next.
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        names, times = _copy(cursor, model, stage, instances, create=table)
        move = f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}"
        yield cursor, move, lambda instance: instance.__dict__.update(times)
        cursor.execute(f"TRUNCATE {stage}")


def _copy(cursor, model, table, instances, create=None):
    """Stream ``instances`` with COPY into ``table`` (quoted; ``create``: created first,
    if missing, as a temporary table like this one): ``(the columns written, as SQL; the
    times set on save, by attname)``.

    Django's ``bulk_create`` prepares every value of every row in Python (``pre_save``,
    ``get_db_prep_save``), the slowest part of a bulk load. Here a value goes as it is,
    but JSON, dumped by orjson, and the times Django sets on save, as text.
    """
    meta = model._meta
    now = timezone.now()
    # A row is its instance's values as one C call makes the tuple of them, the times set
    # on save last, then each JSON value dumped in its place.
    columns, attnames, stamped, dumped = [], [], [], []
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        if set_on_save(field):
            stamped.append(field)
            continue
        if isinstance(field, models.JSONField) and field.encoder is None:
            dumped.append(len(columns))
        columns.append(field.column)
        attnames.append(field.attname)
    columns += [field.column for field in stamped]
    values = tuple_getter(attnames)
    # The time as the text COPY reads: formatting a datetime took psycopg two thirds of
    # a row's formatting, every row.
    stamps = [now.isoformat()] * len(stamped)
    names = ", ".join(cursor.db.ops.quote_name(column) for column in columns)
    if create is not None:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} AS "
            f"SELECT {names} FROM {create} WITH NO DATA"
        )
    # (psycopg's COPY, not Django's: its errors are made Django's, an IntegrityError say)
    with cursor.db.wrap_database_errors, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for instance in instances:
            try:
                row = [*values(instance.__dict__), *stamps]
            except KeyError:  # a value deferred, or not set yet
                row = [*(getattr(instance, attname) for attname in attnames), *stamps]
            for index in dumped:
                if row[index] is not None:
                    row[index] = jsoncodec.dumps(row[index]).decode()
            copy.write_row(row)
    return names, dict.fromkeys((field.attname for field in stamped), now)


def set_on_save(field):
    """Whether Django sets ``field`` to the time on save (``auto_now``, ``auto_now_add``)."""
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
