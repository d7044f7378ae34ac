"""Deciding a check constraint's condition in Python, for a row about to be written.

Django validates each check constraint with a query of its own (``SELECT 1 WHERE ...``
inside a savepoint: three statements). Most of ours are plain comparisons between a row's
own fields and constants, which Python decides exactly as the database does. ``decide``
answers True, False or None (SQL's unknown, which a CHECK lets pass, as Django's
validation does) and raises ``Undecidable`` for anything it cannot decide alike: a join,
a function, the ordering of text (a collation's), a JSON value. Those are left to the
database's query.
"""

import datetime
import decimal
import re
import uuid

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Q, Value
from django.db.models.constants import LOOKUP_SEP


class Undecidable(Exception):
    """The condition needs the database to be decided alike."""


# Kinds of values a comparison may relate; values of different kinds are left undecided.
_KINDS = (
    (bool, "bool"),
    ((int, float, decimal.Decimal), "number"),
    (str, "text"),
    (datetime.datetime, "datetime"),  # before date: a datetime is a date
    (datetime.date, "date"),
    (datetime.time, "time"),
    (datetime.timedelta, "duration"),
    (uuid.UUID, "uuid"),
)
_ORDERED_KINDS = {"number", "datetime", "date", "time", "duration"}


def decide(condition, instance):
    """The truth of ``condition`` (a ``Q``) for ``instance``: True, False or None."""
    return _plan(condition, "judge")(instance)


def referenced_fields(condition):
    """The names of the fields ``condition`` refers to (Django skips a constraint when
    validation excludes one of them)."""
    return _plan(condition, "fields")


# A condition's parts, taken apart once (conditions are the models' own, long-lived):
# id(condition) -> (condition, judge, fields).
_plans = {}


def _plan(condition, part):
    plan = _plans.get(id(condition))
    if plan is None or plan[0] is not condition:
        plan = (condition, _judge(condition), frozenset(_fields(condition)))
        _plans[id(condition)] = plan
    return plan[1] if part == "judge" else plan[2]


def _judge(condition):
    """A function deciding ``condition`` for an instance, as ``decide`` says."""
    if isinstance(condition, Q):
        if condition.connector not in (Q.AND, Q.OR):
            return _undecidable(condition.connector)  # XOR: left to the database
        children = [_judge(child) for child in condition.children]
        combine = _all if condition.connector == Q.AND else _any
        negated = condition.negated
        if len(children) == 1 and not negated:
            return children[0]  # (the commonest condition: one lookup)

        def judge(instance):
            result = combine([child(instance) for child in children])
            return None if result is None else (not result if negated else result)

        return judge
    if isinstance(condition, tuple):
        return _lookup(*condition)

    return _undecidable(condition)


def _fields(condition):
    if isinstance(condition, Q):
        return {name for child in condition.children for name in _fields(child)}
    if not isinstance(condition, tuple):
        return set()  # an expression: undecidable here, Django's validation names its fields
    path, expected = condition
    names = {path.split(LOOKUP_SEP)[0]}
    if isinstance(expected, F):
        names.add(expected.name.split(LOOKUP_SEP)[0])
    return names


def _all(results):
    if False in results:
        return False
    return None if None in results else True


def _any(results):
    if True in results:
        return True
    return None if None in results else False


def _lookup(path, expected):
    """A function deciding the lookup ``path`` (``field__lookup``) with ``expected``: what
    does not depend on the row (the field, a regular expression) is found once."""
    name, _, lookup = path.partition(LOOKUP_SEP)
    lookup = lookup or "exact"
    read = _reader(name)
    if lookup == "isnull":
        return lambda instance: (read(instance) is None) is bool(expected)
    if lookup == "exact" and expected is None:  # Django's spelling of isnull
        return lambda instance: read(instance) is None
    if lookup == "regex":
        pattern = expected.value if isinstance(expected, Value) else expected
        if isinstance(pattern, str):
            try:
                expected = re.compile(pattern)
            except re.error:  # a pattern of PostgreSQL's that Python does not read
                return _undecidable(path)
    operand = _operand(expected)

    def judge(instance):
        value, wanted = read(instance), operand(instance)
        if value is None:
            return None  # a comparison with NULL is unknown
        if lookup == "in":
            if not isinstance(wanted, (list, tuple)) or None in wanted:
                raise Undecidable(path)
            return any(_compare(value, "exact", item) for item in wanted)
        if lookup == "range":
            low, high = wanted
            return _compare(value, "gte", low) and _compare(value, "lte", high)
        return _compare(value, lookup, wanted)

    return judge


def _compare(value, lookup, expected):
    kind = _kind(value)
    if expected is None:
        return None
    if lookup == "regex":
        # Python's $ also matches before a final newline, POSIX's does not.
        if kind != "text" or not isinstance(expected, re.Pattern) or "\n" in value:
            raise Undecidable(lookup)
        return expected.search(value) is not None
    if _kind(expected) != kind:
        raise Undecidable(lookup)
    if lookup == "exact":
        return value == expected
    if kind not in _ORDERED_KINDS:
        raise Undecidable(lookup)
    try:
        if lookup == "gt":
            return value > expected
        if lookup == "gte":
            return value >= expected
        if lookup == "lt":
            return value < expected
        if lookup == "lte":
            return value <= expected
    except TypeError as exc:  # an aware and a naive datetime
        raise Undecidable(lookup) from exc
    raise Undecidable(lookup)


def _kind(value):
    kind = _KIND_OF_TYPE.get(type(value))
    if kind is not None:
        return kind
    for types, kind in _KINDS:
        if isinstance(value, types):
            return kind
    raise Undecidable(type(value).__name__)


_KIND_OF_TYPE = {  # the kinds of the types themselves (a subclass: _kind's loop)
    kind_type: kind
    for types, kind in _KINDS
    for kind_type in (types if isinstance(types, tuple) else (types,))
}


def _reader(name):
    """A function giving an instance's value of the field ``name`` as the database
    receives it (a code normalised, a number converted), the field found once per model."""
    if name == "pk":
        return lambda instance: instance.pk
    fields = {}  # model -> the field

    def read(instance):
        field = fields.get(type(instance))
        if field is None:
            field = fields[type(instance)] = _field(instance, name)
        try:
            return field.get_prep_value(getattr(instance, field.attname))
        except (TypeError, ValueError, ValidationError) as exc:
            raise Undecidable(name) from exc

    return read


def _field(instance, name):
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise Undecidable(name) from exc
    if not field.concrete or field.many_to_many:
        raise Undecidable(name)
    return field


def _operand(expected):
    """A function giving the value ``expected`` stands for in a row."""
    if isinstance(expected, F):
        if LOOKUP_SEP in expected.name:
            return _undecidable(expected.name)  # a join
        return _reader(expected.name)
    if isinstance(expected, Value):
        return lambda instance: expected.value
    if hasattr(expected, "resolve_expression"):
        return _undecidable(expected)
    return lambda instance: expected


def _undecidable(reason):
    def undecidable(instance):
        raise Undecidable(reason)

    return undecidable
