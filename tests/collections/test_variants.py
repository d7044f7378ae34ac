"""Track variants (transcodes and previews): the default MP3 a processed track gets, more
asked for with POST /track-variants, made by django-tasks-db's own worker from real audio
uploaded over HTTP, and the track's status that follows from them."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from collections_app import media, processing, signals, transcode, variants
from collections_app.models import CollectionTrack, Status, TrackVariant
from tests.assertions import errors_by_pointer, ids, the_error
from tests.client import JsonApiClient
from tests.factories import (
    add_member,
    make_collection,
    make_collection_track,
    make_organization,
    make_track_variant,
)

from .media_files import write_audio
from .test_uploads import TRACKS, audio_bytes, run_worker, stored_files, upload_audio

pytestmark = pytest.mark.usefixtures("media_root", "temp_dir")

VARIANTS = "/api/v1/track-variants"
SECONDS = 1.5
MIMES = {
    "mp3": ("mp3", "audio/mpeg"),
    "aac": ("m4a", "audio/mp4"),
    "ogg": ("ogg", "audio/ogg"),
    "opus": ("opus", "audio/ogg; codecs=opus"),
}


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where uploads are streamed and variants encoded: checked empty after the work."""
    folder = tmp_path / "work-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.fixture
def received():
    """What the variant signals' receivers hear: (signal, id, status at that moment)."""
    heard = []

    def on_track(sender, track, **kwargs):
        assert sender is CollectionTrack
        heard.append(("track", str(track.pk), CollectionTrack.objects.get(pk=track.pk).status))

    def on_variant(name):
        def receive(sender, variant, **kwargs):
            assert sender is TrackVariant
            heard.append((name, str(variant.pk), TrackVariant.objects.get(pk=variant.pk).status))

        return receive

    created, failed = on_variant("created"), on_variant("failed")
    signals.track_status_changed.connect(on_track)
    signals.variant_created.connect(created)
    signals.variant_failed.connect(failed)
    try:
        yield heard
    finally:
        signals.track_status_changed.disconnect(on_track)
        signals.variant_created.disconnect(created)
        signals.variant_failed.disconnect(failed)


def uploaded(tmp_path, seconds=SECONDS, kind="wav", **fields):
    """A track whose audio was uploaded over HTTP, not yet processed."""
    track = make_collection_track(**fields)
    upload_audio(track, audio_bytes(tmp_path, kind, seconds))
    return track


def processed(tmp_path, seconds=SECONDS, **fields):
    """A track uploaded and processed by the worker: ready, with its default variant."""
    track = uploaded(tmp_path, seconds, **fields)
    run_worker()
    track.refresh_from_db()
    assert track.status == Status.READY, track.status_reason
    return track


def variant_doc(track, **attributes):
    track_id = str(getattr(track, "pk", track))
    return {
        "data": {
            "type": "track-variants",
            "attributes": attributes,
            "relationships": {"track": {"data": {"type": "collection-tracks", "id": track_id}}},
        }
    }


def create(api, track, **attributes):
    response = api.post_doc(VARIANTS, variant_doc(track, **attributes))
    assert response.status_code == 201, response.document
    data = response.document["data"]
    assert response["Location"] == f"http://testserver{VARIANTS}/{data['id']}"
    return data


def variant_attributes(api, variant_id):
    response = api.get(f"{VARIANTS}/{variant_id}")
    assert response.status_code == 200, response.document
    return response.document["data"]["attributes"]


def track_status(api, track):
    response = api.get(f"{TRACKS}/{track.pk}")
    assert response.status_code == 200, response.document
    got = response.document["data"]["attributes"]
    return got["status"], got["status-reason"]


def assert_playable(media_root, variant_id, codec, seconds):
    """The variant is ready, its file stored as track-variants/<id>.<ext>, of its size,
    and decodes again to ``seconds`` of audio."""
    variant = TrackVariant.objects.get(pk=variant_id)
    extension, mime = MIMES[codec]
    assert (variant.status, variant.status_reason) == ("ready", None)
    assert variant.file.name == f"track-variants/{variant_id}.{extension}"
    path = media_root / variant.file.name
    assert path.stat().st_size == variant.size > 0
    assert variant.mime_type == mime
    tolerance = transcode.tolerance(seconds)
    assert abs(variant.duration - seconds) <= tolerance
    analysis = media.analyse(path)
    assert abs(analysis.duration - seconds) <= tolerance
    assert analysis.format["codec"] == {"ogg": "vorbis"}.get(codec, codec)
    return variant


def variant_tasks():
    return DBTaskResult.objects.filter(task_path=variants.make_variant.module_path)


# --- The default variant ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_processed_track_is_ready_with_its_default_mp3(
    api, media_root, temp_dir, tmp_path, received
):
    track = uploaded(tmp_path, 2.0)
    assert track_status(api, track) == ("processing", None)

    run_worker()

    assert track_status(api, track) == ("ready", None)
    response = api.get(f"{TRACKS}/{track.pk}", {"include": "variants"})
    assert response.status_code == 200, response.document
    [linkage] = response.document["data"]["relationships"]["variants"]["data"]
    [included] = response.document["included"]
    assert (included["type"], included["id"]) == ("track-variants", linkage["id"])
    got = included["attributes"]
    assert {key: got[key] for key in ("variant-type", "codec", "bitrate", "status")} == {
        "variant-type": "transcode",
        "codec": "mp3",
        "bitrate": 128,
        "status": "ready",
    }
    assert got["preview-start"] is None and got["preview-duration"] is None
    assert got["mime-type"] == "audio/mpeg" and got["status-reason"] is None
    variant = assert_playable(media_root, linkage["id"], "mp3", 2.0)
    assert (got["size"], got["duration"]) == (variant.size, variant.duration)
    assert included["relationships"]["track"]["data"] == {
        "type": "collection-tracks",
        "id": str(track.pk),
    }
    [task] = variant_tasks()
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, "ready")
    assert list(temp_dir.iterdir()) == []  # the encoder's temporary file is gone
    track_id, variant_id = str(track.pk), linkage["id"]
    assert received == [
        ("track", track_id, "processing"),
        ("created", variant_id, "ready"),
        ("track", track_id, "ready"),
    ]


# --- Variants asked for ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_opus_transcode_and_a_30_second_preview(api, media_root, tmp_path, received):
    track = processed(tmp_path, 40.0)
    received.clear()

    opus = create(api, track, codec="opus", bitrate=96)
    assert opus["attributes"]["status"] == "queued"
    assert opus["attributes"]["variant-type"] == "transcode"
    assert track_status(api, track) == ("processing", None)
    preview = create(
        api,
        track,
        **{"variant-type": "preview", "codec": "mp3", "preview-start": 5, "preview-duration": 30},
    )
    assert preview["attributes"]["bitrate"] == 128  # the default
    assert (preview["attributes"]["preview-start"], preview["attributes"]["preview-duration"]) == (
        5.0,
        30.0,
    )

    run_worker()

    assert track_status(api, track) == ("ready", None)
    assert_playable(media_root, opus["id"], "opus", 40.0)
    assert_playable(media_root, preview["id"], "mp3", 30.0)
    track_id = str(track.pk)
    assert received[0] == ("track", track_id, "processing")
    assert sorted(received[1:3]) == sorted(
        [("created", opus["id"], "ready"), ("created", preview["id"], "ready")]
    )
    assert received[3:] == [("track", track_id, "ready")]


@pytest.mark.django_db(transaction=True)
def test_every_codec_at_the_lowest_and_highest_bitrates(api, media_root, tmp_path):
    track = processed(tmp_path)
    made = {}
    for codec in MIMES:
        for bitrate in (12, 64, 320):
            if (codec, bitrate) != ("mp3", 128):
                made[codec, bitrate] = create(api, track, codec=codec, bitrate=bitrate)["id"]

    run_worker()

    assert track_status(api, track) == ("ready", None)
    for (codec, bitrate), variant_id in made.items():
        got = variant_attributes(api, variant_id)
        assert got["status"] == "ready", (codec, bitrate, got["status-reason"])
        assert_playable(media_root, variant_id, codec, SECONDS)
    sizes = {key: TrackVariant.objects.get(pk=pk).size for key, pk in made.items()}
    assert sizes["mp3", 12] < sizes["mp3", 320]
    assert sizes["opus", 12] < sizes["opus", 320]


# --- Refused requests --------------------------------------------------------------------------


def nothing_written(before, media_root):
    assert TrackVariant.objects.count() == before["variants"]
    assert DBTaskResult.objects.count() == before["tasks"]
    assert stored_files(media_root) == before["files"]


@pytest.mark.django_db(transaction=True)
def test_the_same_variant_twice_is_409(api, media_root, tmp_path):
    track = processed(tmp_path, 3.0)
    window = {"variant-type": "preview", "codec": "aac", "preview-start": 1, "preview-duration": 1}
    create(api, track, **window)
    before = {
        "variants": 2,
        "tasks": DBTaskResult.objects.count(),
        "files": stored_files(media_root),
    }

    error = the_error(api.post_doc(VARIANTS, variant_doc(track, codec="mp3")), 409)
    assert error["code"] == "unique"
    assert error["source"] == {"pointer": "/data/attributes/bitrate"}
    assert error["detail"] == "This track has this transcode already."
    error = the_error(api.post_doc(VARIANTS, variant_doc(track, **window)), 409)
    assert error["code"] == "unique"
    assert error["source"] == {"pointer": "/data/attributes/preview-duration"}
    assert error["detail"] == "This track has this preview already."
    nothing_written(before, media_root)
    # Another bitrate, codec or window is another variant.
    create(api, track, codec="mp3", bitrate=192)
    create(api, track, **{**window, "preview-duration": 1.5})


@pytest.mark.django_db(transaction=True)
def test_invalid_variants_are_422_and_write_nothing(api, media_root, tmp_path):
    track = processed(tmp_path, 3.0)
    before = {
        "variants": 1,
        "tasks": DBTaskResult.objects.count(),
        "files": stored_files(media_root),
    }
    preview = {"variant-type": "preview", "codec": "mp3"}
    cases = [
        ({"codec": "flac"}, {"/data/attributes/codec": "invalid_choice"}),
        ({"codec": "mp3", "bitrate": 11}, {"/data/attributes/bitrate": "min_value"}),
        ({"codec": "mp3", "bitrate": 321}, {"/data/attributes/bitrate": "max_value"}),
        ({"codec": "mp3", "bitrate": "128"}, {"/data/attributes/bitrate": "invalid_type"}),
        ({"bitrate": 96}, {"/data/attributes/codec": "required"}),
        (
            {"codec": "mp3", "variant-type": "full"},
            {"/data/attributes/variant-type": "invalid_choice"},
        ),
        (
            preview,
            {
                "/data/attributes/preview-start": "required",
                "/data/attributes/preview-duration": "required",
            },
        ),
        (
            {**preview, "preview-start": 0},
            {"/data/attributes/preview-duration": "required"},
        ),
        (
            {**preview, "preview-start": 2, "preview-duration": 1.5},
            {"/data/attributes/preview-duration": "out_of_range"},
        ),
        (
            {**preview, "preview-start": 3, "preview-duration": 1},
            {"/data/attributes/preview-start": "out_of_range"},
        ),
        (
            {**preview, "preview-start": -1, "preview-duration": 1},
            {"/data/attributes/preview-start": "min_value"},
        ),
        (
            {**preview, "preview-start": 0, "preview-duration": 0},
            {"/data/attributes/preview-duration": "min_value"},
        ),
        (
            {"codec": "mp3", "bitrate": 96, "preview-start": 0, "preview-duration": 1},
            {
                "/data/attributes/preview-start": "not_allowed",
                "/data/attributes/preview-duration": "not_allowed",
            },
        ),
        (
            {"codec": "mp3", "variant-type": "transcode", "bitrate": 96, "preview-start": 1},
            {"/data/attributes/preview-start": "not_allowed"},
        ),
        (
            {"codec": "mp3", "status": "ready"},
            {"/data/attributes/status": "read_only"},
        ),
    ]
    for attributes, expected in cases:
        response = api.post_doc(VARIANTS, variant_doc(track, **attributes))
        errors = errors_by_pointer(response, 422)
        assert {pointer: e["code"] for pointer, e in errors.items()} == expected, attributes
    # The window fits exactly: accepted.
    create(api, track, **{**preview, "preview-start": 2, "preview-duration": 1})
    before["variants"] += 1
    before["tasks"] += 1
    nothing_written(before, media_root)


@pytest.mark.django_db(transaction=True)
def test_a_track_without_analysed_audio_is_422_at_the_track(api, media_root, tmp_path):
    initialized = make_collection_track()
    processing_upload = uploaded(tmp_path)  # its audio is not analysed yet
    failed = make_collection_track(status=Status.ERROR, status_reason="Not audio.")
    tasks = DBTaskResult.objects.count()
    for track in (initialized, processing_upload, failed):
        response = api.post_doc(VARIANTS, variant_doc(track, codec="mp3", bitrate=64))
        [error] = errors_by_pointer(response, 422).values()
        assert error["source"] == {"pointer": "/data/relationships/track"}
        assert error["code"] == "no_audio"
    assert not TrackVariant.objects.exists()
    assert DBTaskResult.objects.count() == tasks
    missing = api.post_doc(
        VARIANTS, variant_doc("4f0c1a3e-0000-4000-8000-000000000000", codec="mp3")
    )
    error = the_error(missing, 404)
    assert (error["code"], error["source"]) == (
        "does_not_exist",
        {"pointer": "/data/relationships/track"},
    )


@pytest.mark.django_db
def test_variants_are_not_changed_only_created_and_deleted(api):
    variant = make_track_variant()
    document = {"data": {"type": "track-variants", "id": str(variant.pk), "attributes": {}}}
    assert api.patch_doc(f"{VARIANTS}/{variant.pk}", document).status_code == 405
    path = f"{VARIANTS}/{variant.pk}/relationships/track"
    assert api.get(path).status_code == 200
    linkage = {"data": {"type": "collection-tracks", "id": str(variant.track_id)}}
    assert api.patch_doc(path, linkage).status_code == 405


# --- Failures ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_variant_that_fails_leaves_the_track_incomplete(api, media_root, tmp_path, received):
    track = processed(tmp_path)
    Path(track.audio.path).write_bytes(np.random.default_rng(2).bytes(50_000))
    received.clear()
    failing = create(api, track, codec="opus")

    run_worker()

    got = variant_attributes(api, failing["id"])
    assert got["status"] == "error"
    assert got["status-reason"].startswith("The file is not audio that can be played")
    assert (got["size"], got["duration"], got["mime-type"]) == (None, None, None)
    status, reason = track_status(api, track)
    assert status == "incomplete"
    assert reason.startswith("1 of 2 variants could not be made")
    task = variant_tasks().get(args_kwargs__args__0=failing["id"])
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, "error")
    track_id = str(track.pk)
    assert received == [
        ("track", track_id, "processing"),
        ("failed", failing["id"], "error"),
        ("track", track_id, "incomplete"),
    ]
    # Deleting the failed variant leaves only ready ones: the track is ready again.
    received.clear()
    assert api.delete(f"{VARIANTS}/{failing['id']}").status_code == 204
    assert track_status(api, track) == ("ready", None)
    assert received == [("track", track_id, "ready")]


@pytest.mark.django_db(transaction=True)
def test_when_every_variant_fails_the_track_is_error(api, media_root, tmp_path, received):
    track = processed(tmp_path)
    default = TrackVariant.objects.get(track=track)
    default_file = media_root / default.file.name
    assert api.delete(f"{VARIANTS}/{default.pk}").status_code == 204
    assert not default_file.exists()  # removed once the deletion committed
    assert track_status(api, track) == ("ready", None)  # nothing failed
    Path(track.audio.path).write_bytes(b"")
    corrupt = create(api, track, codec="aac")
    Path(track.audio.path).unlink()  # an unexpected failure: the task's error
    missing = create(api, track, codec="ogg")
    received.clear()

    run_worker()

    status, reason = track_status(api, track)
    assert status == "error" and reason.startswith("No variant of this track could be made")
    assert variant_attributes(api, corrupt["id"])["status"] == "error"
    got = variant_attributes(api, missing["id"])
    assert (got["status"], got["status-reason"]) == (
        "error",
        "Making this variant failed unexpectedly. Delete it and ask for it again.",
    )
    task = variant_tasks().get(args_kwargs__args__0=missing["id"])
    assert (task.status, task.exception_class_path) == (
        TaskResultStatus.FAILED,
        "builtins.FileNotFoundError",
    )
    assert received[-1] == ("track", str(track.pk), "error")
    assert {name for name, _, _ in received[:-1]} == {"failed"}
    # A track in error takes no new variant.
    response = api.post_doc(VARIANTS, variant_doc(track, codec="mp3"))
    assert set(errors_by_pointer(response, 422)) == {"/data/relationships/track"}


# --- Reading, filtering, deleting ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_lists_filters_related_endpoint_and_delete(api, media_root, tmp_path):
    track = processed(tmp_path, 3.0)
    other = processed(tmp_path)
    [default] = TrackVariant.objects.filter(track=track)
    opus = create(api, track, codec="opus", bitrate=64)["id"]
    preview = create(
        api,
        track,
        **{"variant-type": "preview", "codec": "ogg", "preview-start": 1, "preview-duration": 1},
    )["id"]
    [other_default] = TrackVariant.objects.filter(track=other)
    run_worker()

    everything = [str(default.pk), str(other_default.pk), opus, preview]
    assert ids(api.get(VARIANTS, {"sort": "createdAt"})) == everything
    assert ids(api.get(VARIANTS, {"sort": "-createdAt"})) == everything[::-1]
    by = {
        "track-id": str(track.pk),
        "codec": "opus",
        "variant-type": "preview",
        "status": "ready",
    }
    expected = {
        "track-id": [str(default.pk), opus, preview],
        "codec": [opus],
        "variant-type": [preview],
        "status": everything,
    }
    for name, value in by.items():
        response = api.get(VARIANTS, {f"filter[{name}]": value, "sort": "createdAt"})
        assert sorted(ids(response)) == sorted(expected[name]), name
    assert the_error(api.get(VARIANTS, {"filter[codec]": "flac"}), 400)
    related = api.get(f"{TRACKS}/{track.pk}/variants")
    assert related.status_code == 200
    assert sorted(ids(related)) == sorted(expected["track-id"])
    response = api.get(f"{VARIANTS}/{opus}", {"include": "track"})
    assert response.document["included"][0]["id"] == str(track.pk)

    opus_file = media_root / TrackVariant.objects.get(pk=opus).file.name
    assert opus_file.exists()
    assert api.delete(f"{VARIANTS}/{opus}").status_code == 204
    assert not opus_file.exists()
    assert api.get(f"{VARIANTS}/{opus}").status_code == 404
    assert api.delete(f"{VARIANTS}/{opus}").status_code == 404
    assert the_error(api.delete(f"{VARIANTS}/0"), 404)["code"] == "not_found"
    # Deleting the track deletes its variants and their files.
    assert api.delete(f"{TRACKS}/{track.pk}").status_code == 200
    assert TrackVariant.objects.filter(track_id=track.pk).count() == 0
    assert not any(
        name.startswith("track-variants/") and str(default.pk) in name
        for name in stored_files(media_root)
    )
    assert (
        len([name for name in stored_files(media_root) if name.startswith("track-variants/")]) == 1
    )


@pytest.mark.django_db
def test_another_organization_neither_sees_nor_makes_our_variants(api, make_token):
    ours = make_track_variant(track=make_collection_track(duration=3.0, status=Status.READY))
    globex = make_organization(slug="globex", name="Globex")
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("globex-editor")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="collections_app"))
    add_member(user, globex, "editor")
    client = JsonApiClient(make_token(user, organization=globex))

    assert client.get(VARIANTS).document["data"] == []
    assert the_error(client.get(f"{VARIANTS}/{ours.pk}"), 404)
    assert the_error(client.delete(f"{VARIANTS}/{ours.pk}"), 404)
    response = client.get(f"{TRACKS}/{ours.track_id}/variants")
    assert response.status_code == 404
    error = the_error(client.post_doc(VARIANTS, variant_doc(ours.track, codec="aac")), 404)
    assert (error["code"], error["source"]) == (
        "does_not_exist",
        {"pointer": "/data/relationships/track"},
    )
    assert TrackVariant.objects.count() == 1
    # Their own track is theirs to use.
    theirs = make_collection_track(
        collection=make_collection(organization=globex), duration=3.0, status=Status.READY
    )
    theirs.audio.name = "collection-tracks/x/audio"
    theirs.save()
    response = client.post_doc(VARIANTS, variant_doc(theirs, codec="aac"))
    assert response.status_code == 201, response.document
    assert ids(client.get(VARIANTS)) == [response.document["data"]["id"]]
    assert ids(api.get(VARIANTS)) == [str(ours.pk)]


# --- Recovery of runs whose worker died -------------------------------------------------------


@pytest.mark.django_db
def test_a_stalled_variant_is_retried_then_ends_in_error(settings, media_root, tmp_path, received):
    settings.PROCESSING_TIMEOUT_SECONDS = 5
    settings.PROCESSING_MAX_ATTEMPTS = 2
    track = make_collection_track(duration=3.0, status=Status.PROCESSING)
    variant = make_track_variant(track=track)
    variants.enqueue(variant)

    def killed_mid_run():
        variant.refresh_from_db()
        task = variant_tasks().get(args_kwargs__args__1=variant.processing_attempt)
        task.claim("killed-worker")
        TrackVariant.objects.filter(pk=variant.pk).update(
            status="processing", processing_heartbeat_at=timezone.now() - timedelta(seconds=60)
        )

    killed_mid_run()
    assert processing.recover_stalled() == 1
    variant.refresh_from_db()
    assert (variant.status, variant.processing_attempt) == ("queued", 2)
    assert variant_tasks().get(args_kwargs__args__1=1).exception_class_path == (
        "collections_app.processing.WorkerLost"
    )
    assert processing.recover_stalled() == 0  # queued: waiting for a worker

    killed_mid_run()
    assert processing.recover_stalled() == 1
    variant.refresh_from_db()
    assert variant.status == "error" and "2 times" in variant.status_reason
    track.refresh_from_db()
    assert track.status == Status.ERROR
    assert variant_tasks().count() == 2


@pytest.mark.django_db
def test_a_variant_run_lost_before_it_began_is_recovered(settings, media_root):
    settings.PROCESSING_TIMEOUT_SECONDS = 5
    track = make_collection_track(duration=3.0, status=Status.PROCESSING)
    variant = make_track_variant(track=track)
    variants.enqueue(variant)
    task = variant_tasks().get()
    task.claim("killed-worker")
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now() - timedelta(seconds=60)
    )
    assert processing.recover_stalled() == 1
    variant.refresh_from_db()
    assert (variant.status, variant.processing_attempt) == ("queued", 2)


@pytest.mark.django_db
def test_a_replaced_variant_run_cannot_write_its_result(media_root):
    track = make_collection_track(duration=3.0, status=Status.PROCESSING)
    variant = make_track_variant(track=track, processing_attempt=2)
    TrackVariant.objects.filter(pk=variant.pk).update(status="processing")
    variants.finish(str(variant.pk), 1, "error", reason="late")
    variant.refresh_from_db()
    assert (variant.status, variant.status_reason) == ("processing", None)
    variants.finish(str(variant.pk), 2, "error", reason="run 2 failed")
    variant.refresh_from_db()
    assert (variant.status, variant.status_reason) == ("error", "run 2 failed")


# --- The encoder alone ----------------------------------------------------------------------


def test_an_output_without_the_expected_audio_is_refused(tmp_path):
    source = write_audio(tmp_path / "short.wav", "wav", SECONDS)
    target = tmp_path / "out.mp3"
    assert transcode.transcode(source, target, "mp3", 64) == pytest.approx(SECONDS, abs=0.05)
    with pytest.raises(ValidationError) as refused:
        transcode.transcode(source, target, "mp3", 64, expected=SECONDS + 1)
    assert refused.value.code == "encoding_failed"
    with pytest.raises(ValidationError) as refused:
        transcode.transcode(source, target, "opus", 64, start=SECONDS + 1, duration=1)
    assert refused.value.code == "no_audio"
