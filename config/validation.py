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
import operator
import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
)
from django.db import models, router
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute

from . import conditions


def clean_for_write(instance, exclude=(), loaded=(), verdicts=None, only=None, judged=None):
    """``instance.full_clean(exclude=exclude)`` short of uniqueness: the same errors, but
    none of a uniqueness rule.

    ``loaded``: foreign keys whose related instance the caller has just read from the
    database (and assigned), so their existence is not asked again. ``verdicts``: a
    ``FieldVerdicts`` to judge the fields with, for a caller validating many rows, and
    ``only``: the fields a new row sets, the others holding the model's defaults, and
    ``judged``: the verdicts its fields gave the values it was given (see
    ``FieldVerdicts.clean_fields``).
    """
    exclude = frozenset(exclude)  # (a frozenset given is taken as it is)
    skipped = exclude.union(loaded) if loaded else exclude
    errors = {}
    try:
        if verdicts is None:
            instance.clean_fields(exclude=set(skipped))
        else:
            verdicts.clean_fields(instance, skipped, only, judged)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    held = judged[1] if judged and verdicts is not None else _NONE  # (see unsettled)
    if held:
        values_held = verdicts.values_of(held)
        holding = values_held(instance.__dict__)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:  # as full_clean: no rule on a bad field
        exclude = exclude.union(errors.keys() - {NON_FIELD_ERRORS})
    if verdicts is None:
        checked = check_constraints(instance)
    else:
        if held and not _same(values_held(instance.__dict__), holding):
            held = _NONE  # clean() changed one: judged again
        checked = verdicts.unsettled(instance, exclude, only, held)
    for model, constraint, fields in checked:
        if not fields.isdisjoint(exclude):
            continue  # as Django does: a rule on an excluded field is not this validation's
        try:
            _check(constraint, model, instance, exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _same(values, others):
    return all(map(operator.is_, values, others))


def _check(constraint, model, instance, exclude):
    try:
        if conditions.decide(constraint.condition, instance) is not False:
            return
    except conditions.Undecidable:
        pass
    using = router.db_for_write(type(instance), instance=instance)
    constraint.validate(model, instance, exclude=exclude, using=using)  # raises its error


_check_constraints = {}  # model -> its check constraints, as check_constraints gives them


def check_constraints(instance):
    """The check constraints of ``instance``'s model (its own and its parents', as
    ``Model.get_constraints`` gives them), each as ``(model, constraint, the names of the
    fields its condition reads)``: taken apart once per model, not once per row."""
    model = type(instance)
    found = _check_constraints.get(model)
    if found is None:
        found = _check_constraints[model] = tuple(
            (owner, constraint, conditions.referenced_fields(constraint.condition))
            for owner, constraints in instance.get_constraints()
            for constraint in constraints
            if isinstance(constraint, models.CheckConstraint)
        )
    return found


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
LIMIT = 10_000  # verdicts remembered per rule, so that memory stays flat on unique values


def remembered(verdicts, value, judge, *args):
    """``judge(*args)``, the verdict ``(valid, result, ...)`` of a rule on ``value`` that
    depends on ``value`` alone, given again from ``verdicts`` (the rule's dict) when
    ``value`` was judged before. Remembered are the values of ``REMEMBERED_TYPES`` and
    lists of strings (the names of a credit, repeated on a product's every track), the
    list a valid verdict gives being a copy of its own for each row."""
    kind = type(value)
    if kind in REMEMBERED_TYPES:
        key, own = (kind, value), None  # True and 1 are equal, but not the same value
    elif kind is list and all(type(item) is str for item in value):
        key, own = (list, tuple(value)), _own
    else:
        return judge(*args)
    verdict = verdicts.get(key)
    if verdict is None:
        verdict = judge(*args)
        if len(verdicts) < LIMIT:
            verdicts[key] = verdict if own is None else own(verdict)
        return verdict
    return verdict if own is None else own(verdict)


SHAPES = 100  # sets of fields (the shapes of rows: a file's share one) remembered per cache


def remember_for_shape(cache, key, value):
    """Put ``value``, chosen for one set of fields, in ``cache`` at ``key``, unless the
    cache holds ``SHAPES`` already (rows setting ever other fields are served without)."""
    if len(cache) < SHAPES:
        cache[key] = value


def _own(verdict):
    valid, result, *more = verdict
    return (valid, list(result), *more) if valid and type(result) is list else verdict


class FieldVerdicts:
    """``Model.clean_fields`` for many rows of one model, judging each value once.

    A field's own rules (``Field.clean``: its type, choices, blank and null, validators)
    depend on the value alone, so a value already judged by a field (a genre, a volume
    number, a language's code repeated on a million rows) is given the same verdict
    without judging it again (see ``remembered``). Relations are always judged (their
    check reads the database), and so are JSON objects. Each field, and each check
    constraint's condition, remembers at most ``LIMIT`` values, so memory stays flat on
    unique ones (and a condition on a unique value, such as the ISRC's form, leaves the
    others room to remember theirs).
    """

    _UNSEEN = object()

    def __init__(self, model, exclude=()):
        self._seen = {}
        self._judged = {}  # frozenset of the fields set (None: all) -> see judged()
        self._conditions = {}  # id(condition) -> see _condition
        self._checks = {}  # model -> see _model_checks
        self._checks_setting = {}  # (model, the fields a new row sets) -> see _checks_of
        self._unsettled = {}  # (only, settled) -> see fields_to_judge
        self._failing = {}  # (only, exclude) -> see _failing_defaults
        self._remaining = {}  # (id of a list of checks, exclude, held) -> see _not_passed
        self._prototype = self._by_name = None  # see judge
        self._own = None  # see holds
        self._getters = {}  # see values_of
        self.model = model
        self.excluded = frozenset(exclude)
        # The defaults' verdicts, judged once: a new row leaves most fields at them.
        self.default_errors = {}
        try:
            self.clean_fields(model(), set(exclude))
        except ValidationError as exc:
            self.default_errors = exc.error_dict

    def unsettled(self, instance, exclude, only=None, held=None):
        """The check constraints of ``instance`` (as ``check_constraints`` gives them, but
        those on a field in ``exclude``) that its values do not settle as holding: those
        whose condition is false or cannot be decided in Python, and those on values whose
        verdict is not remembered (``REMEMBERED_TYPES``). A condition's verdict on values
        already seen is remembered: its truth depends on the values of its fields alone.
        ``only``: the fields a new row sets (see ``clean_fields``); the conditions on the
        others alone are settled once, on the defaults, while the row holds them.
        ``held``: fields whose own conditions (those reading it alone) ``holds`` found
        holding for the values the instance holds."""
        checks, defaults = self._checks_of(instance, only)
        values = instance.__dict__
        if defaults is not None:
            get, expected, kinds = defaults
            try:
                present = get(values)
            except KeyError:
                present = None
            if present != expected or tuple(map(type, present)) != kinds:
                checks, _ = self._checks_of(instance, None)  # (clean() set one, say)
        unsettled = []
        for entry, _, get, decided, single in self._not_passed(checks, exclude, held):
            if single is not None:  # (the commonest case: one field, no tuple of values)
                value = values.get(single, self._UNSEEN)
                kind = type(value)
                if kind not in REMEMBERED_TYPES:  # (not in __dict__: see just below)
                    unsettled.append(entry)
                    continue
                key = (kind, value)  # True and 1 are equal values, but not the same
            else:
                try:
                    judged = get(values)
                except KeyError:  # a value not in __dict__ (deferred, or a descriptor's own)
                    unsettled.append(entry)
                    continue
                kinds = tuple(map(type, judged))
                if not REMEMBERED_TYPES.issuperset(kinds):
                    unsettled.append(entry)
                    continue
                key = (kinds, judged)
            verdict = decided.get(key, self._UNSEEN)
            if verdict is self._UNSEEN:
                try:
                    verdict = conditions.decide(entry[1].condition, instance)
                except conditions.Undecidable as exc:
                    verdict = exc
                if len(decided) < LIMIT:
                    decided[key] = verdict
            if verdict is False or isinstance(verdict, conditions.Undecidable):
                unsettled.append(entry)
        return unsettled

    def _not_passed(self, checks, exclude, held):
        """``checks`` (a list ``_checks_of`` gives) but those ``unsettled`` passes over
        whatever the values: on a field in ``exclude``, or reading one field alone that is
        in ``held``. Chosen once for each list and pair of frozensets (rows share them)."""
        key = (id(checks), exclude, held) if type(exclude) is type(held) is frozenset else None
        found = self._remaining.get(key) if key is not None else None
        if found is None:
            found = [
                check
                for check in checks
                if check[1].isdisjoint(exclude)
                and (check[4] is None or not held or check[1].isdisjoint(held))
            ]
            if key is not None:  # (the lists of checks live as long)
                remember_for_shape(self._remaining, key, found)
        return found

    def _checks_of(self, instance, only):
        """The checks ``unsettled`` judges on a row setting ``only`` (None: any row), each
        as ``(check_constraints' entry, its fields, *_condition's plan of it)``, and how to
        tell the row holds the defaults the others were settled on: ``(the getter of their
        values, those values, their types)``, or None when all are judged."""
        model = type(instance)
        every, on_defaults, defaults = self._checks.get(model) or self._model_checks(instance)
        if only is None:
            return every, None
        key = (model, frozenset(only))
        found = self._checks_setting.get(key)
        if found is None:
            if len(self._checks_setting) >= SHAPES:  # rows setting ever other fields: judged
                return every, None
            settled = [check for check in on_defaults if check[1].isdisjoint(key[1])]
            found = (every, None)
            if settled:
                meta = instance._meta
                attnames = {
                    name
                    for check in settled
                    for name in self._attnames(check[0][1].condition, meta)
                }
                get = tuple_getter(sorted(attnames))
                held = get(defaults)
                judged = [check for check in every if all(check is not s for s in settled)]
                found = (judged, (get, held, tuple(map(type, held))))
            self._checks_setting[key] = found
        return found

    def _model_checks(self, instance):
        """``instance``'s model's checks, as ``_checks_of`` gives them, those among them
        that ``unsettled`` settles on the model's defaults, but on a default made anew for
        each row (a time, a random value: the row would seldom hold the value they were
        settled on), and the defaults (a new instance's ``__dict__``)."""
        model, meta = type(instance), instance._meta
        every = [
            (entry, entry[2], *self._condition(entry[1].condition, meta))
            for entry in check_constraints(instance)
        ]
        made = {
            field.attname
            for field in meta.concrete_fields
            if field.has_default() and callable(field.default)
        }
        self._checks[model] = (every, [], None)  # (what unsettled reads, just below)
        prototype = model()
        unsettled = {id(entry) for entry in self.unsettled(prototype, set())}
        on_defaults = [
            check
            for check in every
            if id(check[0]) not in unsettled
            and made.isdisjoint(self._attnames(check[0][1].condition, meta))
        ]
        self._checks[model] = (every, on_defaults, prototype.__dict__)
        return self._checks[model]

    def _condition(self, condition, meta):
        """A function giving the values of the attnames ``condition`` reads (a tuple),
        its remembered verdicts, and the attname it reads when it reads one (else None)."""
        plan = self._conditions.get(id(condition))
        if plan is None:
            attnames = self._attnames(condition, meta)
            single = attnames[0] if len(attnames) == 1 else None
            plan = self._conditions[id(condition)] = (tuple_getter(attnames), {}, single)
        return plan

    @staticmethod
    def _attnames(condition, meta):
        """The attnames of the fields ``condition`` reads, in a stable order."""
        return [
            meta.pk.attname if name == "pk" else meta.get_field(name).attname
            for name in sorted(conditions.referenced_fields(condition))
        ]

    def clean_fields(self, instance, exclude, only=None, judged=None):
        """``only``: the fields ``instance`` (a new row) sets; the others hold the
        defaults, whose verdicts are known. ``judged``: ``(settled, held, failed)``, the
        verdicts ``judge`` gave the values the row was given: the names of the fields
        that found theirs valid, the instance holding the values they cleaned (not judged
        again), those of them whose own conditions hold for them (``holds``; taken by
        ``unsettled``), and ``{name: (the value, its errors)}`` for the others (or None;
        a field no longer holding that value is judged)."""
        errors = {} if only is None else self._failing_defaults(only, exclude)
        settled, _, failed = judged or (_NONE, _NONE, None)
        values = instance.__dict__
        for field, name, attname, plain, empty, verdicts in self.fields_to_judge(only, settled):
            if name in exclude:
                continue
            raw = values[attname] if plain and attname in values else getattr(instance, attname)
            if failed and name in failed and failed[name][0] is raw:
                errors[name] = failed[name][1]
                continue
            if empty is not None and raw in empty:
                continue  # as Django: an empty value of a blank field is not judged
            if isinstance(raw, DatabaseDefault):
                continue
            if verdicts is None:
                valid, result = _judge(field, raw, instance)
            else:  # remembered(), its commonest case first
                kind = type(raw)
                verdict = verdicts.get((kind, raw)) if kind in REMEMBERED_TYPES else None
                if verdict is None:
                    verdict = remembered(verdicts, raw, _judge, field, raw, instance)
                valid, result = verdict
            if not valid:
                errors[name] = result
            elif result is not raw:  # (setting a field to the value it holds does nothing)
                setattr(instance, attname, result)
        if errors:
            raise ValidationError(errors)

    def _failing_defaults(self, only, exclude):
        """The errors of the defaults a new row setting ``only`` holds, but those of the
        fields in ``exclude``: a dict of its own, chosen once for each pair of frozensets."""
        key = (only, exclude) if type(only) is type(exclude) is frozenset else None
        found = self._failing.get(key) if key is not None else None
        if found is None:
            found = {
                name: messages
                for name, messages in self.default_errors.items()
                if name not in only and name not in exclude
            }
            if key is not None:
                remember_for_shape(self._failing, key, found)
        return dict(found) if found else {}

    def judge(self, name, value, validated=False):
        """The verdict the field ``name`` gives ``value`` as ``clean_fields`` judges it,
        for a row to be given it: ``(True, the cleaned value)`` or ``(False, its
        errors)``; None when ``clean_fields`` must judge it on the row itself (a relation,
        whose check reads the database; a field whose descriptor changes the value it is
        given; a field it does not judge). A row whose instance holds the cleaned value
        gives ``clean_fields`` the name as settled, and one holding ``value`` (invalid) the
        errors as failed. Not remembered here: the caller remembers the verdict with its
        own (``RowValidator.read``), on the value as given, before it comes here.
        ``validated``: ``value`` has passed validators that ``covers`` found covering the
        field's, which are then not run on it again."""
        found = self._judgeable().get(name)
        if found is None:
            return None
        field, empty = found
        if empty is not None and value in empty:
            return True, value  # not judged (clean_fields)
        if validated:
            return _judge_validated(field, value, self._prototype)
        return _judge(field, value, self._prototype)

    def covers(self, name, validators):
        """Whether ``validators`` (a serializer field's, run on the value it reads) pass
        no value that one of the field ``name``'s own validators fails: each of the
        field's is among them, or one of the same class and limit is (``_same_rule``),
        and the field runs them as Django's ``Field`` does (no ``clean`` or
        ``run_validators`` of its own, which may do more). A value that passed them need
        not pass the field's again (``judge``'s ``validated``): the API's write path runs
        both on every value, an importer once."""
        found = self._judgeable().get(name)
        if found is None:
            return False
        field = found[0]
        kind = type(field)
        return (
            kind.clean is models.Field.clean
            and kind.run_validators is models.Field.run_validators
            and all(any(_same_rule(own, given) for given in validators) for own in field.validators)
        )

    def holds(self, name, value):
        """Whether the check constraints reading the field ``name`` alone hold for
        ``value`` (a cleaned value ``judge`` gave), as ``unsettled`` finds them: a row
        holding it gives ``unsettled`` the name as held."""
        own = self._own_conditions().get(name)
        if not own:
            return True
        attname, conditions_of = own
        prototype = self._prototype
        default = prototype.__dict__[attname]
        prototype.__dict__[attname] = value
        try:
            for condition in conditions_of:
                try:
                    if conditions.decide(condition, prototype) is False:
                        return False
                except conditions.Undecidable:
                    return False
            return True
        finally:
            prototype.__dict__[attname] = default

    def _own_conditions(self):
        """By field name: ``(its attname, the conditions of the check constraints reading
        that field alone)``, of the fields ``judge`` judges."""
        if self._own is None:
            judgeable, meta = self._judgeable(), self.model._meta
            self._own = {}
            for _, constraint, fields in check_constraints(self._prototype):
                name = next(iter(fields)) if len(fields) == 1 else None
                if name in judgeable:
                    attname = meta.get_field(name).attname
                    self._own.setdefault(name, (attname, []))[1].append(constraint.condition)
        return self._own

    def values_of(self, names):
        """A function giving the tuple of the values an instance's ``__dict__`` holds for
        the fields ``names`` (a frozenset), made once per set."""
        get = self._getters.get(names)
        if get is None:
            meta = self.model._meta
            get = tuple_getter(sorted(meta.get_field(name).attname for name in names))
            remember_for_shape(self._getters, names, get)
        return get

    def judges(self, name):
        """Whether ``judge`` judges the field ``name``."""
        return name in self._judgeable()

    def _judgeable(self):
        """The fields ``judge`` judges, by name: ``(field, its empty values if it may be
        blank)``: those ``clean_fields`` judges on the value alone."""
        if self._by_name is None:
            self._prototype = self.model()
            self._by_name = {
                name: (field, empty)
                for field, name, _, plain, empty, verdicts in self.judged(None)
                if plain and verdicts is not None and name not in self.excluded
            }
        return self._by_name

    def fields_to_judge(self, only, settled):
        """``judged(only)`` but the fields named in ``settled``: chosen once for each pair
        (a file's rows share their columns)."""
        if not settled:
            return self.judged(only)
        key = (None if only is None else frozenset(only), frozenset(settled))
        fields = self._unsettled.get(key)
        if fields is None:
            fields = [entry for entry in self.judged(only) if entry[1] not in settled]
            remember_for_shape(self._unsettled, key, fields)
        return fields

    def judged(self, only):
        """The fields ``clean_fields`` judges (all, or those named in ``only``), in the
        model's order, each as ``(field, name, attname, whether its value is the one in
        the instance's ``__dict__`` (no descriptor of its own, such as a file's), its empty
        values if it may be blank else None, the verdicts it remembers (None for a
        relation))``: chosen once for each set of fields rows set (a file's rows share
        their columns)."""
        key = None if only is None else frozenset(only)
        judged = self._judged.get(key)
        if judged is None:
            judged = [
                (
                    field,
                    field.name,
                    field.attname,
                    type(getattr(self.model, field.attname, None)) in _PLAIN_DESCRIPTORS,
                    field.empty_values if field.blank else None,
                    None if field.is_relation else self._seen.setdefault(field.name, {}),
                )
                for field in self.model._meta.fields
                if not field.generated and (key is None or field.name in key)
            ]
            remember_for_shape(self._judged, key, judged)
        return judged


_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)
_NONE = frozenset()


def tuple_getter(keys):
    """A function giving the tuple of a mapping's values at ``keys``, in one C call
    (``operator.itemgetter``, which gives the value alone for one key, and needs one)."""
    if len(keys) > 1:
        return operator.itemgetter(*keys)
    if keys:
        get = operator.itemgetter(*keys)
        return lambda values: (get(values),)
    return lambda values: ()


def _judge(field, raw, instance):
    """``field``'s verdict on ``raw``: ``(True, the cleaned value)`` or ``(False, its
    errors)``."""
    try:
        return True, field.clean(raw, instance)
    except ValidationError as exc:
        return False, exc.error_list


def _judge_validated(field, raw, instance):
    """``_judge``, for a value that has passed validators covering ``field``'s own
    (``FieldVerdicts.covers``): ``field.clean`` but for running those again, when its
    ``to_python`` gives the value as it is (else they would judge another value)."""
    try:
        value = field.to_python(raw)
        if value is not raw:
            return _judge(field, raw, instance)
        field.validate(value, instance)
    except ValidationError as exc:
        return False, exc.error_list
    return True, value


# Django's validators whose verdict is told by their class and limit alone
_LIMITS = (MaxLengthValidator, MinLengthValidator, MaxValueValidator, MinValueValidator)


def _same_rule(validator, other):
    """Whether ``other`` passes only values ``validator`` passes: it is ``validator``, or
    of the same class and equal to it, or one of Django's limit validators of the same
    class and fixed limit (Django's and DRF's ``MaxLengthValidator`` differ in their
    messages alone)."""
    if other is validator:
        return True
    if type(other) is not type(validator):
        return False  # (a subclass may judge otherwise, yet compare equal)
    return other == validator or (
        type(validator) in _LIMITS
        and not callable(validator.limit_value)
        and other.limit_value == validator.limit_value
    )
