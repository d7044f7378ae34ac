"""manage.py import_catalog and export_catalog: products and their tracks from CSV, NDJSON
and DDEX ERN files, with the API's rules, idempotent, with a precise report."""

import csv
import io
import json
import textwrap

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import ean

from config.reporting import Report
from products.catalog.formats import CsvReader
from products.catalog.loader import CatalogLoader
from products.models import Label, Language, Product
from tests.factories import default_organization, make_label, make_organization, make_product
from tracks.models import Track

pytestmark = pytest.mark.django_db


def upc(n):
    digits = f"{n:011d}"
    return digits + ean.calc_check_digit(digits)


def isrc(n):
    return f"GBAYE{n:07d}"


HEADER = [
    "product.upc-code", "product.name", "product.label", "product.language",
    "product.release-date", "product.product-type", "title", "isrc-code", "volume-number",
    "track-number", "artist", "audio-language", "genre", "bpm", "explicit-content", "composer",
]  # fmt: skip


def csv_text(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def album_rows(n, tracks=3, label="Night Records", **changes):
    rows = []
    for number in range(1, tracks + 1):
        row = {
            "product.upc-code": upc(n), "product.name": f"Album {n}", "product.label": label,
            "product.language": "en", "product.release-date": "2024-05-01",
            "product.product-type": "album", "title": f"Song {n}.{number}",
            "isrc-code": isrc(n * 100 + number), "volume-number": "1",
            "track-number": str(number), "artist": "The Band|Guest Singer",
            "audio-language": "en", "genre": "Rock", "bpm": "120.5", "explicit-content": "false",
            "composer": "",
        }  # fmt: skip
        row.update(changes)
        rows.append([row[column] for column in HEADER])
    return rows


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(*files, organization="acme", **options):
    """import_catalog ``files``: (stdout, stderr); raises CommandError as the command."""
    default_organization()
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_catalog",
        *map(str, files),
        organization=organization,
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue(), err.getvalue()


def run_failing(*files, **options):
    default_organization()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_catalog",
            *map(str, files),
            organization=options.pop("organization", "acme"),
            stdout=out,
            stderr=err,
            **options,
        )
    return str(failure.value), out.getvalue(), err.getvalue()


def export(format="csv", organization="acme"):
    out = io.StringIO()
    call_command("export_catalog", organization=organization, format=format, stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    return out.getvalue()


# Loading CSV


def test_csv_creates_products_tracks_and_labels(tmp_path):
    path = write(tmp_path, "catalog.csv", csv_text(album_rows(1) + album_rows(2, tracks=2)))

    out, err = load(path)

    assert err == ""
    assert "Loaded 5 rows into organization acme" in out
    assert "products: 2 created, 0 updated, 0 unchanged" in out
    assert "tracks: 5 created, 0 updated, 0 unchanged" in out
    assert "labels: 1 created" in out
    assert "rows failed: 0" in out
    label = Label.objects.get()
    assert (label.name, label.organization.slug) == ("Night Records", "acme")
    product = Product.objects.get(upc_code=upc(1))
    assert (product.name, product.label, product.language_id, str(product.release_date)) == (
        "Album 1",
        label,
        "en",
        "2024-05-01",
    )
    assert product.product_type == "album"
    track = Track.objects.get(isrc_code=isrc(102))
    assert track.product == product
    assert (track.title, track.volume_number, track.track_number) == ("Song 1.2", 1, 2)
    assert track.artist == ["The Band", "Guest Singer"]
    assert (track.genre, track.bpm, track.explicit_content, track.composer) == (
        "Rock",
        120.5,
        False,
        None,
    )


def test_a_second_run_changes_nothing_and_a_changed_row_updates(tmp_path):
    path = write(tmp_path, "catalog.csv", csv_text(album_rows(1)))
    load(path)
    created = {track.pk: track.updated_at for track in Track.objects.all()}

    with CaptureQueriesContext(connection) as queries:
        out, _ = load(path)
    assert "products: 0 created, 0 updated, 1 unchanged" in out
    assert "tracks: 0 created, 0 updated, 3 unchanged" in out
    assert {track.pk: track.updated_at for track in Track.objects.all()} == created
    # The stored rows are read unordered: ordered by id, PostgreSQL walked the primary
    # key for each batch when its statistics lagged behind a load.
    stored = [
        q["sql"]
        for q in queries.captured_queries
        if " IN (" in q["sql"]
        and ('FROM "products_product"' in q["sql"] or 'FROM "tracks_track"' in q["sql"])
    ]
    assert len(stored) == 2 and not [sql for sql in stored if "ORDER BY" in sql]

    rows = album_rows(1)
    rows[1][HEADER.index("title")] = "Song renamed"
    rows[2][HEADER.index("product.name")] = "Album 1"  # unchanged
    for row in rows:
        row[HEADER.index("product.name")] = "Album One"
    out, _ = load(write(tmp_path, "changed.csv", csv_text(rows)))
    assert "products: 0 created, 1 updated, 0 unchanged" in out
    assert "tracks: 0 created, 1 updated, 2 unchanged" in out
    assert Product.objects.get().name == "Album One"
    assert Track.objects.get(isrc_code=isrc(102)).title == "Song renamed"
    assert set(created) == set(Track.objects.values_list("pk", flat=True))  # none duplicated


def test_each_problem_is_reported_with_file_line_pointer_and_message(tmp_path):
    Language.objects.filter(code="fr").update(retired=True)
    other = make_organization(slug="other")
    make_product(upc_code=upc(9), label=make_label(organization=other))
    rows = album_rows(1)
    rows[0][HEADER.index("isrc-code")] = "not-an-isrc"
    rows[1][HEADER.index("track-number")] = "0"
    rows[2][HEADER.index("audio-language")] = "fr"
    bad_product = album_rows(2, tracks=2, **{"product.language": "zz"})
    foreign = album_rows(9, tracks=1)
    duplicate = album_rows(3, tracks=2)
    duplicate[1][HEADER.index("isrc-code")] = duplicate[0][HEADER.index("isrc-code")]
    missing = album_rows(4, tracks=1, title="", artist="")
    good = album_rows(5, tracks=1)
    path = write(
        tmp_path, "bad.csv", csv_text(rows + bad_product + foreign + duplicate + missing + good)
    )
    report = tmp_path / "report.jsonl"

    message, out, err = run_failing(path, report=str(report))

    assert message == "8 row(s) failed (reported above); the rest were loaded."
    assert "rows failed: 8" in out
    assert "tracks: 2 created" in out  # album 3's first track and album 5's
    lines = err.splitlines()
    assert lines == [
        f"{path}: line 2: /isrc-code: ISRC code is not valid: The number has an invalid length.",
        f"{path}: line 3: /track-number: Ensure this value is greater than or equal to 1.",
        f"{path}: line 4: /audio-language: French (fr) is retired: choose another language.",
        f"{path}: line 5: /product.language: There is no languages resource with id 'zz'.",
        f"{path}: line 6: /product.upc-code: Not loaded: its product at line 5 was refused.",
        f"{path}: line 7: /product.upc-code: Product with this UPC code already exists.",
        f"{path}: line 9: /isrc-code: Track with this Product and ISRC code already exists. "
        "(see line 8)",
        f"{path}: line 10: /title: This field may not be null.",
        f"{path}: line 10: /artist: This field may not be null.",
    ]
    reported = [json.loads(line) for line in report.read_text().splitlines()]
    assert reported[0] == {
        "file": str(path),
        "line": 2,
        "where": "line 2",
        "pointer": "/isrc-code",
        "message": lines[0].split("/isrc-code: ")[1],
    }
    assert [entry["line"] for entry in reported] == [2, 3, 4, 5, 6, 7, 9, 10, 10]
    assert set(Track.objects.values_list("isrc_code", flat=True)) == {isrc(301), isrc(501)}
    assert not Product.objects.filter(upc_code=upc(2)).exists()


def test_the_messages_are_the_apis(api, tmp_path):
    """One rule, one message: a bad member gets the same words from the API and the
    importer."""
    product = make_product(upc_code=upc(7))
    document = {
        "data": {
            "type": "tracks",
            "attributes": {"title": "T", "isrc-code": isrc(1), "volume-number": 1,
                           "track-number": 1, "artist": ["A"], "bpm": -3,
                           "stream-conditions": {"usdc-purchase": {"price": "x"}},
                           "is-stream-gated": True},
            "relationships": {
                "product": {"data": {"type": "products", "id": str(product.pk)}},
                "audio-language": {"data": {"type": "languages", "id": "en"}},
            },
        }
    }  # fmt: skip
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 422
    api_errors = sorted(
        (error["source"]["pointer"].removeprefix("/data/attributes"), error["detail"])
        for error in response.json()["errors"]
    )
    header = [*HEADER, "stream-conditions", "is-stream-gated"]
    row = album_rows(7, tracks=1, bpm="-3", **{"product.name": product.name,
                                               "product.label": product.label.name})[0]  # fmt: skip
    row[HEADER.index("product.release-date")] = ""
    row[HEADER.index("product.product-type")] = ""
    row[HEADER.index("isrc-code")] = isrc(1)
    row += ['{"usdc-purchase": {"price": "x"}}', "true"]
    path = write(tmp_path, "one.csv", csv_text([row], header))

    _, _, err = run_failing(path)

    imported = sorted(
        tuple(line.removeprefix(f"{path}: line 2: ").split(": ", 1)) for line in err.splitlines()
    )
    assert imported == api_errors
    assert len(api_errors) >= 2


def test_unknown_and_read_only_columns_refuse_the_file(tmp_path):
    header = ["colour", "length", "product.upc-code", "product.tracks", "remix-of", "title"]
    odd = write(tmp_path, "odd.csv", csv_text([["x"] * 6], header=header))
    good = write(tmp_path, "good.csv", csv_text(album_rows(1)))
    message, out, err = run_failing(odd, good)
    assert message == "1 row(s) failed (reported above); the rest were loaded."
    assert err.splitlines() == [
        f"{odd}: line 1: /product.tracks: A catalog file does not set tracks.",
        f"{odd}: line 1: /colour: 'colour' is not a member of tracks.",
        f"{odd}: line 1: /length: 'length' is read-only.",
        f"{odd}: line 1: /remix-of: A catalog file does not set remix-of.",
    ]
    assert "tracks: 3 created" in out


def test_unreadable_files_are_reported_not_raised(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_text(album_rows(1)).encode() + "é,x\n".encode("latin-1"))
    nul = write(tmp_path, "nul.csv", csv_text(album_rows(2, tracks=2, title="a\x00b")))
    huge = write(tmp_path, "huge.csv", csv_text(album_rows(3, tracks=1, title="x" * 200_000)))
    message, _, err = run_failing(latin, nul, huge)
    assert message == "4 row(s) failed (reported above); the rest were loaded."
    lines = err.splitlines()
    assert lines[0].startswith(f"{latin}: file: not UTF-8 text: invalid continuation byte")
    # As the API refuses a document holding a NUL: the whole row, product and track
    assert lines[1] == f"{nul}: line 2: /title: Strings may not contain NUL (U+0000) characters."
    assert lines[2] == f"{nul}: line 3: /title: Strings may not contain NUL (U+0000) characters."
    assert lines[3].startswith(f"{huge}: line 2: field larger than field limit")
    assert lines[0].endswith("; the rest of the file is not read.")
    assert lines[3].endswith("; the rest of the file is not read.")
    assert not Product.objects.exists()
    assert not Track.objects.exists()


def test_what_the_api_refuses_in_any_document_is_refused_in_any_cell_or_line(tmp_path):
    """A NUL (which PostgreSQL cannot store) in any member, a language's code included,
    and JSON nested deeper than the API takes, are refused where they are, as the API
    refuses a document holding them; the other rows are loaded."""
    header = [*HEADER, "stream-conditions"]
    rows = [[*row, ""] for row in album_rows(1, tracks=4)]
    rows[0][HEADER.index("audio-language")] = "e\x00n"
    rows[1][HEADER.index("artist")] = '["A\\u0000"]'
    rows[2][-1] = "[" * 70 + "]" * 70
    path = write(tmp_path, "bad.csv", csv_text(rows, header))
    document = {"data": {"type": "products", "attributes": {"name": "A\x00"}}}
    ndjson = write(tmp_path, "bad.ndjson", json.dumps(document) + "\n")

    _, out, err = run_failing(path, ndjson)

    assert err.splitlines() == [
        f"{path}: line 2: /audio-language: Strings may not contain NUL (U+0000) characters.",
        f"{path}: line 3: /artist/0: Strings may not contain NUL (U+0000) characters.",
        f"{path}: line 4: /stream-conditions{'/0' * 62}: The document is nested deeper than "
        "64 levels.",  # (as in a request: the attribute's value is three levels deep)
        f"{ndjson}: line 1: /data/attributes/name: Strings may not contain NUL (U+0000) "
        "characters.",
    ]
    assert "tracks: 1 created" in out


def test_rows_of_one_product_must_agree(tmp_path):
    rows = album_rows(1)
    rows[2][HEADER.index("product.name")] = "Another name"
    path = write(tmp_path, "disagree.csv", csv_text(rows))
    message, _, err = run_failing(path)
    assert message.startswith("1 row(s) failed")
    assert err == (
        f"{path}: line 4: /product.name: The product's members differ from those of the same "
        f"UPC at line 2 of {path}: rows of one product agree.\n"
    )
    assert Track.objects.count() == 2


def test_a_track_position_taken_by_a_stored_track_is_refused(tmp_path):
    load(write(tmp_path, "first.csv", csv_text(album_rows(1, tracks=2))))
    clash = album_rows(1, tracks=1, **{"isrc-code": isrc(999), "track-number": "2"})
    swap = album_rows(1, tracks=2)
    swap[0][HEADER.index("track-number")], swap[1][HEADER.index("track-number")] = "3", "1"

    _, _, err = run_failing(write(tmp_path, "clash.csv", csv_text(clash)))
    assert "/track-number: Track with this Product, Volume number and Track number" in err
    out, _ = load(write(tmp_path, "moves.csv", csv_text(swap)))  # each moved before taken
    assert "tracks: 0 created, 2 updated" in out
    assert dict(Track.objects.values_list("isrc_code", "track_number")) == {
        isrc(101): 3,
        isrc(102): 1,
    }


def test_a_new_track_takes_the_position_a_stored_one_leaves_in_the_same_batch(
    tmp_path, monkeypatch
):
    """The stored track's update is written before the new track's insert, so the
    database does not refuse the batch (which would then be written row by row)."""
    load(write(tmp_path, "first.csv", csv_text(album_rows(1, tracks=1))))
    rows = album_rows(1, tracks=2)
    rows[0][HEADER.index("track-number")], rows[1][HEADER.index("track-number")] = "2", "1"

    def refused(*args):
        raise AssertionError("the batch was refused")

    monkeypatch.setattr(CatalogLoader, "write_one_by_one", refused)
    out, _ = load(write(tmp_path, "moved.csv", csv_text(rows)))
    assert "tracks: 1 created, 1 updated" in out
    assert dict(Track.objects.values_list("isrc_code", "track_number")) == {
        isrc(101): 2,
        isrc(102): 1,
    }


def test_a_batch_refused_by_the_database_is_written_row_by_row(tmp_path):
    """A track stored meanwhile (by someone else, after the batch was validated) takes a
    position: the batch's statement is refused, its rows are written one by one and only
    the one at fault fails, with the API's words."""
    load(write(tmp_path, "first.csv", csv_text(album_rows(1, tracks=1))))
    path = write(tmp_path, "more.csv", csv_text(album_rows(1, tracks=3)))
    report = io.StringIO()
    command = type("Command", (), {"stdout": io.StringIO(), "stderr": OutputWrapper(report)})()
    loader = CatalogLoader(default_organization(), Report(command))
    groups, good, failures = loader.validate_batch(list(CsvReader(path)))
    assert failures == []
    product = Product.objects.get()
    Track.objects.create(product=product, title="Meanwhile", track_number=3, volume_number=1,
                         isrc_code=isrc(999), artist=["Other"], audio_language_id="en")  # fmt: skip

    loader.write_batch(groups, good)

    assert report.getvalue() == (
        f"{path}: line 4: /isrc-code: Track with this Product, Volume number and Track number "
        "already exists.\n"
    )
    assert loader.counts["rows failed"] == 1
    assert (loader.counts["tracks created"], loader.counts["tracks unchanged"]) == (1, 1)
    assert sorted(Track.objects.values_list("track_number", "title")) == [
        (1, "Song 1.1"),
        (2, "Song 1.2"),
        (3, "Meanwhile"),
    ]


def test_a_upc_taken_meanwhile_by_another_organization_is_never_overwritten(tmp_path):
    path = write(tmp_path, "new.csv", csv_text(album_rows(1, tracks=2) + album_rows(2, tracks=1)))
    report = io.StringIO()
    command = type("Command", (), {"stdout": io.StringIO(), "stderr": OutputWrapper(report)})()
    loader = CatalogLoader(default_organization(), Report(command))
    groups, good, failures = loader.validate_batch(list(CsvReader(path)))
    assert failures == []
    other = make_organization(slug="other")
    theirs = make_product(upc_code=upc(1), name="Theirs", label=make_label(organization=other))

    loader.write_batch(groups, good)

    assert report.getvalue() == (
        f"{path}: line 2: /product.upc-code: Product with this UPC code already exists.\n"
        f"{path}: line 3: /product.upc-code: Not loaded: its product at line 2 was refused.\n"
    )
    theirs.refresh_from_db()
    assert (theirs.name, theirs.tracks.count()) == ("Theirs", 0)
    assert list(Track.objects.values_list("product__name", flat=True)) == ["Album 2"]
    assert (loader.counts["products created"], loader.counts["rows failed"]) == (1, 2)
    # The label both products named was saved with each attempt and rolled back with the
    # refused ones: it is there once, for the product written.
    label = Label.objects.get(organization__slug="acme")
    assert (label.name, loader.counts["labels created"]) == ("Night Records", 1)
    assert Product.objects.get(upc_code=upc(2)).label == label


def test_a_label_is_not_created_for_products_that_fail(tmp_path):
    rows = album_rows(1, tracks=1, label="Only For Failures", **{"product.language": "zz"})
    rows += album_rows(2, tracks=1, label="Written Records")
    path = write(tmp_path, "catalog.csv", csv_text(rows))

    _, out, err = run_failing(path)

    assert "/product.language" in err
    assert "labels: 1 created" in out
    assert list(Label.objects.values_list("name", flat=True)) == ["Written Records"]


def test_dry_run_validates_and_writes_nothing(tmp_path):
    rows = album_rows(1) + album_rows(2, isrc_code="bad")
    rows[-1][HEADER.index("isrc-code")] = "bad"
    message, out, _ = run_failing(write(tmp_path, "c.csv", csv_text(rows)), dry_run=True)
    assert message == "1 row(s) failed (reported above); the rest were validated."
    assert out.startswith("Validated, nothing written: 6 rows")
    assert "tracks: 5 created" in out
    assert not Product.objects.exists() and not Label.objects.exists()


def test_atomic_stops_at_the_first_bad_row_and_writes_nothing(tmp_path):
    rows = album_rows(1) + album_rows(2)
    rows[-1][HEADER.index("bpm")] = "fast"
    message, _, err = run_failing(
        write(tmp_path, "c.csv", csv_text(rows)), atomic=True, batch_size=2
    )
    assert message == "A row failed (reported above): with --atomic nothing was written."
    assert "/bpm: Must be a number." in err
    assert not Track.objects.exists() and not Product.objects.exists()


def test_batches_straddling_a_product(tmp_path):
    path = write(tmp_path, "c.csv", csv_text(album_rows(1, tracks=5) + album_rows(2, tracks=5)))
    out, _ = load(path, batch_size=2)  # a batch takes at most twice as many: 4 of 5
    assert "products: 2 created" in out
    assert "tracks: 10 created" in out
    assert Product.objects.count() == 2


# Export, and reading it back


def stored_catalog():
    return {
        (track.product.upc_code, track.isrc_code): (
            {f.attname: getattr(track.product, f.attname) for f in Product._meta.concrete_fields
             if f.name not in ("id", "label", "created_at", "updated_at")},
            track.product.label.name,
            {f.attname: getattr(track, f.attname) for f in Track._meta.concrete_fields
             if f.name not in ("id", "product", "created_at", "updated_at")},
        )
        for track in Track.objects.select_related("product__label")
    }  # fmt: skip


def rich_catalog():
    label = make_label(name="Rich | Records")
    product = make_product(upc_code=upc(11), label=label, name='Quotes "and", commas',
                           production_year=2020, status="active")  # fmt: skip
    Track.objects.create(
        product=product, title="Line\nbreak", track_number=1, volume_number=1,
        isrc_code=isrc(1), artist=["A|B", "C"], composer=["Comp"], audio_language_id="de",
        bpm=99.0, tags="a,b", is_stream_gated=True,
        stream_conditions={"usdc-purchase": {"price": 100, "splits": [
            {"user-id": 1, "percentage": 100}]}},
        artists=[{"name": "A", "roles": ["MainArtist"], "sequence-number": 1}],
        territory_codes=["DE", "FR"], copyright_line={"year": "2020", "text": "C"},
        explicit_content=True, release_date="2020-01-02", lyrics="la la",
    )  # fmt: skip
    Track.objects.create(product=product, title="Two", track_number=2, volume_number=2,
                         isrc_code=isrc(2), artist=["[x]"], audio_language_id="en")  # fmt: skip
    make_product(upc_code=upc(12), label=label, name="No tracks yet")


@pytest.mark.parametrize("format", ["csv", "ndjson"])
def test_export_reads_back_unchanged(tmp_path, format):
    rich_catalog()
    exported = export(format)
    path = write(tmp_path, f"catalog.{format}", exported)

    out, err = load(path)
    assert err == ""
    assert "products: 0 created, 0 updated, 2 unchanged" in out
    assert "tracks: 0 created, 0 updated, 2 unchanged" in out

    assert export(format) == exported


@pytest.mark.parametrize("format", ["csv", "ndjson"])
def test_export_loads_into_another_organization_alike(tmp_path, format):
    rich_catalog()
    before = stored_catalog()
    exported = export(format)
    Track.objects.all().delete()
    Product.objects.all().delete()
    Label.objects.all().delete()

    out, err = load(write(tmp_path, f"c.{format}", exported))
    assert err == ""
    assert "products: 2 created" in out
    assert stored_catalog() == before
    assert export(format) == exported
    assert Product.objects.filter(name="No tracks yet").exists()


def test_csv_export_shape():
    rich_catalog()
    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    assert [row["isrc-code"] for row in rows] == [isrc(1), isrc(2), ""]
    first = rows[0]
    assert first["product.label"] == "Rich | Records"
    assert first["artist"] == '["A|B","C"]'  # a name holding | keeps the list as JSON
    assert first["composer"] == "Comp"
    assert first["territory-codes"] == "DE|FR"
    assert first["explicit-content"] == "true"
    assert json.loads(first["stream-conditions"])["usdc-purchase"]["price"] == 100
    assert rows[1]["artist"] == '["[x]"]'
    assert "length" not in first and "product.tracks" not in first


# NDJSON


def test_ndjson_problems_point_into_the_document(tmp_path):
    document = {
        "data": {
            "type": "products",
            "attributes": {"name": "Lines", "upc-code": upc(5)},
            "relationships": {
                "label": {"meta": {"name": "Json Records"}},
                "language": {"data": {"type": "languages", "id": "en"}},
            },
        },
        "included": [
            {"type": "tracks", "attributes": {"title": "Ok", "isrc-code": isrc(1),
             "volume-number": 1, "track-number": 1, "artist": ["A"]},
             "relationships": {"audio-language": {"data": {"type": "languages", "id": "en"}}}},
            {"type": "tracks", "attributes": {"title": "Bad", "isrc-code": isrc(2),
             "volume-number": "1", "track-number": 2, "artist": ["A"]},
             "relationships": {"audio-language": {"data": {"type": "languages", "id": "en"}}}},
        ],
    }  # fmt: skip
    text = json.dumps(document) + "\n" + "{not json\n" + json.dumps({"data": {"type": "x"}})
    path = write(tmp_path, "c.ndjson", text + "\n")
    message, _, err = run_failing(path)
    assert message.startswith("3 row(s) failed")
    assert err.splitlines() == [
        f"{path}: line 1: /included/1/attributes/volume-number: Must be a whole number.",
        f"{path}: line 2: not JSON: unexpected character, expected a string key: line 1 "
        "column 2 (char 1).",
        f"{path}: line 3: /data/type: The type is products.",
    ]
    assert list(Track.objects.values_list("title", flat=True)) == ["Ok"]
    assert Label.objects.get().name == "Json Records"


# DDEX ERN 4.3

ERN = textwrap.dedent(
    """\
    <?xml version="1.0" encoding="UTF-8"?>
    <ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"
        LanguageAndScriptCode="en" AvsVersionId="4">
      <MessageHeader><MessageId>M1</MessageId></MessageHeader>
      <PartyList>
        <Party><PartyReference>PArtist</PartyReference>
          <PartyName><FullName>The Band</FullName></PartyName></Party>
        <Party><PartyReference>PComposer</PartyReference>
          <PartyName><FullName>Jane Writer</FullName></PartyName></Party>
        <Party><PartyReference>PLabel</PartyReference>
          <PartyName><FullName>Ddex Label</FullName></PartyName></Party>
      </PartyList>
      <ResourceList>
        <SoundRecording>
          <ResourceReference>A1</ResourceReference>
          <SoundRecordingEdition><ResourceId><ISRC>GBAYE2400001</ISRC></ResourceId>
            <PLine><Year>2024</Year><PLineText>2024 Ddex Label</PLineText></PLine>
          </SoundRecordingEdition>
          <DisplayTitleText>First Song</DisplayTitleText>
          <DisplayArtist><ArtistPartyReference>PArtist</ArtistPartyReference></DisplayArtist>
          <Contributor SequenceNumber="1">
            <ContributorPartyReference>PComposer</ContributorPartyReference>
            <Role>ComposerLyricist</Role></Contributor>
          <Duration>PT4M39S</Duration>
          <ParentalWarningType>Explicit</ParentalWarningType>
          <LanguageOfPerformance>de</LanguageOfPerformance>
        </SoundRecording>
        <SoundRecording>
          <ResourceReference>A2</ResourceReference>
          <SoundRecordingEdition><ResourceId><ISRC>BAD</ISRC></ResourceId></SoundRecordingEdition>
          <DisplayTitleText>Second Song</DisplayTitleText>
          <DisplayArtistName>The Band</DisplayArtistName>
          <Duration>PT3M</Duration>
        </SoundRecording>
      </ResourceList>
      <ReleaseList>
        <Release>
          <ReleaseReference>R0</ReleaseReference>
          <ReleaseType>Album</ReleaseType>
          <ReleaseId><ICPN>{upc}</ICPN></ReleaseId>
          <DisplayTitleText>Ddex Album</DisplayTitleText>
          <ReleaseLabelReference>PLabel</ReleaseLabelReference>
          <PLine><Year>2024</Year><PLineText>2024 Ddex Label</PLineText></PLine>
          <CLine><Year>2024</Year><CLineText>2024 Ddex Label</CLineText></CLine>
          <DisplayGenre><GenreText>rock</GenreText></DisplayGenre>
          <ParentalWarningType>NotExplicit</ParentalWarningType>
          <ResourceGroup>
            <ResourceGroupContentItem><SequenceNumber>1</SequenceNumber>
              <ReleaseResourceReference>A1</ReleaseResourceReference></ResourceGroupContentItem>
            <ResourceGroupContentItem><SequenceNumber>2</SequenceNumber>
              <ReleaseResourceReference>A2</ReleaseResourceReference></ResourceGroupContentItem>
          </ResourceGroup>
        </Release>
      </ReleaseList>
      <DealList>
        <ReleaseDeal><DealReleaseReference>R0</DealReleaseReference>
          <Deal><DealTerms><TerritoryCode>DE</TerritoryCode><TerritoryCode>AT</TerritoryCode>
            <ValidityPeriod><StartDate>2024-06-01</StartDate></ValidityPeriod></DealTerms></Deal>
        </ReleaseDeal>
      </DealList>
    </ern:NewReleaseMessage>
    """
)


def test_ddex_release_becomes_a_product_with_its_tracks(tmp_path):
    path = write(tmp_path, "release.xml", ERN.format(upc=upc(42)))
    message, _, err = run_failing(path)

    assert message.startswith("1 row(s) failed")
    assert err.splitlines() == [
        f"{path}: SoundRecording A2 (line 28) of Release R0 (line 37): /isrc-code: ISRC code is "
        "not valid: The number has an invalid length."
    ]
    product = Product.objects.get()
    assert (product.upc_code, product.name, product.label.name, product.language_id) == (
        upc(42),
        "Ddex Album",
        "Ddex Label",
        "en",
    )
    assert (product.product_type, str(product.release_date)) == ("album", "2024-06-01")
    assert (product.production_line, product.production_year) == ("2024 Ddex Label", 2024)
    assert product.copyright_line == "2024 Ddex Label"
    track = Track.objects.get()
    assert (track.isrc_code, track.title, track.track_number, track.volume_number) == (
        "GBAYE2400001",
        "First Song",
        1,
        1,
    )
    assert track.artist == ["The Band"]
    assert (track.composer, track.lyricist) == (["Jane Writer"], ["Jane Writer"])
    assert track.resource_contributors == [
        {"name": "Jane Writer", "roles": ["ComposerLyricist"], "sequence-number": 1}
    ]
    assert (track.duration, track.parental_warning_type, track.explicit_content) == (
        279.0,
        "Explicit",
        True,
    )
    assert (track.audio_language_id, track.genre) == ("de", "Rock")
    assert track.territory_codes == ["AT", "DE"]
    assert track.producer_copyright_line == {"year": "2024", "text": "2024 Ddex Label"}

    report = tmp_path / "r.jsonl"
    run_failing(path, report=str(report))  # the file again: nothing new, the same problem
    entry = json.loads(report.read_text())
    assert entry["element"] == "/ern:NewReleaseMessage/ResourceList/SoundRecording[2]"
    assert entry["line"] == 28


def recording(reference, isrc_code, title):
    return f"""<SoundRecording><ResourceReference>{reference}</ResourceReference>
      <SoundRecordingEdition><ResourceId><ISRC>{isrc_code}</ISRC></ResourceId>
      </SoundRecordingEdition><DisplayTitleText>{title}</DisplayTitleText>
      <DisplayArtistName>Duo</DisplayArtistName></SoundRecording>"""


def item(number, reference):
    return (
        f"<ResourceGroupContentItem><SequenceNumber>{number}</SequenceNumber>"
        f"<ReleaseResourceReference>{reference}</ReleaseResourceReference>"
        "</ResourceGroupContentItem>"
    )


def test_ddex_discs_are_volumes_and_a_release_without_recordings_is_a_product(tmp_path):
    message = f"""<?xml version="1.0"?>
    <NewReleaseMessage xmlns="http://ddex.net/xml/ern/43" LanguageAndScriptCode="en">
      <PartyList><Party><PartyReference>PL</PartyReference>
        <PartyName><FullName>Disc Label</FullName></PartyName></Party></PartyList>
      <ResourceList>{recording("A1", isrc(1), "One")}{recording("A2", isrc(2), "Two")}
        {recording("A3", isrc(3), "Three")}</ResourceList>
      <ReleaseList>
        <Release><ReleaseReference>R0</ReleaseReference><ReleaseId><ICPN>{upc(61)}</ICPN>
          </ReleaseId><DisplayTitleText>Double</DisplayTitleText>
          <ReleaseLabelReference>PL</ReleaseLabelReference>
          <ResourceGroup>
            <ResourceGroup><SequenceNumber>1</SequenceNumber>{item(1, "A1")}{item(2, "A2")}
            </ResourceGroup>
            <ResourceGroup><SequenceNumber>2</SequenceNumber>{item(1, "A3")}</ResourceGroup>
          </ResourceGroup></Release>
        <Release><ReleaseReference>R1</ReleaseReference><ReleaseId><ICPN>{upc(62)}</ICPN>
          </ReleaseId><DisplayTitleText>Coming soon</DisplayTitleText>
          <ReleaseLabelReference>PL</ReleaseLabelReference></Release>
      </ReleaseList>
    </NewReleaseMessage>"""
    out, err = load(write(tmp_path, "double.xml", message))
    assert err == ""
    assert "products: 2 created" in out and "tracks: 3 created" in out
    assert sorted(
        Track.objects.values_list("product__name", "volume_number", "track_number", "title")
    ) == [("Double", 1, 1, "One"), ("Double", 1, 2, "Two"), ("Double", 2, 1, "Three")]
    assert Product.objects.get(upc_code=upc(62)).tracks.count() == 0


def test_ddex_numbers_in_other_digits_or_too_long_are_not_numbers(tmp_path):
    """A year or sequence number in other scripts' digits (which ``str.isdigit`` takes and
    ``int`` may not) or past Python's limit on converting digits is no number: the year
    is left out, a sequence number falls back to the position, as for any other text."""
    text = (
        ERN.format(upc=upc(43))
        .replace("<Year>2024</Year><PLineText>2024 Ddex Label</PLineText></PLine>\n"
                 "      <CLine>", "<Year>\u00b2</Year><PLineText>2024 Ddex Label</PLineText>"
                 "</PLine>\n      <CLine>")
        .replace("<SequenceNumber>1</SequenceNumber>", f"<SequenceNumber>{'9' * 5000}"
                 "</SequenceNumber>")
    )  # fmt: skip
    assert "\u00b2" in text and "9" * 5000 in text
    message, _, _ = run_failing(write(tmp_path, "odd.xml", text))

    assert message.startswith("1 row(s) failed")  # the recording with the bad ISRC, as ever
    product = Product.objects.get()
    assert product.production_year is None
    assert list(product.tracks.values_list("track_number", flat=True)) == [1]


def test_csv_numbers_json_could_not_send_are_refused_as_text(tmp_path):
    """A cell of more digits than Python converts, or a number past a double's range
    (which the API's JSON reading refuses), is refused by its field as text."""
    rows = album_rows(1, tracks=3)
    rows[0][HEADER.index("track-number")] = "9" * 5000
    rows[1][HEADER.index("bpm")] = "1e400"
    rows[2][HEADER.index("bpm")] = "-1e400"
    path = write(tmp_path, "numbers.csv", csv_text(rows))

    _, _, err = run_failing(path)

    assert err.splitlines() == [
        f"{path}: line 2: /track-number: Must be a whole number.",
        f"{path}: line 3: /bpm: Must be a number.",
        f"{path}: line 4: /bpm: Must be a number.",
    ]


def test_ddex_entities_and_doctypes_are_refused(tmp_path):
    bomb = write(
        tmp_path,
        "bomb.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        "<NewReleaseMessage>&b;</NewReleaseMessage>\n",
    )
    external = write(
        tmp_path,
        "external.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        "<NewReleaseMessage>&x;</NewReleaseMessage>\n",
    )
    broken = write(tmp_path, "broken.xml", "<NewReleaseMessage><ReleaseList>")
    message, _, err = run_failing(bomb, external, broken)
    assert message.startswith("3 row(s) failed")
    lines = err.splitlines()
    assert lines[0] == f"{bomb}: line 1: A document type declaration is not accepted."
    assert lines[1] == f"{external}: line 1: A document type declaration is not accepted."
    assert lines[2].startswith(f"{broken}: line 1: not well-formed XML:")
    assert "root:" not in err


# Progress


def test_progress_on_a_terminal_and_in_a_log(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    path = write(tmp_path, "c.csv", csv_text(album_rows(1)))
    default_organization()
    err = Terminal()
    call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=err)
    drawn = err.getvalue()
    assert drawn.startswith("\r[" + " " * 30 + "]   0% 0 rows")
    final = drawn.rstrip("\n").rpartition("\r")[2]
    assert final.startswith("[" + "#" * 30 + "] 100% 3 rows ")
    assert "rows/s ETA 0:00" in final


def test_plain_progress_lines_when_not_a_terminal():
    from config.reporting import Progress

    class Clock:
        now = 0.0

        def __call__(self):
            return self.now

    clock, out = Clock(), io.StringIO()

    class Stream:
        def isatty(self):
            return False

        def write(self, text, style_func=None, ending="\n"):
            out.write(text + ending)

    progress = Progress(Stream(), total=1000, interval=10, clock=clock)
    clock.now = 5
    progress.update(100, 5000)
    assert out.getvalue() == ""  # not yet: a line every 10 s
    clock.now = 10
    progress.update(250, 10000)
    assert out.getvalue() == " 25% 10,000 rows 1,000 rows/s ETA 0:30\n"
    clock.now = 40
    progress.update(1000, 40000)
    progress.finish()
    assert out.getvalue().splitlines()[-1] == "100% 40,000 rows 1,000 rows/s ETA 0:00"


def analyses():
    """How often PostgreSQL has been asked to ANALYZE each of the catalog's tables."""
    tables = [model._meta.db_table for model in (Label, Product, Track)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [tables],
        )
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_load_writing_many_rows_refreshes_the_planners_statistics(tmp_path, monkeypatch, dry_run):
    """A load that wrote at least ANALYZED_AFTER rows ANALYZEs the labels', products' and
    tracks' tables (the threshold lowered here); a smaller one and a dry run do not."""
    monkeypatch.setattr("products.management.commands.import_catalog.ANALYZED_AFTER", 8)
    small = write(tmp_path, "small.csv", csv_text(album_rows(1, tracks=3)))
    large = write(tmp_path, "large.csv", csv_text(album_rows(2, tracks=3) + album_rows(3)))
    before = analyses()
    load(small)  # 5 rows written: a product, its label, 3 tracks
    assert analyses() == before
    load(large, dry_run=dry_run)  # 8 rows written: 2 products, 6 tracks
    assert analyses() == {table: count + (not dry_run) for table, count in before.items()}
