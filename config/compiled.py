"""A query compiled to SQL once and run again with another value."""

import threading

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

    def __init__(self, model, make):
        self.model = model
        self.make = make
        # Per thread, like Django's connections: a compiler keeps the connection it was
        # compiled for, whose converters it hands out.
        self._local = threading.local()

    def first(self, value):
        db = router.db_for_read(self.model)
        compiled = self._local.__dict__.setdefault("compiled", {})
        if db not in compiled:
            compiled[db] = self._compile(db)
        compiler, sql, params, position = compiled[db]
        params = [*params[:position], value, *params[position + 1 :]]
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        (row,) = compiler.results_iter([[row]])
        info = compiler.klass_info
        fields = info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in compiler.select[start:end]]
        instance = info["model"].from_db(db, names, row[start:end])
        for populator in get_related_populators(info, compiler.select, db):
            populator.populate(row, instance)
        for name, index in compiler.annotation_col_map.items():
            setattr(instance, name, row[index])
        return instance

    def _compile(self, db):
        queryset = self.make(OPEN)[:1]
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        (position,) = [index for index, param in enumerate(params) if param is OPEN]
        return compiler, sql, params, position
