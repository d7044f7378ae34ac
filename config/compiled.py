"""Queries compiled to SQL once and run again with other values."""

import contextlib
import threading
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, router
from django.db.models.query import get_related_populators


class _Open(str):
    """Stands in for the open value while the query is compiled: a ``str`` that lookups
    pass through unchanged, found again among the parameters by identity."""


OPEN = _Open("open value")


class CompiledQuery:
    """``make(value)``, a queryset filtered on one value, compiled once per database.

    ``first(value)`` runs the compiled SQL with ``value`` in place and builds the instance
    as Django's ``ModelIterable`` does, from the same compiler's layout (``select``,
    ``klass_info``, ``annotation_col_map``): its ``select_related`` rows, its annotations,
    the fields' converters. It is for the one query every API request runs, the token's,
    whose joins and annotation Django spends longer compiling than PostgreSQL spends
    running it once prepared. ``tests/jsonapi/test_auth.py`` compares what it builds with
    what the ORM builds.
    """

    def __init__(self, model, make, kept=None):
        self.model = model
        self.make = make
        self.kept = kept  # a config.token_cache.KeptRows, to skip the query while it may
        # Per thread, like Django's connections: a compiler keeps the connection it was
        # compiled for, whose converters it hands out.
        self._local = threading.local()

    def first(self, value):
        db = router.db_for_read(self.model)
        compiled = self._local.__dict__.setdefault("compiled", {})
        if db not in compiled:
            compiled[db] = self._compile(db)
        query = compiled[db]
        connection = connections[db]
        row, since = self.kept.get(connection, value) if self.kept else (None, None)
        if row is None:
            params = [*query.params[: query.position], value, *query.params[query.position + 1 :]]
            with connection.cursor() as cursor:
                cursor.execute(query.sql, params)
                row = cursor.fetchone()
            if row is None:
                return None
            if self.kept:
                self.kept.put(connection, value, row, since)
        if query.converters:
            (row,) = query.compiler.apply_converters([row], query.converters)
        instance = query.model.from_db(db, query.names, row[query.columns])
        for populator in query.populators:
            populator.populate(row, instance)
        for name, index in query.compiler.annotation_col_map.items():
            setattr(instance, name, row[index])
        return instance

    def _compile(self, db):
        return _Compiled(self.make(OPEN)[:1].query.get_compiler(using=db), db)


class _Compiled:
    """A compiled query and its row layout, worked out once: the SQL and its parameters
    (the open one at ``position``), the primary model's columns, the populators of its
    ``select_related`` rows, the converters of its columns."""

    def __init__(self, compiler, db):
        self.compiler = compiler
        self.sql, self.params = compiler.as_sql()
        (self.position,) = [index for index, param in enumerate(self.params) if param is OPEN]
        info = compiler.klass_info
        fields = info["select_fields"]
        self.columns = slice(fields[0], fields[-1] + 1)
        self.model = info["model"]
        self.names = [column[0].target.attname for column in compiler.select[self.columns]]
        self.populators = get_related_populators(info, compiler.select, db)
        selected = [column for column, *_ in compiler.select[: compiler.col_count]]
        self.converters = compiler.get_converters(selected)


class Shape(NamedTuple):
    """What decides the SQL Django compiles for a query but its parameters' values:
    ``key`` (the WHERE clause's SQL, with its placeholders, in ``where``; the joins; the
    order; the slice), and those values, ``params``."""

    key: tuple
    where: str
    params: tuple


def shape(query, db):
    """The ``Shape`` of ``query``. None for a query with more than filters, joins, an
    order and a slice (a filter on an aggregate or a window function too: Django moves
    those out of the WHERE clause, with their values), or one that matches nothing
    (Django runs no SQL for it)."""
    if (
        query.annotations
        or query._filtered_relations
        or query.extra
        or query.extra_tables
        or query.extra_order_by
        or query.select
        or query.values_select
        or query.combinator
        or query.group_by is not None
        or query.select_for_update
        or query.subquery
        or not all(isinstance(ordering, str) for ordering in query.order_by)
        or query.where.contains_aggregate
        or query.where.contains_over_clause
    ):
        return None
    try:
        where, params = query.get_compiler(db).compile(query.where)
    except FullResultSet:
        where, params = "", ()
    except EmptyResultSet:
        return None
    joins = tuple(
        (
            alias,
            join.identity,
            join.join_type,
            getattr(join, "nullable", None),
            query.alias_refcount[alias],
        )
        for alias, join in query.alias_map.items()
    )
    key = (
        query.model,
        where,
        joins,
        query.order_by,
        query.default_ordering,
        query.standard_ordering,
        query.distinct,
        query.distinct_fields,
        query.low_mark,
        query.high_mark,
    )
    return Shape(key, where, tuple(params))


class KeptStatements:
    """The SQL of queries built anew for every request, kept by their ``shape``.

    A collection's queryset is built from its request (the organization, the filters, the
    sort, the page), and Django compiled it to SQL again every time: selecting a page's
    ninety columns and compiling them and the COUNT took a third of a page's time.
    Querysets that differ only in their parameters' values compile to the same SQL, so
    the first compilation's SQL is kept (per thread and database, like the connections
    that run it, and the compilers a reading keeps) and run again with the next query's
    parameters, which are its WHERE clause's: a statement is only kept when the
    parameters it was first run with were exactly those, of the same types and in the
    same order, and its SQL holds the WHERE clause as compiled, so nothing else in it (a
    join's condition, an annotation) can hold a value of its own.
    """

    def __init__(self, size):
        self.size = size
        self._local = threading.local()

    def get(self, db, key):
        return self._local.__dict__.get(db, {}).get(key)

    @contextlib.contextmanager
    def first_run(self, db, key, found):
        """Run a query of the ``Shape`` ``found`` the Django way inside this block;
        ``keep(reading)`` after it keeps the one statement it ran under ``key``, with
        ``reading`` (what running it again needs), when its parameters were the WHERE
        clause's."""
        executed = []

        def record(execute, sql, statement_params, many, context):
            executed.append((sql, statement_params))
            return execute(sql, statement_params, many, context)

        def keep(reading=None):
            if len(executed) != 1 or not self.size:
                return
            sql, params = executed[0][0], tuple(executed[0][1] or ())
            if (
                params == found.params
                and list(map(type, params)) == list(map(type, found.params))
                and found.where in sql
            ):
                kept = self._local.__dict__.setdefault(db, {})
                if len(kept) >= self.size:  # clients choose the shapes: forget the oldest
                    del kept[next(iter(kept))]
                kept[key] = sql, reading

        with connections[db].execute_wrapper(record):
            yield keep

    def count(self, queryset):
        """``queryset.count()``, from kept SQL once its shape has been counted."""
        db = queryset.db
        found = None if queryset._result_cache is not None else shape(queryset.query, db)
        if found is None:
            return queryset.count()
        key = ("count", *found.key)
        kept = self.get(db, key)
        if kept is not None:
            with connections[db].cursor() as cursor:
                cursor.execute(kept[0], found.params)
                return cursor.fetchone()[0]
        with self.first_run(db, key, found) as keep:
            total = queryset.count()
        keep()
        return total


STATEMENTS = KeptStatements(size=512)
