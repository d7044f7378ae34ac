"""A track's levels: their shape, the checks they name, and replacing them wholesale.

Levels arrive in the seeds' inline shape: ``[{ordinal, name, description, badge, checks:
[{id, name?, description?, ...}]}]``. A check given by ``id`` alone refers to an existing
check of the organization; one given with its fields is created, or updated if it exists.
The API, the admin and the YAML importer all go through ``resolve_levels`` and
``replace_levels``.
"""

from django.core.exceptions import ValidationError

from config.jsonapi.describe import describe
from config.jsonapi.exceptions import member_errors
from config.jsonapi.tenancy import context_organization

from . import certification
from .models import Check, Level, LevelCheck
from .validators import (
    BADGE_SCHEMA,
    ENTITY_FILTER_SCHEMA,
    ENTITY_REF_PATTERN,
    RULE_SCHEMA,
    TEXT,
    error,
    is_text,
    join,
    validate_badge,
)

LEVEL_MEMBERS = {"ordinal", "name", "description", "badge", "checks"}
MAX_LEVELS = 100
MAX_CHECKS_PER_LEVEL = 500

CHECK_REFERENCE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"},
        "name": {**TEXT, "maxLength": 100},
        "description": {"type": "string"},
        "owner-entity-ref": {"type": "string", "pattern": ENTITY_REF_PATTERN, "nullable": True},
        "kind": {"type": "string", "enum": ["rule", "manual", "external"]},
        "rule": {**RULE_SCHEMA, "nullable": True},
        "passed-message": {"type": "string", "nullable": True},
        "failed-message": {"type": "string", "nullable": True},
        "not-applicable-message": {"type": "string", "nullable": True},
        "filter": {**ENTITY_FILTER_SCHEMA, "nullable": True},
        "exclude": {**ENTITY_FILTER_SCHEMA, "nullable": True},
    },
    "required": ["id"],
    "additionalProperties": False,
    "description": "A check: its id alone refers to an existing check; with its fields (the "
    "members of checks), the check is created, or updated if it exists.",
}
LEVELS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_LEVELS,
    "items": {
        "type": "object",
        "properties": {
            "ordinal": {"type": "integer", "minimum": 1, "maximum": 32767},
            "name": {**TEXT, "maxLength": 100},
            "description": {"type": "string"},
            "badge": {**BADGE_SCHEMA, "nullable": True},
            "checks": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_CHECKS_PER_LEVEL,
                "items": CHECK_REFERENCE_SCHEMA,
            },
        },
        "required": ["ordinal", "name", "checks"],
        "additionalProperties": False,
    },
    "description": "The levels, each with a positive ordinal unique in the track and at least "
    "one check; a check appears at most once in a track. Sent in an update, they replace the "
    "track's levels wholesale.",
}


@describe(LEVELS_SCHEMA)
def validate_levels_shape(value):
    """Everything about levels that needs no database: members, ordinals, check ids."""
    if not isinstance(value, list) or not value:
        raise error("A track has at least one level, in an array.", "min_levels")
    if len(value) > MAX_LEVELS:
        raise error(f"A track has at most {MAX_LEVELS} levels.", "max_levels")
    ordinals, check_ids = set(), set()
    for index, level in enumerate(value):
        if not isinstance(level, dict):
            raise error("A level is an object {ordinal, name, description, badge, checks}.",
                        "invalid_level", index)  # fmt: skip
        unknown = sorted(set(level) - LEVEL_MEMBERS)
        if unknown:
            raise error(f"A level has no member '{unknown[0]}'.", "invalid_level",
                        join(index, unknown[0]))  # fmt: skip
        ordinal = level.get("ordinal")
        if not isinstance(ordinal, int) or isinstance(ordinal, bool) or not 1 <= ordinal <= 32767:
            raise error("A level's ordinal is a whole number from 1 to 32767.", "invalid_ordinal",
                        join(index, "ordinal"))  # fmt: skip
        if ordinal in ordinals:
            raise error(f"Ordinal {ordinal} is used by another level of this track.",
                        "duplicate_ordinal", join(index, "ordinal"))  # fmt: skip
        ordinals.add(ordinal)
        if not is_text(level.get("name"), 100):
            raise error("A level's name is 1 to 100 characters.", "invalid_level",
                        join(index, "name"))  # fmt: skip
        description = level.get("description", "")
        if description is not None and not isinstance(description, str):
            raise error("A level's description is a string.", "invalid_level",
                        join(index, "description"))  # fmt: skip
        if level.get("badge") is not None:
            validate_badge(level["badge"], join(index, "badge"))
        checks = level.get("checks")
        if not isinstance(checks, list) or not checks:
            raise error("A level has at least one check, in an array.", "min_checks",
                        join(index, "checks"))  # fmt: skip
        if len(checks) > MAX_CHECKS_PER_LEVEL:
            raise error(f"A level has at most {MAX_CHECKS_PER_LEVEL} checks.", "max_checks",
                        join(index, "checks"))  # fmt: skip
        for position, check in enumerate(checks):
            path = join(index, "checks", position)
            if not isinstance(check, dict):
                raise error("A level's check is an object with an id.", "invalid_check", path)
            check_id = check.get("id")
            if not isinstance(check_id, str):
                raise error("A level's check needs its id.", "required", join(path, "id"))
            if check_id in check_ids:
                raise error(f"The check '{check_id}' appears more than once in this track.",
                            "duplicate_check", join(path, "id"))  # fmt: skip
            check_ids.add(check_id)


def resolve_levels(levels, context):
    """Check every level's checks against the organization's: ``[(level fields, [Check
    serializer or Check])]``, nothing saved. Errors are a ValidationError whose paths lead
    into ``levels`` (``0/checks/1/id``)."""
    from .serializers import CheckSerializer

    organization = context_organization(context)
    ids = {check["id"] for level in levels for check in level["checks"]}
    checks = Check.objects.filter(organization=organization, slug__in=ids)
    existing = {check.slug: check for check in checks}
    schema = CheckSerializer.schema()
    resolved, errors = [], []
    for index, level in enumerate(levels):
        checks = []
        for position, given in enumerate(level["checks"]):
            path = join(index, "checks", position)
            fields = {member: value for member, value in given.items() if member != "id"}
            check = existing.get(given["id"])
            if not fields:
                if check is None:
                    errors.append(error(f"There is no check '{given['id']}': create it first, or "
                                        "give its name to create it here.", "unknown_check",
                                        join(path, "id")))  # fmt: skip
                checks.append(check)
                continue
            resource = {"attributes": fields}
            if check is None:
                resource["id"] = given["id"]
            serializer = CheckSerializer(check, data=resource, partial=check is not None,
                                         context=context)  # fmt: skip
            if not serializer.is_valid():
                errors += nested_errors(serializer.errors, schema, path)
            checks.append(serializer)
        fields = {
            "ordinal": level["ordinal"],
            "name": level["name"],
            "description": level.get("description") or "",
            "badge": level.get("badge"),
        }
        resolved.append((fields, checks))
    if errors:
        raise ValidationError(errors)
    return resolved


def nested_errors(detail, schema, path):
    """A check serializer's errors as paths under ``path``, with member names."""
    return [
        error(str(message), getattr(message, "code", "invalid"), join(path, where))
        for where, message in member_errors(detail, schema)
    ]


def replace_levels(track, resolved):
    """Save ``resolved`` (from ``resolve_levels``) as ``track``'s levels, replacing its old
    ones (inline checks are created or updated first), and compute its certifications
    again."""
    Level.objects.filter(track=track).delete()
    for fields, checks in resolved:
        level = Level.objects.create(track=track, **fields)
        LevelCheck.objects.bulk_create(
            LevelCheck(level=level, track=track, check_definition=saved(check), position=position)
            for position, check in enumerate(checks)
        )
    certification.refresh(track)


def saved(check):
    """A check named by id, or the one an inline check's serializer creates or updates."""
    return check if isinstance(check, Check) else check.save()
