"""Collections and their tracks in the admin, in a real browser: listed with their track
counts and statuses, what the server fills shown read-only, the model's rules applied to
what may be edited, processing started again, and each organization's rows kept to it.
"""

import io

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django_tasks_db.models import DBTaskResult

from collections_app import covers
from collections_app.models import Collection, CollectionTrack, Status
from tests.collections.media_files import make_image, write_audio
from tests.factories import (
    default_organization,
    make_collection,
    make_collection_track,
    make_organization,
)

from .test_admin_organizations import log_in, staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ADMIN = "/admin/collections_app"


def rows(page, column):
    """The list's rows as {title: text of ``column``}."""
    titles = page.locator("#result_list tbody th a").all_inner_texts()
    cells = page.locator(f"#result_list tbody td.field-{column}").all_inner_texts()
    return dict(zip(titles, cells, strict=True))


def readonly(page, field):
    return page.locator(f".field-{field} .readonly").inner_text()


def test_collections_are_listed_with_their_track_counts_to_their_organizations(
    live_server, superuser_page, media_root
):
    page = superuser_page
    album = make_collection(title="Album")
    album.choose_player_color("#1DB954")
    album.take_cover(covers.open_cover(io.BytesIO(make_image())))
    album.save()
    for n in range(3):
        make_collection_track(collection=album, file_name=f"song-{n}.wav")
    make_collection(title="Empty")
    theirs = make_organization(name="Theirs")
    their_album = make_collection(title="Their Album", organization=theirs)
    make_collection_track(collection=their_album, title="Their Song")

    page.goto(f"{live_server.url}{ADMIN}/collection/")
    assert rows(page, "track_count") == {"Album": "3", "Empty": "0", "Their Album": "1"}
    assert rows(page, "player_color_swatch")["Album"].strip() == "#1DB954"
    # The cover's thumbnail in the list, where there is a cover.
    icon = default_storage.url(album.cover_files["icon"]["name"])
    thumbnails = page.locator("#result_list td.field-cover img.cover-thumbnail")
    assert [thumbnails.nth(n).get_attribute("src") for n in range(thumbnails.count())] == [icon]

    page.click("#result_list td.field-track_count a:text-is('3')")
    page.wait_for_url("**/collectiontrack/?collection__id__exact=*")
    assert set(rows(page, "status")) == {"song-0", "song-1", "song-2"}

    page.goto(f"{live_server.url}{ADMIN}/collection/{album.pk}/change/")
    thumbnail = page.locator(".field-cover img.cover-thumbnail")
    assert thumbnail.get_attribute("src") == default_storage.url(album.cover_files["icon"]["name"])
    summary = page.locator(".field-tracks_summary table tbody tr").all_inner_texts()
    assert [row.split("\t")[:3] for row in summary] == [
        [f"song-{n}", f"song-{n}.wav", "Initialized"] for n in range(3)
    ]

    # A member of another organization sees that one's collection and tracks only.
    staff("member", theirs, "editor", "collections_app")
    page = page.context.browser.new_page()  # a context of its own: not logged in as root
    log_in(page, live_server, "member")
    page.goto(f"{live_server.url}{ADMIN}/collection/")
    assert rows(page, "track_count") == {"Their Album": "1"}
    page.goto(f"{live_server.url}{ADMIN}/collectiontrack/")
    assert rows(page, "collection") == {"Their Song": "Their Album"}
    for url in (f"collection/{album.pk}", f"collectiontrack/{album.tracks.first().pk}"):
        page.goto(f"{live_server.url}{ADMIN}/{url}/change/")
        assert "Perhaps it was deleted?" in page.inner_text(".messagelist")


def test_a_failed_track_is_found_by_status_corrected_and_processed_again(
    live_server, superuser_page, media_root, tmp_path
):
    page = superuser_page
    collection = make_collection(title="Album")
    make_collection_track(collection=collection, title="Never uploaded")
    played = make_collection_track(collection=collection, title="Played")
    CollectionTrack.objects.filter(pk=played.pk).update(
        status=Status.READY,
        duration=125.4,
        size=2_500_000,
        format={"container": "flac", "codec": "flac", "sample-rate": 44100},
    )
    failed = make_collection_track(collection=collection, title="Failed")
    with write_audio(tmp_path / "song.wav", "wav", seconds=0.5).open("rb") as audio:
        failed.audio.save(f"{failed.pk}/audio", File(audio), save=False)
    failed.save()
    reason = "Processing failed unexpectedly. Delete the track and upload the file again."
    CollectionTrack.objects.filter(pk=failed.pk).update(status=Status.ERROR, status_reason=reason)

    page.goto(f"{live_server.url}{ADMIN}/collectiontrack/")
    statuses = {"Never uploaded": "Initialized", "Played": "Ready", "Failed": "Error"}
    assert rows(page, "status") == statuses
    row = page.locator("#result_list tbody tr:has(th a:text-is('Played'))")
    cells = ["duration_display", "size_display", "codec"]
    assert [row.locator(f"td.field-{name}").inner_text() for name in cells] == [
        "2:05",
        "2.4\xa0MB",
        "flac",
    ]

    page.click("#changelist-filter a:text-is('Error')")
    page.wait_for_url("**status__exact=error*")
    assert rows(page, "status") == {"Failed": "Error"}

    # The status and what processing read are shown, not offered for editing.
    page.click("#result_list th a:text-is('Failed')")
    page.wait_for_selector(".field-status .readonly")
    assert readonly(page, "status") == "Error"
    assert readonly(page, "status_reason_text") == reason
    assert page.locator("#id_status, #id_status_reason, #id_audio, #id_duration").count() == 0

    # The model's rules apply: a bad colour is refused at its field.
    page.fill("#id_player_color", "green")
    page.click("input[name=_save]")
    error = page.inner_text(".field-player_color .errorlist")
    assert "A colour is '#' and six hexadecimal digits" in error
    failed.refresh_from_db()
    assert failed.player_color is None

    page.fill("#id_player_color", "#1db954")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    failed.refresh_from_db()
    assert (failed.player_color, failed.player_color_is_custom) == ("#1DB954", True)
    assert failed.player_color_light and failed.player_color_dark

    # Processing again: the track with audio is queued, the one without is skipped.
    page.goto(f"{live_server.url}{ADMIN}/collectiontrack/")
    for title in ("Failed", "Never uploaded"):
        page.check(f"#result_list tr:has(th a:text-is('{title}')) input.action-select")
    page.select_option("select[name=action]", "process_again")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .warning")
    assert page.locator(".messagelist li").all_inner_texts() == [
        "1 track is queued to be processed again.",
        "1 track was skipped: it has no audio yet.",
    ]
    statuses.update(Failed="Processing")
    assert rows(page, "status") == statuses

    failed.refresh_from_db()
    assert (failed.status, failed.status_reason, failed.processing_attempt) == (
        Status.PROCESSING,
        None,
        1,
    )
    task = DBTaskResult.objects.get()
    assert task.task_path == "collections_app.processing.process_track"
    assert task.args_kwargs["args"] == [str(failed.pk), 1]


def test_collections_are_added_validated_searched_and_deleted_after_their_tracks(
    live_server, superuser_page, media_root
):
    page = superuser_page
    default_organization()
    theirs = make_organization(name="Theirs")
    make_collection(title="Their Album", organization=theirs)
    base = f"{live_server.url}{ADMIN}/collection/"

    # Added: the model's rules (a colour, metadata an object) as errors at their fields.
    page.goto(f"{base}add/")
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_title", "Summer Hits")
    page.fill("#id_player_color", "green")
    page.fill("#id_metadata", "[1, 2]")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "A colour is '#' and six hexadecimal digits" in page.inner_text(
        ".field-player_color .errorlist"
    )
    assert page.inner_text(".field-metadata .errorlist") == "Metadata is a JSON object."
    assert not Collection.objects.filter(title="Summer Hits").exists()

    page.fill("#id_player_color", "#1db954")
    page.fill("#id_metadata", '{"season": "summer"}')
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    summer = Collection.objects.get(title="Summer Hits")
    assert (summer.organization.name, summer.player_color, summer.metadata) == (
        "Acme",
        "#1DB954",
        {"season": "summer"},
    )

    # Searched and filtered by organization.
    page.goto(f"{base}?q=summer")
    assert rows(page, "organization") == {"Summer Hits": "Acme"}
    page.goto(f"{base}?organization__id__exact={theirs.pk}")
    assert rows(page, "organization") == {"Their Album": "Theirs"}

    # A collection with tracks is not deleted before them.
    song = make_collection_track(collection=summer, title="Song")
    page.goto(f"{base}{summer.pk}/delete/")
    assert page.locator("h1").inner_text() == "Cannot delete collection"
    assert page.locator("#content ul li").all_inner_texts() == ["Collection track: Song"]
    assert Collection.objects.filter(pk=summer.pk).exists()

    page.goto(f"{live_server.url}{ADMIN}/collectiontrack/{song.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert rows(page, "collection") == {}
    page.goto(f"{base}{summer.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert set(rows(page, "organization")) == {"Their Album"}
    assert not CollectionTrack.objects.exists()
    assert not Collection.objects.filter(pk=summer.pk).exists()
