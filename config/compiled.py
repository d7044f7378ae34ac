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
        query = compiled[db]
        params = [*query.params[: query.position], value, *query.params[query.position + 1 :]]
        with connections[db].cursor() as cursor:
            cursor.execute(query.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        (row,) = query.compiler.results_iter([[row]])
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
    ``select_related`` rows."""

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
