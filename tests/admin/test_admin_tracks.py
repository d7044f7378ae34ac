"""Tracks and records in the admin, in a real browser: a track's Audius members in their
own sections, the model's rules (ISRC, access gates, stems) as errors at their fields, a
track with stems not deleted before them; a record made by uploading a FLAC master, its
technical data read from the file and shown read-only, deleted with its file.
"""

import pytest
from django.contrib import admin

from tests.factories import make_label, make_product, make_track
from tests.tracks.test_records import audio_file
from tracks.models import AUDIUS_FIELDS, Record, Track

from .test_admin_browser import choose
from .test_admin_products import choose_english

browser_test = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ADMIN = "/admin/tracks"


def errors(page, selector):
    return page.locator(f"{selector} .errorlist").all_inner_texts()


def rows(page, column):
    """The list's rows as {first column: text of ``column``}."""
    names = page.locator("#result_list tbody th a").all_inner_texts()
    cells = page.locator(f"#result_list tbody td.field-{column}").all_inner_texts()
    return dict(zip(names, cells, strict=True))


def save(page):
    with page.expect_navigation():
        page.click("input[name=_save]")


def open_section(page, name):
    page.click(f"fieldset summary:has-text('{name}')")


def test_every_member_of_a_track_is_in_one_section_and_audius_members_in_audius_ones():
    fieldsets = admin.site.get_model_admin(Track).fieldsets
    placed = {}
    for name, options in fieldsets:
        for line in options["fields"]:
            for field in line if isinstance(line, tuple) else (line,):
                assert field not in placed, field
                placed[field] = name or ""
    members = {f.name for f in Track._meta.get_fields() if f.concrete and not f.primary_key}
    assert members - set(placed) == set()
    for field in (*AUDIUS_FIELDS, "remix_of", "stem_of"):
        assert placed[field].startswith("Audius: "), field


@browser_test
def test_tracks_are_listed_added_changed_and_deleted_after_their_stems(live_server, superuser_page):
    page = superuser_page
    product = make_product(name="Stems EP", upc_code="036000291452",
                           label=make_label(name="Stem Records"))  # fmt: skip
    parent = make_track(title="Parent Song", product=product, track_number=1, genre="Rock")
    stem = make_track(title="Parent Song (vocals)", product=product, track_number=2,
                      stem_of=parent, stem_category="lead_vocals")  # fmt: skip
    other = make_track(title="Elsewhere", product=make_product(name="Other"),
                       artist=["Nina Simone", "Band"])  # fmt: skip

    # Listed, searched (title, artist, ISRC, product's name and UPC) and filtered.
    base = f"{live_server.url}{ADMIN}/track/"
    page.goto(base)
    assert set(rows(page, "isrc_code")) == {"Parent Song", "Parent Song (vocals)", "Elsewhere"}
    page.goto(f"{base}?q=036000291452")
    assert set(rows(page, "product")) == {"Parent Song", "Parent Song (vocals)"}
    page.goto(f"{base}?q={other.isrc_code}")
    assert rows(page, "product") == {"Elsewhere": "Other"}
    page.goto(f"{base}?q=simone")
    assert rows(page, "product") == {"Elsewhere": "Other"}
    page.goto(f"{base}?genre__exact=Rock")
    assert rows(page, "genre") == {"Parent Song": "Rock"}
    page.goto(f"{base}?product__label__id__exact={product.label_id}")
    assert set(rows(page, "product")) == {"Parent Song", "Parent Song (vocals)"}
    assert "Stem Records" in page.inner_text("#changelist-filter")

    # Added: the Audius sections start folded; a gated stream without its conditions and a
    # bad ISRC are refused at their fields, and the section with the error is open.
    page.goto(f"{base}add/")
    assert not page.locator("#id_stream_conditions").is_visible()
    choose(page, "product", "Stems EP")
    page.fill("#id_title", "Gated Song")
    page.fill("#id_volume_number", "1")
    page.fill("#id_track_number", "3")
    page.fill("#id_isrc_code", "ES-A11-26")
    page.fill("#id_artist", '["Ana"]')
    choose_english(page, "audio_language")
    open_section(page, "Audius: description and discovery")
    page.select_option("#id_genre", "Jazz")
    page.fill("#id_tags", "late night, Saxophone")
    open_section(page, "Audius: access gates")
    page.check("#id_is_stream_gated")
    save(page)
    assert errors(page, ".field-stream_conditions") == [
        "is-stream-gated is true: stream-conditions are required."
    ]
    assert errors(page, ".field-isrc_code")[0].startswith("ISRC code is not valid")
    assert page.locator("#id_stream_conditions").is_visible()
    assert not Track.objects.filter(title="Gated Song").exists()

    page.fill("#id_isrc_code", "ES-A11-26-00003")
    page.fill("#id_stream_conditions", '{"follow-user-id": 5}')
    save(page)
    page.wait_for_selector(".messagelist .success")
    gated = Track.objects.get(title="Gated Song")
    assert (gated.isrc_code, gated.genre, gated.tags, gated.stream_conditions) == (
        "ESA112600003",
        "Jazz",
        "late night,Saxophone",
        {"follow-user-id": 5},
    )

    # Changed: a stem category without the track it is a stem of is refused.
    page.goto(f"{base}{gated.pk}/change/")
    open_section(page, "Audius: remixes, stems and covers")
    page.select_option("#id_stem_category", "bass")
    save(page)
    assert errors(page, ".field-stem_category") == ["stem-of and stem-category go together."]
    gated.refresh_from_db()
    assert gated.stem_category is None

    # A track with stems is not deleted before them; the stem is, then the track.
    page.goto(f"{base}{parent.pk}/delete/")
    assert page.locator("h1").inner_text() == "Cannot delete track"
    assert page.locator("#content ul li").all_inner_texts() == ["Track: Parent Song (vocals)"]
    assert Track.objects.filter(pk=parent.pk).exists()
    for track in (stem, parent):
        page.goto(f"{base}{track.pk}/delete/")
        page.click("input[type=submit]")
        page.wait_for_selector(".messagelist .success")
    assert set(Track.objects.values_list("title", flat=True)) == {"Gated Song", "Elsewhere"}


@browser_test
def test_a_record_is_uploaded_shown_read_only_and_deleted(live_server, superuser_page, media_root):
    page = superuser_page
    track = make_track(title="Mastered Song")
    base = f"{live_server.url}{ADMIN}/record/"

    # Uploaded: a file that is not FLAC is refused at the file; a master is read.
    page.goto(f"{base}add/")
    assert page.locator("#id_md5, #id_precision").count() == 0  # read from the file
    choose(page, "track", "Mastered Song")
    page.fill("#id_filename", "master.flac")
    page.set_input_files("#id_file", files=[
        {"name": "master.flac", "mimeType": "audio/flac", "buffer": b"not audio at all"}
    ])  # fmt: skip
    save(page)
    assert errors(page, ".field-file") == ["The file is not a valid FLAC stream."]
    assert not Record.objects.exists()

    content = audio_file(bits=24, seconds=2)
    page.set_input_files("#id_file", files=[
        {"name": "master.flac", "mimeType": "audio/flac", "buffer": content}
    ])  # fmt: skip
    save(page)
    page.wait_for_selector(".messagelist .success")
    record = Record.objects.get()
    assert (record.track, record.precision, record.master_type, record.file_size) == (
        track,
        24,
        "hi-res",
        len(content),
    )
    track.refresh_from_db()
    assert (track.length, track.audio24bits) == (2, True)

    # Listed, searched and filtered.
    assert rows(page, "master_type") == {"master.flac": "High resolution (24-bit or above 48 kHz)"}
    page.goto(f"{base}?q={record.md5}")
    assert rows(page, "track") == {"master.flac": "Mastered Song"}
    page.goto(f"{base}?master_type__exact=cd")
    assert rows(page, "track") == {}

    # Its page shows what was read, read-only, with nothing to save.
    page.goto(f"{base}{record.pk}/change/")
    assert page.locator(".field-md5 .readonly").inner_text() == record.md5
    assert page.locator(".field-precision .readonly").inner_text() == "24"
    assert page.locator("input[name=_save], #id_filename, #id_md5").count() == 0
    # The track's page leads to it.
    page.goto(f"{live_server.url}{ADMIN}/track/{track.pk}/change/")
    page.click(".field-records a:text-is('1 record(s)')")
    page.wait_for_url(f"**/record/?track__id__exact={track.pk}")
    assert rows(page, "track") == {"master.flac": "Mastered Song"}

    # Deleted, with its file.
    stored = media_root / record.file.name
    assert stored.is_file()
    page.goto(f"{base}{record.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert not Record.objects.exists() and not stored.exists()
    track.refresh_from_db()
    assert (track.length, track.audio24bits) == (0, False)
