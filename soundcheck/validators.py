"""The rules of Soundcheck's members, shared by the API, the admin and the YAML importer.

Soundcheck's own API leaves most of them to "runtime validation" (Zod); these are that
validation, written down. An error inside a structured member carries
``params={"path": ...}`` so the API points at the very spot
(``/data/attributes/badge/color``).
"""

import re
from datetime import date
from urllib.parse import urlsplit

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from config import jsoncodec
from config.jsonapi.describe import describe

# Slug-style ids, as Soundcheck's checks and tracks have them (has-readme, lifecycle_defined).
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
# Backstage entity references: kind:namespace/name, the namespace optional ("default").
ENTITY_REF = re.compile(
    r"(?P<kind>[A-Za-z][A-Za-z0-9_-]{0,62}):"
    r"(?:(?P<namespace>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})/)?"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})"
)
ENTITY_REF_PATTERN = (
    r"^\s*[A-Za-z][A-Za-z0-9_-]{0,62}:([A-Za-z0-9][A-Za-z0-9_.-]{0,62}/)?"
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\s*$"
)
ENTITY_REF_MAX_LENGTH = 200
HEX_COLOUR = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
RGB_COLOUR = re.compile(r"rgb\( *([0-9]{1,3}) *, *([0-9]{1,3}) *, *([0-9]{1,3}) *\)")
BYTE = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|0?[0-9]?[0-9])"
COLOUR_PATTERN = (
    f"^(?:#[0-9A-Fa-f]{{3}}|#[0-9A-Fa-f]{{6}}|rgb\\( *{BYTE} *, *{BYTE} *, *{BYTE} *\\))$"
)
BADGE_TYPES = ("medal", "status")
SVG_MAX_LENGTH = 100_000
OPERATORS = (
    "equal",
    "notEqual",
    "lessThan",
    "lessThanInclusive",
    "greaterThan",
    "greaterThanInclusive",
    "matches",
    "in",
)
NUMERIC_OPERATORS = {"lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"}
RULE_MAX_DEPTH = 5
TEXT = {"type": "string", "pattern": r"\S"}  # is_text checks it


def error(message, code, path=""):
    if not path:
        return ValidationError(message, code)
    # The message is formatted with its params: a client's own text in it stays literal.
    return ValidationError(message.replace("%", "%%"), code, params={"path": str(path)})


def join(*parts):
    return "/".join(str(part) for part in parts if part != "")


# A character that is not white space as the description's patterns (ECMAScript's \S) see it.
VISIBLE = re.compile(r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")


def is_text(value, max_length=None):
    """A string with something besides white space in it (TEXT's pattern), without NUL."""
    return (
        isinstance(value, str)
        and VISIBLE.search(value) is not None
        and "\x00" not in value
        and (max_length is None or len(value) <= max_length)
    )


@describe({"pattern": f"^{IDENTIFIER.pattern}$", "example": "has-readme", "maxLength": 100})
def validate_identifier(value):
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise error(
            "An id is 1 to 100 letters, digits, '-' or '_', starting with a letter or digit "
            "(has-readme).",
            "invalid_id",
        )


def normalize_entity_ref(value):
    """``Component:Payments`` -> ``component:default/payments`` (unchanged if not a ref).

    Backstage compares references without regard to case, so they are stored in lower case,
    with the namespace spelled out."""
    match = ENTITY_REF.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        return value
    namespace = match["namespace"] or "default"
    return f"{match['kind']}:{namespace}/{match['name']}".lower()


@describe(
    {
        "pattern": ENTITY_REF_PATTERN,
        "example": "component:default/payments",
        "description": "A Backstage entity reference, kind:namespace/name (the namespace "
        "defaults to 'default'); stored in lower case.",
    }
)
def validate_entity_ref(value, path=""):
    if not isinstance(value, str) or not ENTITY_REF.fullmatch(value.strip()):
        raise error(
            "An entity reference is kind:namespace/name, e.g. component:default/payments "
            "(the namespace may be left out).",
            "invalid_entity_ref",
            path,
        )


ENTITY_FILTER_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}],
    },
    "description": "Which entities this applies to: each key a catalog field "
    "(metadata.tags, spec.type; not blank, at most 200 characters), each value a string or a "
    "non-empty list of strings.",
    "example": {"kind": "Component", "spec.type": ["service", "website"]},
}


@describe(ENTITY_FILTER_SCHEMA)
def validate_entity_filter(value, path=""):
    """Soundcheck's EntityFilter: ``{field: string | [string, ...]}``."""
    if not isinstance(value, dict):
        raise error("A filter is an object of catalog fields.", "invalid_filter", path)
    for key, condition in value.items():
        if not is_text(key, 200):
            raise error("A filter's keys are catalog field names.", "invalid_filter", path)
        values = condition if isinstance(condition, list) else [condition]
        if not values or not all(is_text(item, 1000) for item in values):
            raise error(
                "A filter's value is a string or a non-empty list of strings.",
                "invalid_filter",
                join(path, key),
            )


def validate_css_colour(value, path=""):
    match = RGB_COLOUR.fullmatch(value) if isinstance(value, str) else None
    if match and all(int(part) <= 255 for part in match.groups()):
        return
    if not isinstance(value, str) or not HEX_COLOUR.fullmatch(value):
        raise error(
            "A colour is #rgb, #rrggbb or rgb(r, g, b) with each part 0 to 255.",
            "invalid_colour",
            path,
        )


def _local(name):
    return name.rpartition("}")[2].lower()


def validate_svg(value, path=""):
    """An SVG image that is safe to put in a page: well-formed, parsed without DTDs or
    entities (defusedxml), with no script, no event handler and no external reference."""
    if not isinstance(value, str) or len(value) > SVG_MAX_LENGTH:
        raise error(f"An SVG image is a string of at most {SVG_MAX_LENGTH} characters.",
                    "invalid_svg", path)  # fmt: skip
    try:
        root = ElementTree.fromstring(
            value, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise error("The SVG is not well-formed XML (or declares a DTD or entities).",
                    "invalid_svg", path) from exc  # fmt: skip
    if _local(root.tag) != "svg":
        raise error("The image's root element must be <svg>.", "invalid_svg", path)
    for element in root.iter():
        if _local(element.tag) in ("script", "foreignobject"):
            raise error("An SVG badge may not contain scripts.", "unsafe_svg", path)
        for attribute, attribute_value in element.attrib.items():
            name = _local(attribute)
            if name.startswith("on"):
                raise error("An SVG badge may not have event handlers.", "unsafe_svg", path)
            if name == "href" and not attribute_value.strip().startswith("#"):
                raise error("An SVG badge may not refer to anything outside itself.",
                            "unsafe_svg", path)  # fmt: skip
            if "url(" in attribute_value.replace(" ", "").lower() and not re.fullmatch(
                r"\s*url\(\s*#[^)]*\)\s*", attribute_value
            ):
                raise error("An SVG badge may not refer to anything outside itself.",
                            "unsafe_svg", path)  # fmt: skip
        if _local(element.tag) == "style" and re.search(
            r"@import|url\(\s*[^#\s)]", element.text or ""
        ):
            raise error("An SVG badge may not refer to anything outside itself.",
                        "unsafe_svg", path)  # fmt: skip


BADGE_SCHEMA = {
    "type": "object",
    "properties": {
        "color": {"type": "string", "pattern": COLOUR_PATTERN, "example": "#1DB954",
                  "description": "A CSS colour: #rgb, #rrggbb or rgb(r, g, b)."},
        "type": {"type": "string", "enum": list(BADGE_TYPES)},
        "svg": {"type": "string", "format": "svg", "maxLength": SVG_MAX_LENGTH,
                "description": "An SVG image: no DTD, scripts, event handlers or external "
                               "references."},
    },
    "additionalProperties": False,
}  # fmt: skip


@describe(BADGE_SCHEMA)
def validate_badge(value, path=""):
    if not isinstance(value, dict):
        raise error("A badge is an object with color, type and svg.", "invalid_badge", path)
    unknown = sorted(set(value) - {"color", "type", "svg"})
    if unknown:
        raise error(
            f"A badge has no member '{unknown[0]}'.", "invalid_badge", join(path, unknown[0])
        )
    if value.get("color") is not None:
        validate_css_colour(value["color"], join(path, "color"))
    if value.get("type") is not None and value["type"] not in BADGE_TYPES:
        raise error(f"A badge's type is one of {', '.join(BADGE_TYPES)}.", "invalid_choice",
                    join(path, "type"))  # fmt: skip
    if value.get("svg") is not None:
        validate_svg(value["svg"], join(path, "svg"))


@describe({"format": "uri", "pattern": "^https?://", "maxLength": 2000,
           "example": "https://backstage.io/docs"})  # fmt: skip
def validate_http_url(value):
    URLValidator(schemes=["http", "https"])(value)
    if urlsplit(value).scheme not in ("http", "https"):
        raise error("Use an http or https URL.", "invalid_url")


# Rules: {fact-ref, path, operator, value} conditions, or all/any of them.
def condition_schema(operators, value):
    return {
        "type": "object",
        "properties": {
            "fact-ref": {**TEXT, "maxLength": 200, "example": "catalog:default/entity_descriptor"},
            "path": {"type": "string", "pattern": r"^\$", "example": "$.spec.lifecycle"},
            "operator": {"type": "string", "enum": list(operators)},
            "value": value,
        },
        "required": ["fact-ref", "path", "operator", "value"],
        "additionalProperties": False,
    }


CONDITION_SCHEMAS = [
    condition_schema(["equal", "notEqual"], {"nullable": True}),
    condition_schema(sorted(NUMERIC_OPERATORS), {"type": "number"}),
    condition_schema(["in"], {"type": "array", "minItems": 1, "items": {"nullable": True}}),
    condition_schema(["matches"], {"type": "string", "format": "regex"}),
]
RULE_SCHEMA = {
    "type": "object",
    "description": "A condition {fact-ref, path, operator, value}, or {all: [...]} / "
    "{any: [...]} of rules (at most 5 deep). Numeric operators take a number, 'matches' a "
    "regular expression, 'in' a non-empty array.",
    "oneOf": [
        *CONDITION_SCHEMAS,
        {"type": "object", "properties": {"all": {"type": "array", "minItems": 1,
         "items": {"oneOf": CONDITION_SCHEMAS}}}, "required": ["all"],
         "additionalProperties": False},
        {"type": "object", "properties": {"any": {"type": "array", "minItems": 1,
         "items": {"oneOf": CONDITION_SCHEMAS}}}, "required": ["any"],
         "additionalProperties": False},
    ],
    "example": {"all": [{"fact-ref": "catalog:default/entity_descriptor",
                         "path": "$.spec.lifecycle", "operator": "equal",
                         "value": "production"}]},
}  # fmt: skip


@describe(RULE_SCHEMA)
def validate_rule(value, path="", depth=1):
    if not isinstance(value, dict):
        raise error("A rule is an object: a condition, or all/any of rules.", "invalid_rule", path)
    if depth > RULE_MAX_DEPTH:
        raise error(f"Rules nest at most {RULE_MAX_DEPTH} deep.", "invalid_rule", path)
    for combinator in ("all", "any"):
        if combinator in value:
            if set(value) != {combinator}:
                raise error(f"A rule with '{combinator}' has no other member.", "invalid_rule",
                            path)  # fmt: skip
            rules = value[combinator]
            if not isinstance(rules, list) or not rules:
                raise error(f"'{combinator}' is a non-empty array of rules.", "invalid_rule",
                            join(path, combinator))  # fmt: skip
            for index, rule in enumerate(rules):
                validate_rule(rule, join(path, combinator, index), depth + 1)
            return
    _validate_condition(value, path)


def _validate_condition(value, path):
    members = {"fact-ref", "path", "operator", "value"}
    unknown = sorted(set(value) - members)
    if unknown:
        raise error(f"A condition has no member '{unknown[0]}'.", "invalid_rule",
                    join(path, unknown[0]))  # fmt: skip
    for member in sorted(members - set(value)):
        raise error(f"A condition needs '{member}'.", "required", join(path, member))
    if not is_text(value["fact-ref"], 200):
        raise error("fact-ref names a fact (catalog:default/entity_descriptor).", "invalid_rule",
                    join(path, "fact-ref"))  # fmt: skip
    if not isinstance(value["path"], str) or not value["path"].startswith("$"):
        raise error("path is a JSONPath starting with '$' ($.spec.lifecycle).", "invalid_rule",
                    join(path, "path"))  # fmt: skip
    operator, operand = value["operator"], value["value"]
    if operator not in OPERATORS:
        raise error(f"operator is one of {', '.join(OPERATORS)}.", "invalid_choice",
                    join(path, "operator"))  # fmt: skip
    number = isinstance(operand, (int, float)) and not isinstance(operand, bool)
    if operator in NUMERIC_OPERATORS and not number:
        raise error(f"'{operator}' compares with a number.", "invalid_rule", join(path, "value"))
    if operator == "in" and (not isinstance(operand, list) or not operand):
        raise error("'in' takes a non-empty array of values.", "invalid_rule", join(path, "value"))
    if operator == "matches":
        if not isinstance(operand, str):
            raise error("'matches' takes a regular expression.", "invalid_rule",
                        join(path, "value"))  # fmt: skip
        try:
            re.compile(operand)
        except (re.error, RecursionError, OverflowError) as exc:
            raise error(f"Not a valid regular expression: {exc}.", "invalid_rule",
                        join(path, "value")) from exc  # fmt: skip


MILESTONES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {**TEXT, "maxLength": 100},
            "date": {"type": "string", "format": "date"},
            "level": {"type": "integer", "minimum": 1, "maximum": 32767,
                      "description": "The ordinal of a level of the track."},
        },
        "required": ["name", "date"],
        "additionalProperties": False,
    },
    "description": "A campaign's milestones, each dated within the campaign "
    "(start-date to target-completion-date).",
}  # fmt: skip


def _date(value):
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@describe(MILESTONES_SCHEMA)
def validate_milestones_shape(value):
    validate_milestones(value, check_dates=False)


def validate_milestones(value, start=None, target=None, check_dates=True):
    """Milestones ``[{name, date, level?}]``, each dated within the campaign. A milestone's
    level is checked against the track's levels where those are saved (soundcheck/levels.py)."""
    if not isinstance(value, list):
        raise error("Milestones are an array of {name, date, level} objects.", "invalid_milestone")
    for index, milestone in enumerate(value):
        if not isinstance(milestone, dict):
            raise error("A milestone is an object {name, date, level}.", "invalid_milestone",
                        index)  # fmt: skip
        unknown = sorted(set(milestone) - {"name", "date", "level"})
        if unknown:
            raise error(f"A milestone has no member '{unknown[0]}'.", "invalid_milestone",
                        join(index, unknown[0]))  # fmt: skip
        if not is_text(milestone.get("name"), 100):
            raise error("A milestone's name is 1 to 100 characters.", "invalid_milestone",
                        join(index, "name"))  # fmt: skip
        day = _date(milestone.get("date"))
        if day is None:
            raise error("A milestone's date is a date (YYYY-MM-DD).", "invalid_milestone",
                        join(index, "date"))  # fmt: skip
        if not check_dates:
            continue
        if start is None or target is None:
            raise error("Milestones belong to a campaign with a start and target completion "
                        "date.", "invalid_milestone", join(index, "date"))  # fmt: skip
        if not start <= day <= target:
            raise error(f"A milestone is dated within the campaign ({start} to {target}).",
                        "invalid_milestone", join(index, "date"))  # fmt: skip
        level = milestone.get("level")
        if level is not None and (
            not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 32767
        ):
            raise error("A milestone's level is a level's ordinal.", "invalid_milestone",
                        join(index, "level"))  # fmt: skip


def validate_milestone_levels(milestones, ordinals):
    for index, milestone in enumerate(milestones or []):
        level = milestone.get("level") if isinstance(milestone, dict) else None
        if level is not None and level not in ordinals:
            raise error(f"The track has no level {level}.", "invalid_milestone",
                        join(index, "level"))  # fmt: skip


DETAILS_MAX_BYTES = 64 * 1024


@describe({"type": "object", "description": f"At most {DETAILS_MAX_BYTES} bytes as JSON."})
def validate_details(value):
    if not isinstance(value, dict):
        raise error("Details are a JSON object.", "not_an_object")
    if len(jsoncodec.dumps(value)) > DETAILS_MAX_BYTES:
        raise error(f"Details are at most {DETAILS_MAX_BYTES} bytes as JSON.", "too_large")
