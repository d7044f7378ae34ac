"""import_soundcheck on generated YAML files, valid checks and tracks mixed with hostile
values (any text, wrong types, unknown keys, odd nesting, anchors and aliases, dates,
includes): it returns or fails with a CommandError, never another exception; each problem
is reported with its file, item and message, on standard error exactly as in the report
file; the summary counts every item once and stores exactly the checks and tracks it
says; and a second run over the same file creates nothing, and when both runs import
every item, changes nothing stored."""

import io
import json
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from soundcheck import yaml_format
from soundcheck.models import Check, Level, LevelCheck, SoundcheckTrack
from tests.factories import make_organization

pytestmark = pytest.mark.django_db

# Any text a UTF-8 file can hold (no lone surrogates).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT | st.dates() | st.datetimes()
)
KEYS = TEXT | st.integers() | st.none() | st.booleans() | st.dates()
HOSTILE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)


def weighted(*choices):
    """One of the ``(weight, strategy)`` choices, as often as its weight says (shrinking
    towards the first)."""
    total = sum(weight for weight, _ in choices)

    def pick(n):
        for weight, strategy in choices:
            if n < weight:
                return strategy
            n -= weight

    return st.integers(0, total - 1).flatmap(pick)


def field(good, odd=()):
    """A member's values: (those the API takes, any: mostly those, else one of ``odd`` or
    any value at all)."""
    good = good if isinstance(good, st.SearchStrategy) else st.sampled_from(good)
    odd = st.sampled_from(odd) if odd else HOSTILE
    return good, weighted((6, good), (2, odd), (2, HOSTILE))


UNKNOWN = {"severity": field(["high"])[1], "Name": TEXT, "$include": field(["x.yaml"])[1]}


def members(required, optional=None):
    """An item's members as (clean: the ``required`` and some ``optional`` ones, each a good
    value; any: clean, or with any values, members left out and unknown keys)."""
    optional = optional or {}
    clean = st.fixed_dictionaries(
        {key: good for key, (good, _) in required.items()},
        optional={key: good for key, (good, _) in optional.items()},
    )
    every = {key: value for key, (_, value) in {**required, **optional}.items()}
    messy = st.fixed_dictionaries(
        {key: every[key] for key in required},
        optional={key: every[key] for key in optional} | UNKNOWN,
    ) | st.fixed_dictionaries({}, optional=every | UNKNOWN)
    return clean, weighted((3, clean), (1, messy))


def listed(item, max_size=3, unique_by=None, min_size=0):
    """A list of items: (clean items, any: a list of any items or any value)."""
    good, value = item
    return (
        st.lists(good, min_size=min_size, max_size=max_size, unique_by=unique_by),
        weighted((4, st.lists(value, max_size=max_size)), (1, HOSTILE)),
    )


# Few ids, so that levels name the checks of the file and items share ids.
IDS = field(["has-readme", "ci", "lifecycle_defined"], ["x" * 101, "has readme", " ci", "ci\n", ""])
NAMES = field(["Has a README", "Basic Setup"], [" Padded ", "", " ", "x" * 101, 12, None])
TEXTS = field(["What it checks.", "Line one\nline two\n"], ["", " ", None, 1])
OWNERS = field(["group:default/web", "Group:Web"], ["not a reference", "", None])
MESSAGES = field(["Passed.", "Line one\nline two\n", None], ["", ["Passed."]])
FILTERS = field(
    [{"kind": "Component"}, {"catalog": {"spec.type": ["service", "website"]}}, {}, None],
    [{"metadata.tags": []}, {"catalog": "x"}, {"kind": {"a": 1}}, "Component"],
)
OPERATIONS = [
    ("equal", "production"), ("lessThan", 10), ("in", [1, 2]), ("equal", True),
    ("matches", "^[a-z]+$"), ("notEqual", None), ("greaterThanInclusive", 1.5),
]  # fmt: skip
FACT = members(
    {
        "factRef": field(["github:default/repo_details"], ["", " ", 1]),
        "path": field(["$.open_issues", "$.spec.lifecycle"], ["open_issues"]),
    },
)
CONDITION = (
    st.tuples(FACT[0], st.sampled_from(OPERATIONS)).map(
        lambda pair: {**pair[0], "operator": pair[1][0], "value": pair[1][1]}
    ),
    st.tuples(
        FACT[1],
        st.fixed_dictionaries(
            {},
            optional={
                "operator": field([o for o, _ in OPERATIONS], ["equals", "LessThan"])[1],
                "value": field(
                    [v for _, v in OPERATIONS], ["(", [], float("nan"), float("inf"), 10**40]
                )[1],
            },
        ),
    ).map(lambda pair: {**pair[0], **pair[1]}),
)


def rules(condition):
    return st.recursive(
        condition,
        lambda inner: (
            st.lists(inner, min_size=1, max_size=3)
            | st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=3)})
            | st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=3)})
        ),
        max_leaves=4,
    )


RULE = (rules(CONDITION[0]), weighted((4, rules(CONDITION[1])), (1, HOSTILE)))
CHECK_MEMBERS = {
    "name": NAMES,
    "description": TEXTS,
    "ownerEntityRef": OWNERS,
    "type": field(["manual", "external", "rule"], ["nope", "Manual"]),
    "rule": RULE,
    "passedMessage": MESSAGES,
    "failedMessage": MESSAGES,
    "notApplicableMessage": MESSAGES,
    "filter": FILTERS,
    "exclude": FILTERS,
    "schedule": field([{"frequency": {"cron": "*/5 * * * 1-5"}}]),
}
CHECK = members({"id": IDS}, CHECK_MEMBERS)
# A level's check: mostly its id alone (a check of the file), else a check defined there.
REFERENCE = st.fixed_dictionaries({"id": IDS[0]})
LEVEL_CHECK = (weighted((1, REFERENCE), (1, CHECK[0])), weighted((1, REFERENCE), (1, CHECK[1])))
SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>'
BADGE = field([{"color": "#cd7f32", "type": "medal"}, {"color": "rgb(192, 192, 192)"}, None],
              [{"color": "rgb(300, 0, 0)"}, {"svg": SVG}, {"shape": "round"}])  # fmt: skip
LEVEL = members(
    {
        "ordinal": field([1, 2, 3], [0, -1, 1.5, "1", True, 40000]),
        "name": field(["Bronze", "Silver"], ["", " ", None]),
        "checks": listed(LEVEL_CHECK, min_size=1, unique_by=lambda check: check["id"]),
    },
    {"description": field(["Documented.", None, ""]), "badge": BADGE},
)
ODD_DATES = ["2025-13-01", "01/07/2025", datetime(2025, 8, 1, 12, 30), 20250701, "2025-06-30"]
DATES = field([date(2025, 8, 15), "2025-08-15"], ODD_DATES)
MILESTONE = members(
    {"name": field(["Rotations set up"], ["", None]), "date": DATES},
    {"level": field([1, 2], [0, "1", True])},
)
TRACK = members(
    {
        "id": IDS,
        "name": NAMES,
        "description": TEXTS,
        "ownerEntityRef": OWNERS,
        "levels": listed(LEVEL, min_size=1, unique_by=lambda level: level["ordinal"]),
    },
    {
        "group": field(["Foundations", None], [""]),
        "type": field(["standard", "playlist", "campaign"], ["nope", "Campaign"]),
        "badge": BADGE,
        "filter": FILTERS,
        "exclude": FILTERS,
        "documentationURL": field(["https://backstage.io/docs"], ["ftp://example.com", "docs"]),
        "badgeType": field(["medal", "status", None], ["gold", ""]),
        "draft": field([True, False], ["yes", 1]),
        "isEditable": field([True, True, True, False], [None, "no"]),
        "archived": field([True, False], [0]),
        "supportChannel": field(["#basic-setup"], ["", None]),
        "startDate": field([date(2025, 7, 1), "2025-07-01", None], ODD_DATES),
        "targetCompletionDate": field([date(2025, 9, 30), "2025-09-30", None], ODD_DATES),
        "milestones": listed(MILESTONE, max_size=2),
    },
)
MORE_CHECKS, MORE_TRACKS = "more-checks.yaml", "more-tracks.yaml"
# Files whose shape only YAML itself can give: merge keys, aliases, several documents.
RAW = [
    "- &base {id: has-readme, name: A README}\n- <<: *base\n  id: ci\n",
    "checks:\n  - &c {id: ci, type: manual}\ntracks:\n  - id: t\n    name: T\n"
    "    description: D\n    ownerEntityRef: group:default/web\n"
    "    levels: [{ordinal: 1, name: One, checks: [*c]}]\n",
    "- id: ci\n---\n- id: ci\n",
    "- id: !!binary aGk=\n",
    "- {id: ci, name: [unclosed\n",
    "checks: 12\n",
    "soundcheck: [a, b]\n",
    "# nothing yet\n",
]


@st.composite
def shared(draw, items):
    """``items`` with some of them, or some of their members, the same object as another's
    (written as a YAML anchor and aliases), or holding themselves."""
    items = list(items)
    for _ in range(draw(weighted((3, st.just(0)), (1, st.integers(1, 2))))):
        if not items:
            break
        i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
        a, b = items[i], items[j]
        how = draw(st.sampled_from(["item", "member", "self"]))
        if how == "item":
            items[j] = a
        elif how == "member" and isinstance(a, dict) and isinstance(b, dict) and a:
            key = draw(st.sampled_from(sorted(a, key=repr)))
            b[key] = a[key]
        elif how == "self" and isinstance(b, dict):
            b[draw(st.sampled_from(["rule", "levels", "filter"]))] = b
    return items


def references(track):
    """The checks given by id alone in the levels of ``track``."""
    levels = track.get("levels") if isinstance(track, dict) else None
    for level in levels if isinstance(levels, list) else []:
        checks = level.get("checks") if isinstance(level, dict) else None
        for check in checks if isinstance(checks, list) else []:
            if isinstance(check, dict) and set(check) == {"id"}:
                yield check


@st.composite
def files(draw):
    """The file's text, and the files it may include: {name: text}."""
    checks = draw(shared(draw(st.lists(CHECK[1], min_size=1, max_size=3))))
    tracks = draw(shared(draw(st.lists(TRACK[1], min_size=1, max_size=3))))
    # Most levels' checks given by id alone name a check of the file (once in a track).
    known = {c["id"] for c in checks if isinstance(c, dict) and isinstance(c.get("id"), str)}
    for track in tracks:
        free = sorted(known)
        for check in references(track):
            if free and draw(weighted((3, st.just(True)), (1, st.just(False)))):
                check["id"] = free.pop(draw(st.integers(0, len(free) - 1)))
    included = {}
    tracks_key = draw(st.sampled_from(["tracks", "programs"]))

    def include(name, items):
        odd = st.sampled_from(["missing.yaml", ".", "", "nul\x00.yaml", 12])
        target = draw(weighted((4, st.just(name)), (2, odd), (1, HOSTILE)))
        if target == name:
            included[name] = dump(draw, items)
        return {"$include": target}

    section = {"checks": checks, tracks_key: tracks}
    if draw(st.booleans()):
        section["checks"] = include(MORE_CHECKS, checks)
    if draw(st.booleans()):
        section[tracks_key] = include(MORE_TRACKS, tracks)
    shapes = [
        section, section, section, {"soundcheck": section, "app": {"title": "Backstage"}},
        {"checks": checks, "tracks": tracks, "programs": tracks}, checks, tracks,
        checks[0] if checks else None, tracks[0] if tracks else None, {"checks": checks},
    ]  # fmt: skip
    document = draw(weighted((10, st.sampled_from(shapes)), (1, HOSTILE)))
    text = draw(weighted((10, st.just(dump(draw, document))), (1, st.sampled_from(RAW)), (1, TEXT)))
    return text, included


def dump(draw, document):
    return yaml.dump(
        document,
        Dumper=yaml.SafeDumper,
        sort_keys=False,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, None, True])),
    )


PROGRESS = re.compile(r"^ *\d+% [\d,]+ items [\d,]+ items/s ETA [\d:-]+\n", re.MULTILINE)


def printed(entry):
    """A report entry as the reporter writes it on standard error (Problem.__str__, ended
    by a newline unless it ends with one, as Django's OutputWrapper does)."""
    member = f"{entry['pointer']}: " if entry["pointer"] else ""
    text = f"{entry['file']}: {entry['where']}: {member}{entry['message']}"
    return text if text.endswith("\n") else text + "\n"


def run(path, organization, report):
    """import_soundcheck: (stdout, the report's entries, the CommandError's message or
    None)."""
    out, err = io.StringIO(), io.StringIO()
    report.unlink(missing_ok=True)
    try:
        call_command(
            "import_soundcheck", str(path), organization=organization.slug, report=str(report),
            stdout=out, stderr=err,
        )  # fmt: skip
        failure = None
    except CommandError as exc:
        failure = str(exc)
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    entries = [json.loads(line) for line in text.split("\n") if line]
    assert PROGRESS.sub("", err.getvalue()) == "".join(map(printed, entries))
    return out.getvalue(), entries, failure


def counted(out):
    """The summary (its last lines: an item's notice may hold anything):
    {kind: {"created": n, "updated": n, "skipped": n, "failed": n}}."""
    found = {}
    for kind in ("check", "track"):
        numbers = re.findall(
            rf"^  {kind}s: (\d+) created, (\d+) updated, (\d+) skipped, (\d+) failed$", out, re.M
        )[-1]
        found[kind] = dict(zip(("created", "updated", "skipped", "failed"), map(int, numbers),
                               strict=True))  # fmt: skip
    return found


def stored(organization):
    """Everything the import writes for ``organization``, but keys and timestamps."""
    checks = Check.objects.filter(organization=organization)
    tracks = SoundcheckTrack.objects.filter(organization=organization)
    leave_out = {"id", "organization", "created_at", "updated_at"}
    names = [f.name for f in Check._meta.concrete_fields if f.name not in leave_out]
    track_names = [f.name for f in SoundcheckTrack._meta.concrete_fields if f.name not in leave_out]
    return (
        sorted(map(repr, checks.values_list(*names))),
        sorted(map(repr, tracks.values_list(*track_names))),
        sorted(map(repr, Level.objects.filter(track__in=tracks).values_list(
            "track__slug", "ordinal", "name", "description", "badge"))),
        sorted(map(repr, LevelCheck.objects.filter(track__in=tracks).values_list(
            "track__slug", "level__ordinal", "position", "check_definition__slug"))),
    )  # fmt: skip


def failed_items(entries, items):
    """The items ``entries`` report, checking that each names an item where it is."""
    places = {(item.file, item.place()): item for item in items}
    for entry in entries:
        assert (entry["file"], entry["where"]) in places, entry
        assert entry["item"] == places[entry["file"], entry["where"]].label
        assert entry["message"]
    return {id(places[entry["file"], entry["where"]]) for entry in entries}


def slug(value):
    """An id as stored (the API's id field trims white space)."""
    return value.strip()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file=files())
def test_any_yaml_is_imported_or_reported_item_by_item_and_a_second_run_creates_nothing(file):
    text, included = file
    note(f"The file: {text!r}; the files it includes: {included!r}")
    organization = make_organization()
    checks = Check.objects.filter(organization=organization)
    tracks = SoundcheckTrack.objects.filter(organization=organization)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        path = data / "soundcheck.yaml"
        path.write_text(text, encoding="utf-8")
        for name, content in included.items():
            (data / name).write_text(content, encoding="utf-8")
        report = Path(folder) / "report.jsonl"

        out, entries, failure = run(path, organization, report)

        try:
            items = yaml_format.load(path)
        except yaml_format.FormatError as exc:
            # The file itself is refused: nothing imported, the reason named.
            assert failure == str(exc)
            assert entries == []
            assert not checks.exists() and not tracks.exists()
            return
        counts = counted(out)
        for kind in ("check", "track"):
            assert sum(counts[kind].values()) == sum(item.kind == kind for item in items)
        failed = failed_items(entries, items)
        assert len(failed) == counts["check"]["failed"] + counts["track"]["failed"]
        if failed:
            assert failure == (
                f"{len(failed)} item(s) failed (reported above); the rest were imported."
            )
        else:
            assert failure is None

        # What is stored: the ids of the items imported, and the checks their levels name.
        imported = [
            item for item in items
            if id(item) not in failed and f"{item.where()}: not updated," not in out
        ]  # fmt: skip
        check_ids = {slug(item.id) for item in imported if item.kind == "check"}
        track_ids = {slug(item.id) for item in imported if item.kind == "track"}
        named = {
            slug(check["id"])
            for item in imported if item.kind == "track"
            for level in item.raw.get("levels") or [] for check in level["checks"]
        }  # fmt: skip
        assert set(tracks.values_list("slug", flat=True)) == track_ids
        assert set(checks.values_list("slug", flat=True)) == check_ids | named
        assert counts["track"]["created"] == len(track_ids)
        assert counts["check"]["created"] == len(check_ids)
        before = stored(organization)

        again, entries_again, _ = run(path, organization, report)

        counts_again = counted(again)
        assert counts_again["check"]["created"] == counts_again["track"]["created"] == 0
        assert set(tracks.values_list("slug", flat=True)) == track_ids
        assert set(checks.values_list("slug", flat=True)) == check_ids | named
        # What was imported is imported again (a track given twice aside: its items' levels
        # and milestones may agree only in the order the first run met them).
        failed_again = failed_items(entries_again, items)
        track_slugs = [slug(item.id) for item in imported if item.kind == "track"]
        assert not [
            item for item in imported if id(item) in failed_again
            and (item.kind == "check" or track_slugs.count(slug(item.id)) == 1)
        ]  # fmt: skip
        if not entries and not entries_again and not counts_again["track"]["skipped"]:
            # Every item is updated (the command says nothing of each) and, with what is
            # already stored, changes nothing.
            for kind in ("check", "track"):
                updated = sum(item.kind == kind for item in items)
                assert counts_again[kind] == {**counts_again[kind], "updated": updated}
            assert stored(organization) == before
