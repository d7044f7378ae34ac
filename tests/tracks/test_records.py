"""Master audio records: real FLAC files made here, stored through Django's storage."""

import base64
import hashlib
import io

import numpy as np
import pytest
import soundfile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.assertions import errors_by_pointer, ids
from tests.factories import make_track
from tracks.models import Record, Track

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def audio_file(bits=16, seconds=1.5, rate=44100, channels=2, fmt="FLAC"):
    samples = np.sin(np.linspace(0, 440 * seconds, int(rate * seconds)))[:, None] * 0.3
    buffer = io.BytesIO()
    subtype = "PCM_S8" if bits == 8 else f"PCM_{bits}"
    soundfile.write(buffer, np.repeat(samples, channels, axis=1), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def corrupt_flac():
    data = bytearray(audio_file())
    data[4:42] = b"\xff" * 38  # the STREAMINFO block, garbled
    return bytes(data)


def stored_files(root):
    return [path for path in root.rglob("*") if path.is_file()]


def record_document(track, content=None, filename="master.flac", **attributes):
    if content is not None:
        attributes["new-file"] = base64.b64encode(content).decode()
    if filename is not None:
        attributes["filename"] = filename
    return {
        "data": {
            "type": "records",
            "attributes": attributes,
            "relationships": {"track": {"data": {"type": "tracks", "id": str(track.pk)}}},
        }
    }


def test_create_16_bit_record_reads_the_file(api, media_root):
    track, content = make_track(), audio_file(bits=16, seconds=1.5)
    response = api.post_doc("/api/v1/records", record_document(track, content))
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert attributes["filename"] == "master.flac"
    assert attributes["md5"] == hashlib.md5(content).hexdigest()
    assert attributes["file-size"] == len(content)
    assert (attributes["precision"], attributes["master-type"]) == (16, "cd")
    file_info = attributes["file"]
    assert file_info["codec"] == "flac" and file_info["lossless"] is True
    assert (file_info["channels"], file_info["sample-rate"]) == (2, 44100)
    assert file_info["bits-per-raw-sample"] == 16
    assert file_info["duration"] == pytest.approx(1.5)
    assert file_info["bitrate"] > 0
    assert "new-file" not in attributes
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == content
    track_attributes = api.get(f"/api/v1/tracks/{track.pk}").document["data"]["attributes"]
    assert (track_attributes["length"], track_attributes["audio16bits"]) == (2, True)
    assert track_attributes["audio24bits"] is False


def test_24_bit_hi_res_record_and_flags_from_several_records(api):
    track = make_track()
    hi_res = audio_file(bits=24, seconds=3.2, rate=96000, channels=1)
    response = api.post_doc("/api/v1/records", record_document(track, hi_res, "hd.flac"))
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["precision"], attributes["master-type"]) == (24, "hi-res")
    assert attributes["file"]["sample-rate"] == 96000
    api.post_doc("/api/v1/records", record_document(track, audio_file(bits=16, seconds=1)))
    track.refresh_from_db()
    assert (track.length, track.audio16bits, track.audio24bits) == (3, True, True)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (corrupt_flac(), "invalid_flac"),
        (audio_file(fmt="WAV"), "invalid_flac"),
        (b"fLaC", "invalid_flac"),
        (b"just some text", "invalid_flac"),
    ],
    ids=["corrupt", "wav-renamed-flac", "header-only", "text"],
)
def test_a_file_that_is_not_flac_is_422_and_stores_nothing(api, media_root, content, code):
    response = api.post_doc("/api/v1/records", record_document(make_track(), content))
    errors = errors_by_pointer(response, 422)
    assert errors["/data/attributes/new-file"]["code"] == code
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("new_file", "code"),
    [("", "blank"), ("not base64!", "invalid_base64"), (123, "invalid_type")],
)
def test_bad_new_file_values_are_422(api, media_root, new_file, code):
    document = record_document(make_track())
    document["data"]["attributes"]["new-file"] = new_file
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert errors["/data/attributes/new-file"]["code"] == code
    assert not Record.objects.exists()


def test_oversize_file_is_422_before_decoding(api, settings, media_root):
    content = audio_file()
    settings.RECORD_MAX_BYTES = len(content) - 1
    errors = errors_by_pointer(
        api.post_doc("/api/v1/records", record_document(make_track(), content)), 422
    )
    assert errors["/data/attributes/new-file"]["code"] == "too_large"
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("member", "value"),
    [("md5", "0" * 32), ("precision", 24), ("file-size", 10), ("master-type", "cd")],
)
def test_server_read_attributes_cannot_be_set(api, member, value):
    document = record_document(make_track(), audio_file(), **{member: value})
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert errors[f"/data/attributes/{member}"]["code"] == "read_only"
    assert not Record.objects.exists()


def test_required_members(api):
    track = make_track()
    errors = errors_by_pointer(
        api.post_doc("/api/v1/records", record_document(track, audio_file(), filename=None)), 422
    )
    assert "/data/attributes/filename" in errors
    document = record_document(track, audio_file())
    del document["data"]["relationships"]
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert "/data/relationships/track" in errors
    errors = errors_by_pointer(api.post_doc("/api/v1/records", record_document(track)), 422)
    assert "/data/attributes/new-file" in errors
    assert not Record.objects.exists()


def test_original_url_is_off_by_default(api):
    document = record_document(make_track(), **{"original-url": "http://127.0.0.1:9/a.flac"})
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert "disabled" in errors["/data/attributes/original-url"]["detail"]


def test_original_url_fetches_from_an_allowed_host(api, source, media_root):
    base, routes = source
    content = audio_file(bits=24)
    routes["/masters/take-1.flac"] = (200, content, {"Content-Type": "audio/flac"})
    document = record_document(
        make_track(), filename=None, **{"original-url": f"{base}/masters/take-1.flac"}
    )
    response = api.post_doc("/api/v1/records", document)
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert attributes["filename"] == "take-1.flac"
    assert attributes["md5"] == hashlib.md5(content).hexdigest()
    assert attributes["original-url"] == f"{base}/masters/take-1.flac"
    assert [path.read_bytes() for path in stored_files(media_root)] == [content]


@pytest.mark.parametrize(
    ("path", "route", "code"),
    [
        ("/missing.flac", None, "fetch_failed"),
        ("/moved.flac", (302, b"", {"Location": "http://example.com/x.flac"}), "fetch_failed"),
        ("/text.flac", (200, b"not audio", {}), "invalid_flac"),
        ("/empty.flac", (200, b"", {}), "empty_file"),
    ],
)
def test_bad_sources_are_422(api, source, media_root, path, route, code):
    base, routes = source
    if route:
        routes[path] = route
    document = record_document(make_track(), filename=None, **{"original-url": base + path})
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert errors["/data/attributes/original-url"]["code"] == code
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


def test_original_url_on_another_host_is_refused(api, source):
    document = record_document(
        make_track(), filename=None, **{"original-url": "http://localhost:1/a.flac"}
    )
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert errors["/data/attributes/original-url"]["code"] == "host_not_allowed"


def test_oversize_source_is_422(api, source, settings):
    base, routes = source
    content = audio_file()
    routes["/big.flac"] = (200, content, {})
    settings.RECORD_MAX_BYTES = len(content) // 2
    document = record_document(make_track(), filename=None, **{"original-url": f"{base}/big.flac"})
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert errors["/data/attributes/original-url"]["code"] == "file_too_large"


def test_delete_removes_the_file_and_refreshes_the_track(
    api, media_root, django_capture_on_commit_callbacks
):
    track = make_track()
    response = api.post_doc("/api/v1/records", record_document(track, audio_file()))
    record_id = response.document["data"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/records/{record_id}").status_code == 204
    assert stored_files(media_root) == []
    assert api.get(f"/api/v1/records/{record_id}").status_code == 404
    track.refresh_from_db()
    assert (track.length, track.audio16bits) == (0, False)


def test_deleting_a_track_deletes_its_records_and_files(
    api, media_root, django_capture_on_commit_callbacks
):
    track = make_track()
    api.post_doc("/api/v1/records", record_document(track, audio_file()))
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/tracks/{track.pk}").status_code == 204
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


def test_records_cannot_be_patched(api):
    track = make_track()
    record_id = api.post_doc("/api/v1/records", record_document(track, audio_file())).document[
        "data"
    ]["id"]
    document = {"data": {"type": "records", "id": record_id, "attributes": {"filename": "x"}}}
    assert api.patch_doc(f"/api/v1/records/{record_id}", document).status_code == 405


def test_filters_and_track_relationships(api):
    first, second = make_track(), make_track()
    for track in (first, first, second):
        api.post_doc("/api/v1/records", record_document(track, audio_file(seconds=0.5)))
    mine = list(Record.objects.filter(track=first).values_list("pk", flat=True))
    response = api.get("/api/v1/records", {"filter[track-id]": str(first.pk)})
    assert ids(response) == [str(pk) for pk in mine]
    response = api.get("/api/v1/records", {"filter[id]": str(mine[0])})
    assert ids(response) == [str(mine[0])]
    assert ids(api.get("/api/v1/records", {"filter[track-id]": "999999"})) == []
    assert ids(api.get(f"/api/v1/tracks/{first.pk}/records")) == [str(pk) for pk in mine]
    linkage = api.get(f"/api/v1/tracks/{first.pk}/relationships/records").document["data"]
    assert linkage == [{"type": "records", "id": str(pk)} for pk in mine]
    response = api.get("/api/v1/tracks", {"include": "records", "filter[id]": str(first.pk)})
    assert [r["id"] for r in response.document["included"]] == [str(pk) for pk in mine]


def test_include_records_runs_constant_queries(api):
    for _ in range(3):
        track = make_track()
        api.post_doc("/api/v1/records", record_document(track, audio_file(seconds=0.2)))
    counts = []
    for size in (1, 3):
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/tracks", {"include": "records", "page[size]": size})
        assert len(response.document["data"]) == size
        counts.append(len(captured))
    assert counts == [4, 4]
    assert Track.objects.count() == 3


def test_upload_larger_than_djangos_in_memory_limit(api, settings):
    rate, seconds = 48000, 10
    noise = np.random.default_rng(7).uniform(-0.5, 0.5, (rate * seconds, 2))
    buffer = io.BytesIO()
    soundfile.write(buffer, noise, rate, format="FLAC", subtype="PCM_24")
    content = buffer.getvalue()
    assert len(content) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post_doc("/api/v1/records", record_document(make_track(), content))
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["file-size"] == len(content)
