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
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router

from . import conditions


def clean_for_write(instance, exclude=(), loaded=()):
    """``instance.full_clean(exclude=exclude)`` short of uniqueness: the same errors, but
    none of a uniqueness rule.

    ``loaded``: foreign keys whose related instance the caller has just read from the
    database (and assigned), so their existence is not asked again.
    """
    exclude = set(exclude)
    errors = {}
    try:
        instance.clean_fields(exclude=exclude | set(loaded))
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
                _check(constraint, model, instance, exclude, using)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _check(constraint, model, instance, exclude, using):
    if conditions.referenced_fields(constraint.condition) & exclude:
        return  # as Django does: a rule on an excluded field is not this validation's
    try:
        if conditions.decide(constraint.condition, instance) is not False:
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
