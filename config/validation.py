"""A model's validation on the write path, at the cost of few or no queries.

``Model.full_clean`` asks the database for most of what it checks: each foreign key's row
exists (``SELECT 1``), each uniqueness rule holds (a query each), each check constraint
holds (a query each, in a savepoint). On a write whose next statement is the INSERT or
UPDATE itself, most of those questions are answered already or will be by the database:
- a related row that the caller has just loaded (and scoped) exists;
- a check constraint that is a plain comparison is decided in Python (config.conditions);
- uniqueness is left to the database's own constraint, which refuses the statement; the
  caller then validates completely (``full_clean``) to name the rule as before.

A refused row therefore gets the errors ``full_clean`` gives except those of uniqueness
rules: a caller that must name them too validates completely once this has failed.

Importers validate many rows of one model; ``FieldVerdicts`` lets them skip judging again
a value a field has already judged.
"""

import datetime
import decimal
import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router

from . import conditions


def clean_for_write(instance, exclude=(), loaded=(), verdicts=None, only=None):
    """``instance.full_clean(exclude=exclude)`` short of uniqueness: the same errors, but
    none of a uniqueness rule.

    ``loaded``: foreign keys whose related instance the caller has just read from the
    database (and assigned), so their existence is not asked again. ``verdicts``: a
    ``FieldVerdicts`` to judge the fields with, for a caller validating many rows, and
    ``only``: the fields a new row sets, the others holding the model's defaults (see
    ``FieldVerdicts.clean_fields``).
    """
    exclude = set(exclude)
    errors = {}
    try:
        if verdicts is None:
            instance.clean_fields(exclude=exclude | set(loaded))
        else:
            verdicts.clean_fields(instance, exclude | set(loaded), only)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    exclude |= set(errors) - {NON_FIELD_ERRORS}  # as full_clean: no rule on a bad field
    using = router.db_for_write(type(instance), instance=instance)
    for model, constraints in instance.get_constraints():
        for constraint in constraints:
            if not isinstance(constraint, models.CheckConstraint):
                continue
            try:
                _check(constraint, model, instance, exclude, using, verdicts)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _check(constraint, model, instance, exclude, using, verdicts=None):
    if conditions.referenced_fields(constraint.condition) & exclude:
        return  # as Django does: a rule on an excluded field is not this validation's
    decide = conditions.decide if verdicts is None else verdicts.decide
    try:
        if decide(constraint.condition, instance) is not False:
            return
    except conditions.Undecidable:
        pass
    constraint.validate(model, instance, exclude=exclude, using=using)  # raises its error


def has_unique_rules(model):
    """Whether ``model`` has uniqueness rules beyond its primary key."""
    meta = model._meta
    return bool(
        meta.unique_together
        or any(isinstance(rule, models.UniqueConstraint) for rule in meta.constraints)
        or any(field.unique and not field.primary_key for field in meta.local_fields)
    )


def loaded_relations(model, values, unchanged=False):
    """The foreign keys whose related row is known to exist, so that validation need not
    ask: those among ``values`` (field name to value) holding an instance read from the
    database and, with ``unchanged`` (an update of a stored row), those ``values`` does not
    change, which the database's own constraint has kept valid. A key limited by
    ``limit_choices_to`` is never among them: that limit is checked by the query."""
    names = []
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.get_limit_choices_to():
            continue
        if field.name not in values:
            if unchanged:
                names.append(field.name)
            continue
        value = values[field.name]
        if isinstance(value, models.Model) and not value._state.adding:
            names.append(field.name)
    return names


# Values whose verdict can be remembered: hashable, and never changed in place.
REMEMBERED_TYPES = frozenset(
    {str, int, float, bool, type(None), datetime.date, datetime.datetime, decimal.Decimal,
     uuid.UUID}
)  # fmt: skip


class FieldVerdicts:
    """``Model.clean_fields`` for many rows of one model, judging each value once.

    A field's own rules (``Field.clean``: its type, choices, blank and null, validators)
    depend on the value alone, so a value already judged by a field (a genre, a volume
    number, a language's code repeated on a million rows) is given the same verdict
    without judging it again. Relations are always judged (their check reads the
    database), and so are values that are not plain scalars (JSON lists and objects).
    Each field remembers at most ``LIMIT`` values, so memory stays flat on unique ones.
    """

    LIMIT = 10_000
    _UNSEEN = object()

    def __init__(self, model, exclude=()):
        self._seen = {}
        self._condition_fields = {}  # id(condition) -> the attnames it reads
        self._decided = {}
        self.model = model
        # The defaults' verdicts, judged once: a new row leaves most fields at them.
        self.default_errors = {}
        try:
            self.clean_fields(model(), set(exclude))
        except ValidationError as exc:
            self.default_errors = exc.error_dict

    def decide(self, condition, instance):
        """``conditions.decide``, remembered: a condition's truth depends on the values of
        the fields it reads alone."""
        attnames = self._condition_fields.get(id(condition))
        if attnames is None:
            meta = instance._meta
            attnames = tuple(
                meta.pk.attname if name == "pk" else meta.get_field(name).attname
                for name in sorted(conditions.referenced_fields(condition))
            )
            self._condition_fields[id(condition)] = attnames
        values = [instance.__dict__.get(attname) for attname in attnames]
        if not all(type(value) in REMEMBERED_TYPES for value in values):
            return conditions.decide(condition, instance)
        key = (id(condition), *((type(value), value) for value in values))
        verdict = self._decided.get(key, self._UNSEEN)
        if verdict is self._UNSEEN:
            try:
                verdict = conditions.decide(condition, instance)
            except conditions.Undecidable as exc:
                verdict = exc
            if len(self._decided) < self.LIMIT * 10:
                self._decided[key] = verdict
        if isinstance(verdict, conditions.Undecidable):
            raise verdict
        return verdict

    def clean_fields(self, instance, exclude, only=None):
        """``only``: the fields ``instance`` (a new row) sets; the others hold the
        defaults, whose verdicts are known."""
        errors = {}
        if only is not None:
            errors = {
                name: messages
                for name, messages in self.default_errors.items()
                if name not in only and name not in exclude
            }
        fields = instance._meta.fields
        if only is not None:
            fields = [field for field in fields if field.name in only]
        for field in fields:
            if field.name in exclude or field.generated:
                continue
            raw = getattr(instance, field.attname)
            if field.blank and raw in field.empty_values:
                continue  # as Django: an empty value of a blank field is not judged
            if isinstance(raw, models.expressions.DatabaseDefault):
                continue
            remembered = (
                self._seen.setdefault(field.name, {})
                if type(raw) in REMEMBERED_TYPES and not field.is_relation
                else None
            )
            key = (type(raw), raw)  # True and 1 are equal keys, but not the same value
            verdict = self._UNSEEN if remembered is None else remembered.get(key, self._UNSEEN)
            if verdict is self._UNSEEN:
                try:
                    verdict = (True, field.clean(raw, instance))
                except ValidationError as exc:
                    verdict = (False, exc.error_list)
                if remembered is not None and len(remembered) < self.LIMIT:
                    remembered[key] = verdict
            valid, result = verdict
            if valid:
                setattr(instance, field.attname, result)
            else:
                errors[field.name] = result
        if errors:
            raise ValidationError(errors)
