"""Soundcheck's YAML (app-config) and this service's API members, both ways.

Soundcheck configures checks and tracks in YAML with camelCase keys (``ownerEntityRef``,
``documentationURL``, ``factRef``) and a few shorthands; the API names the same things
with dasherized members. This module only translates: the serializers judge the result,
so the YAML importer applies exactly the API's rules.

Files: a bare list of items, one item, ``{checks: [...], tracks: [...]}`` (``programs``,
the older name of ``tracks``, works too), or an app-config with those under
``soundcheck:``. A list given as ``{$include: ./checks.yaml}`` (as in app-config) is read
from that file, relative to the including one. A bare list (or item) is of tracks when an
item has a member only tracks have (``levels``, ``documentationURL``, ...), else of checks.

Shorthands: a check's ``type: manual`` is a manual check, one with a ``rule`` a rule check,
one with neither an external check; a rule that is a bare list of conditions means
``all`` of them; a filter may be wrapped as ``{catalog: {...}}``; a track's ``type`` is
``track-type``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from config.reporting import Problem

from .models import TrackType

# (YAML key, API member), in the order exports write them.
CHECK_KEYS = (
    ("id", "id"),
    ("name", "name"),
    ("description", "description"),
    ("ownerEntityRef", "owner-entity-ref"),
    ("type", "kind"),
    ("rule", "rule"),
    ("passedMessage", "passed-message"),
    ("failedMessage", "failed-message"),
    ("notApplicableMessage", "not-applicable-message"),
    ("filter", "filter"),
    ("exclude", "exclude"),
)
TRACK_KEYS = (
    ("id", "id"),
    ("name", "name"),
    ("description", "description"),
    ("ownerEntityRef", "owner-entity-ref"),
    ("group", "group"),
    ("type", "track-type"),
    ("badge", "badge"),
    ("filter", "filter"),
    ("exclude", "exclude"),
    ("documentationURL", "documentation-url"),
    ("badgeType", "badge-type"),
    ("draft", "draft"),
    ("isEditable", "is-editable"),
    ("archived", "archived"),
    ("supportChannel", "support-channel"),
    ("startDate", "start-date"),
    ("targetCompletionDate", "target-completion-date"),
    ("milestones", "milestones"),
    ("levels", "levels"),
)
CHECK_MEMBERS = dict(CHECK_KEYS)
TRACK_MEMBERS = dict(TRACK_KEYS)
# Member -> YAML key, for pointing at the YAML in error reports.
YAML_KEYS = {
    **{member: key for key, member in CHECK_KEYS + TRACK_KEYS},
    "fact-ref": "factRef",
}
# Soundcheck keys this service does not keep: dropped with a warning, not an error.
IGNORED_CHECK_KEYS = {
    "schedule": "schedule is not kept: this service does not evaluate rules on a schedule",
}
# Keys only a track has: a bare list with an item that has one is a list of tracks.
TRACK_ONLY_KEYS = {key for key, _ in TRACK_KEYS} - {key for key, _ in CHECK_KEYS}
LISTS = {"checks": "check", "tracks": "track", "programs": "track"}


class FormatError(Exception):
    """A file that cannot be read as Soundcheck YAML (names the file, and the line)."""


@dataclass
class Item:
    """One check or track as a file gives it."""

    file: str
    label: str  # "item 3", or "checks item 3" in a file with several lists
    kind: str  # "check" or "track"
    raw: object
    warnings: list = field(default_factory=list)

    @property
    def id(self):
        return self.raw.get("id") if isinstance(self.raw, dict) else None

    def where(self):
        return f"{self.file}: {self.place()}"

    def place(self):
        named = f" (id {self.id})" if self.id is not None else ""
        return f"{self.label}{named}"

    def problem(self, pointer, message):
        """A problem of this item at ``pointer`` (a path into the YAML, or "")."""
        location = [("item", self.label)]
        if isinstance(self.id, str):
            location.append(("id", self.id))
        return Problem(self.file, self.place(), pointer, message, tuple(location))


# Reading files


def load(path):
    """The checks and tracks of the file at ``path``, in file order: [Item]."""
    path = Path(path)
    data = parse(path)
    if isinstance(data, dict) and "soundcheck" in data:
        data = data["soundcheck"]
        if not isinstance(data, dict):
            raise FormatError(f"{path}: 'soundcheck' is a mapping of checks and tracks.")
        return wrapped(path, data)
    if isinstance(data, dict) and "id" not in data and set(data) & set(LISTS):
        return wrapped(path, data)
    if data is None:
        return []
    if isinstance(data, (dict, list)):
        return items_of(path, data, "item", None)
    raise FormatError(
        f"{path}: expected a list of checks or tracks, one of them, or a mapping with "
        "checks, tracks or programs."
    )


def parse(path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # (a NUL in the path: ValueError)
        raise FormatError(f"{path}: cannot be read: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise FormatError(f"{path}:{where} not valid YAML: {detail}") from exc


def wrapped(path, section):
    found = []
    for key, kind in LISTS.items():
        value = section.get(key)
        if value is None:
            continue
        source, label = path, f"{key} item"
        if isinstance(value, dict) and "$include" in value:
            source, label = path.parent / str(value["$include"]), "item"
            value = parse(source)
            if value is None:
                continue
        if not isinstance(value, (dict, list)):
            raise FormatError(f"{source}: '{key}' is a list of {kind}s.")
        found += items_of(source, value, label, kind)
    return found


def items_of(path, value, label, kind):
    """The items of a list (or of one item); without a ``kind`` from its key, a list is of
    tracks when one of its items has a member only tracks have (``levels``, ...), else of
    checks: a file holds one or the other, so a track that lacks its levels is reported,
    not taken for a check."""
    values = value if isinstance(value, list) else [value]
    if kind is None:
        kind = "track" if any(map(looks_like_track, values)) else "check"
    return [
        Item(str(path), f"{label} {index}", kind, raw) for index, raw in enumerate(values, start=1)
    ]


def looks_like_track(raw):
    return isinstance(raw, dict) and (
        bool(set(raw) & TRACK_ONLY_KEYS) or raw.get("type") in TrackType.values
    )


# YAML -> API


def check_resource(item, creating):
    """The API resource object ``{id, attributes}`` of a check from the checks list.

    The kind follows from the item (``type``, else ``rule``, else external), so an item
    without a rule clears a stored one. Soundcheck's checks often have no name (tracks name
    them in their levels): a new one is named by its id."""
    raw = plain(item.raw)
    attributes = check_attributes(raw, item.warnings)
    attributes["kind"] = raw.get("type", "rule" if "rule" in raw else "external")
    if attributes["kind"] != "rule" and "rule" not in raw:
        attributes["rule"] = None
    if creating and "name" not in raw and isinstance(raw.get("id"), str):
        attributes["name"] = raw["id"]
    return resource(raw, attributes)


def track_resource(item):
    raw = plain(item.raw)
    attributes = {}
    for key, value in raw.items():
        if key == "id":
            continue
        member = TRACK_MEMBERS.get(key, key)
        if member in ("filter", "exclude"):
            value = unwrap_filter(value)
        elif member == "levels" and isinstance(value, list):
            value = [level(each, item.warnings) for each in value]
        attributes[member] = value
    return resource(raw, attributes)


def resource(raw, attributes):
    found = {"attributes": attributes}
    if "id" in raw:
        found["id"] = raw["id"]
    return found


def check_attributes(raw, warnings):
    attributes = {}
    for key, value in raw.items():
        if key in IGNORED_CHECK_KEYS:
            warnings.append(IGNORED_CHECK_KEYS[key])
            continue
        if key in ("id", "type"):
            continue
        member = CHECK_MEMBERS.get(key, key)
        if member == "rule":
            value = rule(value)
        elif member in ("filter", "exclude"):
            value = unwrap_filter(value)
        attributes[member] = value
    return attributes


def level(value, warnings):
    if not isinstance(value, dict):
        return value
    found = dict(value)
    if isinstance(found.get("checks"), list):
        found["checks"] = [level_check(check, warnings) for check in found["checks"]]
    return found


def level_check(value, warnings):
    """A check in a level: its id, with fields when it is defined (or updated) right there.
    Its kind is given only by a ``type`` or ``rule`` it has."""
    if not isinstance(value, dict):
        return value
    found = check_attributes(value, warnings)
    if "type" in value:
        found["kind"] = value["type"]
    elif "rule" in value:
        found["kind"] = "rule"
    if "id" in value:
        found = {"id": value["id"], **found}
    return found


def rule(value):
    """Soundcheck's rule -> the API's: conditions' ``factRef`` is ``fact-ref``; a bare list
    is ``all`` of its rules."""
    if isinstance(value, list):
        return {"all": [rule(each) for each in value]}
    if not isinstance(value, dict):
        return value
    if set(value) & {"all", "any"}:
        return {
            key: [rule(each) for each in rules] if isinstance(rules, list) else rules
            for key, rules in value.items()
        }
    return {("fact-ref" if key == "factRef" else key): each for key, each in value.items()}


def unwrap_filter(value):
    """``{catalog: {metadata.tags: python}}`` (Soundcheck's older filters) -> the inner one."""
    if isinstance(value, dict) and set(value) == {"catalog"} and isinstance(value["catalog"], dict):
        return value["catalog"]
    return value


def plain(value):
    """YAML's dates and times (PyYAML reads ``2025-07-01`` as a date) as ISO strings."""
    if isinstance(value, dict):
        return {key: plain(each) for key, each in value.items()}
    if isinstance(value, list):
        return [plain(each) for each in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def key_not_text(raw):
    """The path in ``raw`` of a mapping's key that is not a string (YAML's ``1:``,
    ``null:``, ``2025-07-01:``), where a JSON document has only strings; else None.
    (``raw`` is nested boundedly: ``check_document`` has judged it.)"""
    pending = [(raw, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{where}/{key}"
                pending.append((item, f"{where}/{key}"))
        elif isinstance(value, list):
            pending.extend((item, f"{where}/{index}") for index, item in enumerate(value))
    return None


def yaml_path(raw, segments):
    """The path in the YAML item ``raw`` of the spot the API members ``segments`` name:
    ``["levels", "0", "checks", "1", "owner-entity-ref"]`` -> ``/levels/0/checks/1/ownerEntityRef``.
    Follows the item itself, through the shorthands (bare-list rules, catalog filters)."""
    found, node = [], raw
    queue = list(segments)
    while queue:
        segment = str(queue.pop(0))
        if isinstance(node, dict):
            if segment in node:
                key = segment
            elif segment in YAML_KEYS and YAML_KEYS[segment] in node:
                key = YAML_KEYS[segment]
            elif set(node) == {"catalog"} and isinstance(node["catalog"], dict):
                found.append("catalog")
                node = node["catalog"]
                queue.insert(0, segment)
                continue
            else:
                found.append(YAML_KEYS.get(segment, segment))
                node = None
                continue
            found.append(str(key))
            node = node[key]
        elif isinstance(node, list):
            if segment == "all":  # a rule given as a bare list
                continue
            if segment.isdigit() and int(segment) < len(node):
                found.append(segment)
                node = node[int(segment)]
            else:
                found.append(segment)
                node = None
        else:
            found.append(segment)
            node = None
    return "/" + "/".join(found) if found else ""


# API -> YAML (models to the items an export writes)


def check_item(check):
    """A Check as Soundcheck's YAML item; null members are left out."""
    item = {}
    for key, member in CHECK_KEYS:
        if member == "kind":
            if check.kind == "manual":
                item["type"] = "manual"
            continue
        value = check.slug if member == "id" else getattr(check, field_name(member))
        if member == "rule" and value is not None:
            value = yaml_rule(value)
        if value is not None:
            item[key] = value
    return item


def track_item(track):
    """A SoundcheckTrack (levels and their checks prefetched) as Soundcheck's YAML item."""
    item = {}
    for key, member in TRACK_KEYS:
        if member == "id":
            value = track.slug
        elif member == "levels":
            value = [level_item(each) for each in track.levels.all()]
        elif member == "milestones":
            value = [{**each, "date": yaml_date(each.get("date"))} for each in track.milestones]
        else:
            value = getattr(track, field_name(member))
        if value is not None:
            item[key] = value
    return item


def level_item(level):
    item = {"ordinal": level.ordinal, "name": level.name}
    if level.description:
        item["description"] = level.description
    if level.badge is not None:
        item["badge"] = level.badge
    item["checks"] = []
    for level_check in level.level_checks.all():
        check = level_check.check_definition
        reference = {"id": check.slug, "name": check.name}
        if check.description:
            reference["description"] = check.description
        item["checks"].append(reference)
    return item


def yaml_date(value):
    """A stored ISO date as a YAML date (written unquoted, as startDate is)."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return value


def yaml_rule(value):
    if isinstance(value, dict) and set(value) & {"all", "any"}:
        return {key: [yaml_rule(each) for each in rules] for key, rules in value.items()}
    if isinstance(value, dict):
        return {("factRef" if key == "fact-ref" else key): each for key, each in value.items()}
    return value


def field_name(member):
    return member.replace("-", "_")


class Dumper(yaml.SafeDumper):
    """Lists indented under their key, multi-line text as literal blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _text(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, _text)


def dump(data):
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
