"""import_catalog on generated files, valid and hostile cells mixed: it never fails but
with its own words, reports each failed row where it is, writes exactly what it counts,
and a second run over the same file creates and changes nothing."""

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from products.models import Product
from tests.factories import make_organization
from tracks.models import Track

pytestmark = pytest.mark.django_db

HEADER = [
    "product.upc-code", "product.name", "product.label", "product.language",
    "product.release-date", "product.product-type", "title", "isrc-code", "volume-number",
    "track-number", "artist", "audio-language", "genre", "bpm", "explicit-content", "composer",
]  # fmt: skip
PRODUCT_COLUMNS = HEADER[:6]

# Any text a UTF-8 file can hold (no lone surrogates), short or over a field's length.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)


def cells(*values):
    return st.one_of(st.sampled_from(values), TEXT)


NUMBERS = cells("1", "2", "3", "0", "-1", "1.5", "x", "99999999999", "9" * 5000, "1e400", "")
CELLS = {
    "product.upc-code": cells("4006381333931", "0012345678905", "0036000291452", "123", ""),
    "product.name": cells("Album", " Album ", ""),
    "product.label": cells("Night Records", "Day Records", ""),
    "product.language": cells("en", "fr", "zz", "EN", ""),
    "product.release-date": cells("2024-05-01", "2024-13-01", "01/05/2024", ""),
    "product.product-type": cells("album", "single", "nope", ""),
    "title": cells("Song", " Song ", "x" * 256, ""),
    "isrc-code": cells("GBAYE0000001", "gb-aye-00-00002", "GBAYE000000", "ZZAYE0000001", ""),
    "volume-number": NUMBERS,
    "track-number": NUMBERS,
    "artist": cells("A|B", "A", "|", "A||B", '["A|B"]', "[1]", "[", "{}", ""),
    "audio-language": cells("en", "de", "zz", ""),
    "genre": cells("Rock", "Hip-Hop/Rap", "rock", "nope", ""),
    "bpm": cells("120.5", "0", "-1", "nan", "1e400", "120,5", ""),
    "explicit-content": cells("true", "false", "yes", "1", ""),
    "composer": cells("C", "C|D", "", "[]"),
}


@st.composite
def catalogs(draw):
    """A CSV text: a few products, each row one of them with a track (or none)."""
    products = draw(
        st.lists(st.fixed_dictionaries({c: CELLS[c] for c in PRODUCT_COLUMNS}), min_size=1,
                 max_size=3)
    )  # fmt: skip
    track = st.fixed_dictionaries({c: CELLS[c] for c in HEADER[6:]})
    rows = draw(st.lists(st.tuples(st.sampled_from(products), track), min_size=1, max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for product, cells_ in rows:
        writer.writerow([{**product, **cells_}[column] for column in HEADER])
    return out.getvalue()


def run(path, organization, single_process):
    """import_catalog: (stdout, the report's entries, whether it failed)."""
    out, err = io.StringIO(), io.StringIO()
    report = path.with_suffix(".jsonl")
    try:
        call_command(
            "import_catalog", str(path), organization=organization.slug, report=str(report),
            single_process=single_process, stdout=out, stderr=err,
        )  # fmt: skip
        failed = False
    except CommandError as exc:
        assert re.fullmatch(r"\d+ row\(s\) failed \(reported above\); the rest were loaded\.",
                            str(exc)), exc  # fmt: skip
        failed = True
    entries = [json.loads(line) for line in report.read_text().split("\n") if line]
    assert err.getvalue() == "".join(
        f"{e['file']}: {e['where']}: {e['pointer'] + ': ' if e['pointer'] else ''}{e['message']}\n"
        for e in entries
    )
    return out.getvalue(), entries, failed


def counted(out, kind):
    """The summary's counts for ``kind``: {"created": n, "updated": n, "unchanged": n}."""
    found = re.search(rf"{kind}: ([\d,]+) created, ([\d,]+) updated, ([\d,]+) unchanged", out)
    numbers = [int(n.replace(",", "")) for n in found.groups()]
    return dict(zip(("created", "updated", "unchanged"), numbers, strict=True))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=catalogs(), single_process=st.booleans())
def test_any_catalog_is_loaded_or_reported_row_by_row_and_a_second_run_changes_nothing(
    text, single_process
):
    organization = make_organization()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.csv"
        path.write_text(text, encoding="utf-8")
        lines = len(text.splitlines()) - 1

        out, entries, failed = run(path, organization, single_process)

        failed_rows = int(re.search(r"rows failed: ([\d,]+)", out).group(1))
        assert failed == (failed_rows > 0)
        # A row's problems share its line; one of the file itself stops its reading.
        assert failed_rows == len({entry.get("line", "file") for entry in entries}) <= lines
        for entry in entries:
            assert entry["file"] == str(path) and entry["message"]
            assert entry["pointer"] == "" or entry["pointer"].split("/")[1] in HEADER
        tracks = counted(out, "tracks")
        products = counted(out, "products")
        stored = Track.objects.filter(product__label__organization=organization)
        assert stored.count() == tracks["created"]
        assert tracks["created"] + tracks["updated"] + tracks["unchanged"] <= lines - failed_rows
        assert (
            Product.objects.filter(label__organization=organization).count() == products["created"]
        )

        again, entries_again, _ = run(path, organization, single_process)

        assert counted(again, "tracks")["created"] == counted(again, "tracks")["updated"] == 0
        assert counted(again, "products")["created"] == counted(again, "products")["updated"] == 0
        assert counted(again, "tracks")["unchanged"] == tracks["created"]
        assert [(e["where"], e["pointer"]) for e in entries_again] == [
            (e["where"], e["pointer"]) for e in entries
        ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def members(**examples):
    """Attributes: some of ``examples``' members, each one of its values or any JSON."""
    return st.fixed_dictionaries(
        {}, optional={m: st.sampled_from(v) | JSON for m, v in examples.items()}
    )


PRODUCT = members(**{
    "upc-code": ["4006381333931", "0012345678905", "123"], "name": ["Album", ""],
    "release-date": ["2024-05-01", "2024-13-01"], "product-type": ["album", "nope"],
})  # fmt: skip
TRACK = members(**{
    "title": ["Song", " Song "], "isrc-code": ["GBAYE0000001", "GBAYE0000002", "x"],
    "volume-number": [1, 0, "1"], "track-number": [1, 2, 2.5], "artist": [["A"], [], "A"],
    "bpm": [120.5, -1], "is-stream-gated": [True, False],
    "stream-conditions": [{"usdc-purchase": {"price": 100, "splits": []}}, {"x": 1}],
})  # fmt: skip
RELATED = {
    "label": st.sampled_from([{"meta": {"name": "Night Records"}}, {"data": None},
                              {"data": {"type": "labels", "id": "1"}}]) | JSON,
    "language": st.sampled_from([{"data": {"type": "languages", "id": "en"}},
                                 {"data": {"type": "languages", "id": "zz"}}]) | JSON,
}  # fmt: skip


@st.composite
def documents(draw):
    """An NDJSON line: a product with its tracks, its parts valid or any JSON."""
    tracks = draw(st.lists(TRACK, max_size=3))
    document = {
        "data": {
            "type": draw(st.sampled_from(["products", "products", "tracks"])),
            "attributes": draw(PRODUCT),
            "relationships": draw(st.fixed_dictionaries({}, optional=RELATED)),
        },
        "included": [
            {"type": "tracks", "attributes": attributes,
             "relationships": {"audio-language": {"data": {"type": "languages", "id": "en"}}}}
            for attributes in tracks
        ],
    }  # fmt: skip
    return draw(st.sampled_from([document] * 6 + [draw(JSON)]))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(documents(), min_size=1, max_size=4), single_process=st.booleans())
def test_any_ndjson_catalog_is_loaded_or_reported_and_a_second_run_changes_nothing(
    lines, single_process
):
    organization = make_organization()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.ndjson"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

        out, entries, _ = run(path, organization, single_process)

        for entry in entries:
            assert entry["line"] in range(1, len(lines) + 1) and entry["message"]
            assert entry["pointer"] == "" or entry["pointer"].startswith("/")  # (into the line)
        tracks = counted(out, "tracks")
        stored = Track.objects.filter(product__label__organization=organization)
        assert stored.count() == tracks["created"]

        again, entries_again, _ = run(path, organization, single_process)

        assert counted(again, "tracks")["created"] == counted(again, "tracks")["updated"] == 0
        assert counted(again, "products")["created"] == counted(again, "products")["updated"] == 0
        assert [(e["where"], e["pointer"]) for e in entries_again] == [
            (e["where"], e["pointer"]) for e in entries
        ]
