"""What the database says when it refuses a write: which rule, on which table and columns.

PostgreSQL (psycopg) reports an SQLSTATE with diagnostics: the constraint's and table's
names, and a detail naming the key's columns. SQLite reports a message only, listing the
``table.column`` pairs of a uniqueness failure. Both are read here, for the error handler
to answer a race's loser as it would have answered the same request a moment later.
"""

import re
from typing import NamedTuple

_KINDS = {"23505": "unique", "23503": "foreign_key"}
# Serialization failure, deadlock, lock not available: the request may simply be sent again.
_CONCURRENCY_FAILURES = {"40001", "40P01", "55P03"}
_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


class Violation(NamedTuple):
    kind: str  # "unique", "foreign_key" or "other"
    table: str | None = None
    constraint: str | None = None
    columns: tuple = ()


def violation(exc):
    """The rule a Django ``IntegrityError`` reports broken."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:
        kind = _KINDS.get(getattr(cause, "sqlstate", None), "other")
        key = _KEY_COLUMNS.match(diag.message_detail or "")
        columns = tuple(column.strip(' "') for column in key[1].split(",")) if key else ()
        return Violation(kind, diag.table_name, diag.constraint_name, columns)
    message = str(exc)
    if unique := _SQLITE_UNIQUE.match(message):
        pairs = [item.strip().rpartition(".") for item in unique[1].split(",")]
        tables = {table for table, _, _ in pairs}
        table = tables.pop() if len(tables) == 1 else None
        return Violation("unique", table, None, tuple(column for _, _, column in pairs))
    if message.startswith("FOREIGN KEY constraint failed"):
        return Violation("foreign_key")
    return Violation("other")


def is_concurrency_failure(exc):
    """True when the database gave up on a transaction because of a concurrent one."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in _CONCURRENCY_FAILURES or "database is locked" in str(exc)


def unique_fields(model, found):
    """The fields of ``model``'s uniqueness rule that ``found`` reports broken, or None:
    matched by constraint name, else by the columns the database names."""
    if found.table != model._meta.db_table:
        return None
    rules = [
        (constraint.name, constraint.fields) for constraint in model._meta.total_unique_constraints
    ]
    rules += [(None, tuple(fields)) for fields in model._meta.unique_together]
    rules += [(None, (field.name,)) for field in model._meta.local_fields if field.unique]
    for name, fields in rules:
        columns = {model._meta.get_field(field).column for field in fields}
        if (name and name == found.constraint) or columns == set(found.columns):
            return fields
    return None


def referencing_field(model, found):
    """The foreign key of ``model`` that ``found`` reports pointing at no row, or None:
    by the name Django gives its constraint (``<table>_<column>_<hash>_fk_...``, whichever
    side of it failed), else by the column the database names."""
    if found.table != model._meta.db_table:
        return None
    for field in model._meta.local_fields:
        if not field.is_relation:
            continue
        prefix = re.escape(f"{found.table}_{field.column}_")
        if re.match(rf"{prefix}[0-9a-f]{{8}}_fk_", found.constraint or ""):
            return field.name
        if found.columns == (field.column,):
            return field.name
    return None
