"""Uploading a collection track's audio (PUT) and the covers of tracks and collections
(POST, multipart) through their signed targets, over HTTP, then processing the audio with
django-tasks-db's own worker. Real files (tests/collections/media_files.py), real storage
under a fresh MEDIA_ROOT; every refused upload is checked to leave nothing behind."""

import hashlib
import io
import random
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from collections_app import covers
from collections_app.models import Collection, CollectionTrack, Status, TrackVariant
from config import uploads
from config.models import UploadReceipt
from tests.assertions import the_error
from tests.client import JsonApiClient
from tests.factories import make_collection, make_collection_track
from tests.rawhttp import cut_short_put, raw_put

from .media_files import available_audio_kinds, make_bomb, make_image, write_audio

pytestmark = pytest.mark.usefixtures("media_root")

TRACKS = "/api/v1/collection-tracks"
COLLECTIONS = "/api/v1/collections"
RED, BLUE = (220, 30, 60), (30, 60, 220)
# kind: file extension, container, codec, sample rate, bit depth, duration tolerance (s)
EXPECTED = {
    "wav": ("wav", "wav", "pcm_s16le", 44100, 16, 0.001),
    "wav24": ("wav", "wav", "pcm_s24le", 44100, 24, 0.001),
    "flac": ("flac", "flac", "flac", 44100, 16, 0.001),
    "flac24": ("flac", "flac", "flac", 44100, 24, 0.001),
    "mp3": ("mp3", "mp3", "mp3", 44100, None, 0.1),
    "opus": ("opus", "ogg", "opus", 48000, None, 0.1),
    "ogg": ("ogg", "ogg", "vorbis", 44100, None, 0.1),
}
SECONDS = 1.5


# --- Helpers (test_processing.py uses them too) ------------------------------------------


def audio_bytes(tmp_path, kind="wav", seconds=SECONDS, **options):
    """The bytes of a real ``kind`` file (media_files.write_audio)."""
    path = write_audio(
        tmp_path / f"{kind}-{seconds}-{len(options)}.audio", kind, seconds, **options
    )
    return path.read_bytes()


def path_of(url):
    return urlsplit(url).path


def create_track(api, collection=None, file_name="song.wav"):
    """A track made by POST /collection-tracks: (its id, the meta with its upload targets)."""
    collection = collection or make_collection()
    document = {
        "data": {
            "type": "collection-tracks",
            "attributes": {"file-name": file_name},
            "relationships": {
                "collection": {"data": {"type": "collections", "id": str(collection.pk)}}
            },
        }
    }
    response = api.post_doc(TRACKS, document)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["status"] == "initialized"
    return response.document["data"]["id"], response.document["meta"]


PURPOSES = {
    CollectionTrack: {
        "track-upload": "collection-track-audio",
        "track-cover-upload": "collection-track-covers",
    },
    Collection: {"collection-cover-upload": "collection-covers"},
}


def targets(resource):
    """New upload targets of a track or a collection, as POST .../upload-targets answers
    them (issued here directly, a request less per test: test_upload_targets_endpoint
    checks that the endpoint answers the same)."""
    request = RequestFactory().post("/")
    return {
        name: uploads.issue(request, purpose, resource.pk)
        for name, purpose in PURPOSES[type(resource)].items()
    }


def audio_target(track):
    target = targets(track)["track-upload"]
    assert target["method"] == "PUT"
    return path_of(target["upload-url"])


def cover_target(owner):
    meta = targets(owner)
    target = meta[
        "track-cover-upload" if isinstance(owner, CollectionTrack) else "collection-cover-upload"
    ]
    assert target["method"] == "POST"
    return path_of(target["upload-url"])


def put(path, content, **extra):
    """A PUT of the raw bytes, as any HTTP client sends them: no Bearer token."""
    return JsonApiClient().generic(
        "PUT", path, content, content_type="application/octet-stream", **extra
    )


def post_cover(path, content, name="cover.jpg", field="file", **data):
    """A multipart POST of ``content`` in the form field ``field``."""
    data[field] = SimpleUploadedFile(name, content)
    return JsonApiClient().post(path, data)


def upload_audio(track, content):
    response = put(audio_target(track), content)
    assert response.status_code == 200, response.document
    return response.document["data"]


def run_worker():
    """django-tasks-db's worker loop, in this thread: runs the queued tasks, then returns."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


def stored_files(root):
    """Paths (relative, sorted) of every file under ``root``."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def attributes(api, track_id):
    response = api.get(f"{TRACKS}/{track_id}")
    assert response.status_code == 200, response.document
    return response.document["data"]["attributes"]


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where upload bodies are streamed to: checked empty after every upload."""
    folder = tmp_path / "upload-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def assert_left_nothing(media_root, temp_dir, track=None, tasks=0):
    """No stored file, no temporary file, no claimed target, no task; the track unchanged."""
    assert stored_files(media_root) == []
    assert list(temp_dir.iterdir()) == []
    assert not UploadReceipt.objects.exists()
    assert DBTaskResult.objects.count() == tasks
    if track is not None:
        track.refresh_from_db()
        assert track.status == Status.INITIALIZED
        assert not track.audio
        assert (track.processing_attempt, track.size, track.cover_files) == (0, None, None)


# --- Audio: every kind, through HTTP and the worker -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_audio_kind_uploads_and_processes_to_ready(api, media_root, temp_dir, tmp_path):
    kinds = available_audio_kinds()
    assert {"wav", "flac", "mp3"} <= set(kinds)
    sent = {}
    for kind in kinds:
        extension = EXPECTED[kind][0]
        content = audio_bytes(tmp_path, kind)
        track_id, meta = create_track(api, file_name=f"song.{extension}")
        response = put(path_of(meta["track-upload"]["upload-url"]), content)
        assert response.status_code == 200, (kind, response.document)
        data = response.document["data"]
        assert (data["type"], data["id"]) == ("collection-tracks", track_id)
        answered = data["attributes"]
        assert (answered["status"], answered["size"]) == ("processing", len(content)), kind
        assert answered["duration"] is None and answered["levels"] is None
        sent[track_id] = (kind, content)
    # One task per upload, committed with it, waiting for a worker.
    queued = DBTaskResult.objects.all()
    assert sorted(task.args_kwargs["args"][0] for task in queued) == sorted(sent)
    assert {task.status for task in queued} == {TaskResultStatus.READY}
    assert {task.args_kwargs["args"][1] for task in queued} == {1}
    assert list(temp_dir.iterdir()) == []

    run_worker()

    assert {task.status for task in DBTaskResult.objects.all()} == {TaskResultStatus.SUCCESSFUL}
    assert {task.return_value for task in DBTaskResult.objects.all()} == {"ready"}
    assert DBTaskResult.objects.count() == 2 * len(sent)  # processing, the default variant
    for track_id, (kind, content) in sent.items():
        _, container, codec, rate, bits, tolerance = EXPECTED[kind]
        got = attributes(api, track_id)
        assert (got["status"], got["status-reason"]) == ("ready", None), kind
        fmt = got["format"]
        assert (fmt["container"], fmt["codec"], fmt["sample-rate"]) == (container, codec, rate)
        assert (fmt["channels"], fmt["bit-depth"]) == (2, bits), kind
        assert isinstance(fmt["bitrate"], int) and fmt["bitrate"] > 0, kind
        if bits is not None and container == "wav":
            assert fmt["bitrate"] == rate * 2 * bits
        assert got["duration"] == pytest.approx(SECONDS, abs=tolerance), kind
        assert got["size"] == len(content)
        assert got["sha256"] == hashlib.sha256(content).hexdigest(), kind
        levels = got["levels"]
        assert levels["num-samples"] == 320
        assert all(len(levels[key]) == 320 for key in ("min", "max", "avg")), kind
        assert got["files-completed-at"] is not None
        assert got["cover"] is None and got["player-color"] is None
        track = CollectionTrack.objects.get(pk=track_id)
        assert (track.processing_attempt, track.processing_heartbeat_at) == (1, None)
        assert (media_root / track.audio.name).read_bytes() == content, kind
    assert len(stored_files(media_root)) == 2 * len(sent)  # the audio, its default variant


@pytest.mark.django_db
def test_upload_targets_endpoint(api):
    """POST .../upload-targets answers fresh signed targets, as the helpers issue them."""
    track = make_collection_track()
    for owner, names in (
        (track, PURPOSES[CollectionTrack]),
        (track.collection, PURPOSES[Collection]),
    ):
        prefix = TRACKS if owner is track else COLLECTIONS
        response = api.post_doc(f"{prefix}/{owner.pk}/upload-targets", {})
        assert response.status_code == 200, response.document
        meta = response.document["meta"]
        assert set(meta) == set(names)
        for name, target in meta.items():
            assert target["method"] == ("PUT" if name == "track-upload" else "POST")
            assert target["upload-url"].startswith("http://testserver/api/v1/uploads/")
            payload = signing.loads(token_of(path_of(target["upload-url"])), salt=uploads.SALT)
            assert (payload["p"], payload["k"]) == (names[name], str(owner.pk))
            assert target["upload-url"] != targets(owner)[name]["upload-url"]


# --- Refused targets: 403, nothing written, the real target still works ------------------------


def token_of(path):
    return path.rsplit("/", 1)[1]


def resigned(token, **changes):
    """The target's payload with ``changes``, signed with our key and salt."""
    payload = signing.loads(token, salt=uploads.SALT)
    return signing.dumps({**payload, **changes}, salt=uploads.SALT, compress=True)


def tamper(token):
    index = 5  # inside the signed (compressed) payload
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("forge", "code"),
    [
        (tamper, "invalid_signature"),
        (lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), "invalid_signature"),
        (lambda token: signing.dumps(signing.loads(token, salt=uploads.SALT)), "invalid_signature"),
        (lambda token: resigned(token, p="collection-nonsense"), "invalid_signature"),
        (lambda token: resigned(token, e=int(time.time()) - 1), "expired"),
    ],
    ids=["tampered-payload", "tampered-signature", "other-salt", "unknown-purpose", "expired"],
)
def test_forged_or_expired_audio_target_is_403(media_root, temp_dir, tmp_path, forge, code):
    track = make_collection_track()
    path = audio_target(track)
    forged = forge(token_of(path))
    assert forged != token_of(path)
    content = audio_bytes(tmp_path)
    error = the_error(put(f"/api/v1/uploads/{forged}", content), 403)
    assert error["code"] == code
    assert_left_nothing(media_root, temp_dir, track)
    assert put(path, content).status_code == 200  # the genuine target is untouched


@pytest.mark.django_db
def test_expired_target_by_its_ttl_is_403(settings, media_root, temp_dir, tmp_path):
    """A target issued with a TTL already over (a negative TTL: no sleeping) is expired."""
    track = make_collection_track()
    settings.UPLOAD_TTL_SECONDS = -5
    path = audio_target(track)
    error = the_error(put(path, audio_bytes(tmp_path)), 403)
    assert error["code"] == "expired"
    assert_left_nothing(media_root, temp_dir, track)


@pytest.mark.django_db
def test_post_to_an_audio_target_is_403_wrong_method(media_root, temp_dir, tmp_path):
    track = make_collection_track()
    path = audio_target(track)
    content = audio_bytes(tmp_path)
    error = the_error(post_cover(path, content, name="song.wav"), 403)
    assert error["code"] == "wrong_method"
    assert "PUT" in error["detail"]
    error = the_error(
        JsonApiClient().generic("POST", path, content, content_type="application/octet-stream"),
        403,
    )
    assert error["code"] == "wrong_method"
    assert_left_nothing(media_root, temp_dir, track)
    assert put(path, content).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("owner", ["track", "collection"])
def test_put_to_a_cover_target_is_403_wrong_method(media_root, temp_dir, owner):
    track = make_collection_track()
    resource = track if owner == "track" else track.collection
    path = cover_target(resource)
    error = the_error(put(path, make_image("jpeg")), 403)
    assert error["code"] == "wrong_method"
    assert "POST" in error["detail"]
    assert_left_nothing(media_root, temp_dir, track)
    assert post_cover(path, make_image("jpeg")).status_code == 200


@pytest.mark.django_db
def test_a_signature_for_another_track_does_not_carry_over(media_root, temp_dir, tmp_path):
    """The key is signed: a target re-pointed at another track is not ours."""
    track, other = make_collection_track(), make_collection_track()
    token = token_of(audio_target(track))
    payload = signing.loads(token, salt=uploads.SALT)
    _, _, signature = token.rpartition(":")
    forged_payload = signing.dumps({**payload, "k": str(other.pk)}, salt=uploads.SALT).rpartition(
        ":"
    )[0]
    error = the_error(
        put(f"/api/v1/uploads/{forged_payload}:{signature}", audio_bytes(tmp_path)), 403
    )
    assert error["code"] == "invalid_signature"
    assert_left_nothing(media_root, temp_dir, other)


# --- Once only --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_used_target_is_409_already_received(media_root, temp_dir, tmp_path):
    track = make_collection_track()
    path = audio_target(track)
    content = audio_bytes(tmp_path)
    assert put(path, content).status_code == 200
    stored = stored_files(media_root)
    error = the_error(put(path, audio_bytes(tmp_path, seconds=1)), 409)
    assert error["code"] == "already_received"
    assert stored_files(media_root) == stored
    assert (media_root / stored[0]).read_bytes() == content
    assert DBTaskResult.objects.count() == 1
    track.refresh_from_db()
    assert (track.status, track.processing_attempt, track.size) == ("processing", 1, len(content))
    assert list(temp_dir.iterdir()) == []


@pytest.mark.django_db
def test_a_second_target_for_a_track_with_audio_is_409_already_uploaded(
    media_root, temp_dir, tmp_path
):
    track = make_collection_track()
    first, second = audio_target(track), audio_target(track)
    content = audio_bytes(tmp_path)
    assert put(first, content).status_code == 200
    stored = stored_files(media_root)
    for _ in range(2):  # the refusal gives the target back: it is refused again, the same way
        error = the_error(put(second, audio_bytes(tmp_path, "flac")), 409)
        assert error["code"] == "already_uploaded"
    assert stored_files(media_root) == stored
    assert UploadReceipt.objects.count() == 1  # the first target's claim only
    assert DBTaskResult.objects.count() == 1
    track.refresh_from_db()
    assert (track.processing_attempt, track.size) == (1, len(content))
    assert list(temp_dir.iterdir()) == []


# --- The client's file: refused, nothing kept, the target takes a good file ---------------------


def truncated_wav(tmp_path):
    return audio_bytes(tmp_path)[:20]


def header_only_wav(tmp_path):
    return audio_bytes(tmp_path)[:44]


NOT_AUDIO = {
    "text": lambda tmp_path: b"just some text, not a song\n" * 40,
    "png": lambda tmp_path: make_image("png"),
    "jpeg": lambda tmp_path: make_image("jpeg"),
    "random-bytes": lambda tmp_path: random.Random(7).randbytes(64 * 1024),
    "empty": lambda tmp_path: b"",
    "truncated-wav-header": truncated_wav,
    "wav-header-only": header_only_wav,
    "ffconcat-playlist": lambda tmp_path: b"ffconcat version 1.0\nfile /etc/hostname\n",
}


@pytest.mark.django_db
@pytest.mark.parametrize("make", NOT_AUDIO.values(), ids=NOT_AUDIO.keys())
def test_not_audio_is_422_then_the_target_takes_audio(media_root, temp_dir, tmp_path, make):
    track = make_collection_track()
    path = audio_target(track)
    content = make(tmp_path)
    response = put(path, content, CONTENT_LENGTH=str(len(content)))
    error = the_error(response, 422)
    assert error["code"] == "not_audio", error
    assert_left_nothing(media_root, temp_dir, track)
    good = audio_bytes(tmp_path)
    assert upload_audio(track, good)["attributes"]["status"] == "processing"
    assert len(stored_files(media_root)) == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["", "1e3"])
def test_missing_or_bad_content_length_is_411(media_root, temp_dir, tmp_path, length):
    track = make_collection_track()
    path = audio_target(track)
    content = audio_bytes(tmp_path)
    error = the_error(put(path, content, CONTENT_LENGTH=length), 411)
    assert error["code"] == "length_required"
    assert_left_nothing(media_root, temp_dir, track)
    assert put(path, content).status_code == 200


@pytest.mark.django_db
def test_larger_than_upload_max_bytes_is_413_then_a_file_within_fits(
    settings, media_root, temp_dir, tmp_path
):
    track = make_collection_track()
    path = audio_target(track)
    content = audio_bytes(tmp_path)
    settings.UPLOAD_MAX_BYTES = len(content) - 1  # read when the upload arrives
    error = the_error(put(path, content), 413)
    assert error["code"] == "file_too_large"
    assert str(len(content) - 1) in error["detail"]
    assert_left_nothing(media_root, temp_dir, track)
    # Declared is enough: the Content-Length is refused before any byte is read.
    error = the_error(put(path, b"x" * 10, CONTENT_LENGTH=str(len(content))), 413)
    assert error["code"] == "file_too_large"
    assert_left_nothing(media_root, temp_dir, track)
    settings.UPLOAD_MAX_BYTES = len(content)  # exactly the limit is allowed
    assert put(path, content).status_code == 200


@pytest.mark.django_db
def test_track_deleted_before_the_upload_is_404(api, media_root, temp_dir, tmp_path):
    track = make_collection_track()
    path = audio_target(track)
    assert api.delete(f"{TRACKS}/{track.pk}").status_code == 200
    error = the_error(put(path, audio_bytes(tmp_path)), 404)
    assert error["code"] == "not_found"
    assert not CollectionTrack.objects.exists()
    assert_left_nothing(media_root, temp_dir)


@pytest.mark.django_db
def test_collection_deleted_before_a_cover_upload_is_404(api, media_root, temp_dir):
    collection = make_collection()
    path = cover_target(collection)
    assert api.delete(f"{COLLECTIONS}/{collection.pk}").status_code == 200
    error = the_error(post_cover(path, make_image("jpeg")), 404)
    assert error["code"] == "not_found"
    assert_left_nothing(media_root, temp_dir)


# --- Over real HTTP (a live server): cut-short bodies and concurrent uploads ---------------------


def concurrently(*calls):
    """The results, sorted, of ``calls`` started at the same moment in threads of their own."""
    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return sorted(results)


@pytest.mark.django_db(transaction=True)
def test_over_real_http_cut_short_and_concurrent_uploads(live_server, media_root, tmp_path):
    content = audio_bytes(tmp_path, seconds=4)
    # A body cut short is a 400 that keeps nothing and gives the target back.
    track = make_collection_track()
    path = audio_target(track)
    status, document = cut_short_put(live_server, path, content[:1000], len(content))
    assert status == 400, document
    assert document["errors"][0]["code"] == "incomplete_body"
    assert stored_files(media_root) == [] and not UploadReceipt.objects.exists()
    track.refresh_from_db()
    assert track.status == Status.INITIALIZED
    # Two uploads at once to one target: one is taken, the other is a 409.
    assert concurrently(*[lambda: raw_put(live_server.url + path, content)] * 2) == [200, 409]
    # Two targets of one track at once: the track takes one file, once.
    other = make_collection_track()
    first, second = audio_target(other), audio_target(other)
    results = concurrently(
        lambda: raw_put(live_server.url + first, content),
        lambda: raw_put(live_server.url + second, content),
    )
    assert results == [200, 409]
    assert len(stored_files(media_root)) == 2
    assert DBTaskResult.objects.count() == 2
    assert {task.args_kwargs["args"][1] for task in DBTaskResult.objects.all()} == {1}


# --- Covers ------------------------------------------------------------------------------------


def assert_cover(media_root, cover, mime_type="image/jpeg", size=(800, 600)):
    """Four renditions, each a stored file served at its URL; ``size`` is the largest."""
    assert set(cover) == {"icon", "small", "regular", "large"}
    for rendition in cover.values():
        assert rendition["type"] == mime_type
        assert rendition["url"].startswith("http://testserver/media/covers/")
    assert (cover["large"]["width"], cover["large"]["height"]) == size
    assert max(cover["icon"]["width"], cover["icon"]["height"]) == 64
    names = stored_files(media_root)
    assert len(names) == 4
    for rendition in cover.values():
        [name] = [name for name in names if rendition["url"].endswith("/media/" + name)]
        assert (media_root / name).stat().st_size > 0


def owner_of(kind):
    track = make_collection_track()
    return track if kind == "track" else track.collection


def attributes_of(api, owner):
    prefix = TRACKS if isinstance(owner, CollectionTrack) else COLLECTIONS
    return api.get(f"{prefix}/{owner.pk}").document["data"]["attributes"]


OWNERS = ["track", "collection"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "owner_kind"),
    [("jpeg", "track"), ("png", "collection"), ("webp", "track"), ("png_alpha", "collection")],
)
def test_cover_is_stored_in_four_sizes_with_its_colour(api, media_root, temp_dir, owner_kind, kind):
    owner = owner_of(owner_kind)
    response = post_cover(cover_target(owner), make_image(kind, colour=RED), name="c.bin")
    assert response.status_code == 200, response.document
    data = response.document["data"]
    assert (data["type"], data["id"]) == (
        "collection-tracks" if owner_kind == "track" else "collections",
        str(owner.pk),
    )
    got = data["attributes"]
    assert_cover(media_root, got["cover"], "image/png" if kind == "png_alpha" else "image/jpeg")
    expected = covers.vibrant_colour(covers.open_cover(io.BytesIO(make_image(kind, colour=RED))))
    assert got["player-color"] == expected
    assert got["player-color-light"] and got["player-color-dark"]
    assert attributes_of(api, owner) == got
    assert list(temp_dir.iterdir()) == []
    assert DBTaskResult.objects.count() == 0  # a cover is not processed in the background
    if owner_kind == "track":
        owner.refresh_from_db()
        assert owner.status == Status.INITIALIZED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "code", "owner_kind"),
    [
        (make_image("gif"), "not_an_image", "track"),
        (make_image("bmp"), "not_an_image", "collection"),
        (b"not an image at all", "not_an_image", "collection"),
        (make_image("jpeg")[:600], "not_an_image", "track"),
        (make_bomb(), "image_too_large", "track"),
        (make_bomb(), "image_too_large", "collection"),
    ],
    ids=["gif", "bmp", "garbage", "truncated-jpeg", "bomb-track", "bomb-collection"],
)
def test_refused_cover_is_422_then_the_target_takes_an_image(
    api, media_root, temp_dir, owner_kind, content, code
):
    owner = owner_of(owner_kind)
    path = cover_target(owner)
    response = post_cover(path, content, name="cover.jpg")
    error = the_error(response, 422)
    assert error["code"] == code, error
    assert_left_nothing(media_root, temp_dir)
    assert attributes_of(api, owner)["cover"] is None
    response = post_cover(path, make_image("jpeg"))
    assert response.status_code == 200, response.document
    assert_cover(media_root, response.document["data"]["attributes"]["cover"])


@pytest.mark.django_db
@pytest.mark.parametrize("owner_kind", OWNERS)
def test_cover_over_the_limit_is_413(monkeypatch, media_root, temp_dir, owner_kind):
    owner = owner_of(owner_kind)
    path = cover_target(owner)
    image = make_image("png")
    monkeypatch.setattr(covers, "MAX_COVER_BYTES", len(image) - 1)  # read at request time
    error = the_error(post_cover(path, image), 413)
    assert error["code"] == "file_too_large"
    assert_left_nothing(media_root, temp_dir)
    monkeypatch.setattr(covers, "MAX_COVER_BYTES", len(image))
    assert post_cover(path, image).status_code == 200


@pytest.mark.django_db
def test_cover_over_10_mb_is_413_by_default(media_root, temp_dir):
    assert covers.MAX_COVER_BYTES == 10 * 1024 * 1024
    collection = make_collection()
    path = cover_target(collection)
    big = make_image("png") + b"\0" * (10 * 1024 * 1024)
    error = the_error(post_cover(path, big), 413)
    assert error["code"] == "file_too_large"
    assert_left_nothing(media_root, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["image/jpeg", "application/x-www-form-urlencoded"])
def test_cover_not_sent_as_multipart_is_415(media_root, temp_dir, content_type):
    collection = make_collection()
    path = cover_target(collection)
    response = JsonApiClient().generic("POST", path, make_image("jpeg"), content_type=content_type)
    error = the_error(response, 415)
    assert "multipart/form-data" in error["detail"]
    assert_left_nothing(media_root, temp_dir)
    assert post_cover(path, make_image("jpeg")).status_code == 200


@pytest.mark.django_db
def test_cover_in_another_field_is_422(media_root, temp_dir):
    collection = make_collection()
    path = cover_target(collection)
    response = post_cover(path, make_image("jpeg"), field="image", title="x")
    error = the_error(response, 422)
    assert error["code"] == "required"
    assert "'file'" in error["detail"]
    assert_left_nothing(media_root, temp_dir)
    assert post_cover(path, make_image("jpeg")).status_code == 200


@pytest.mark.django_db
def test_a_used_cover_target_is_409(media_root, temp_dir):
    collection = make_collection()
    path = cover_target(collection)
    assert post_cover(path, make_image("jpeg")).status_code == 200
    stored = stored_files(media_root)
    error = the_error(post_cover(path, make_image("png", colour=BLUE)), 409)
    assert error["code"] == "already_received"
    assert stored_files(media_root) == stored


@pytest.mark.django_db
@pytest.mark.parametrize("owner_kind", OWNERS)
def test_a_new_cover_replaces_the_old_files_once_committed(
    media_root, temp_dir, owner_kind, django_capture_on_commit_callbacks
):
    owner = owner_of(owner_kind)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_cover(cover_target(owner), make_image("jpeg", colour=RED))
    assert first.status_code == 200
    old = stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = post_cover(cover_target(owner), make_image("png", colour=BLUE))
    assert second.status_code == 200, second.document
    # Until the change commits, both covers' files are there.
    assert len(stored_files(media_root)) == 8
    assert set(old) < set(stored_files(media_root))
    for callback in callbacks:
        callback()
    new = stored_files(media_root)
    assert len(new) == 4 and not set(old) & set(new)
    got = second.document["data"]["attributes"]
    assert_cover(media_root, got["cover"])
    assert got["player-color"] != first.document["data"]["attributes"]["player-color"]


@pytest.mark.django_db
@pytest.mark.parametrize("owner_kind", OWNERS)
def test_a_cover_keeps_the_clients_player_color(api, media_root, owner_kind):
    owner = owner_of(owner_kind)
    prefix = TRACKS if owner_kind == "track" else COLLECTIONS
    kind = "collection-tracks" if owner_kind == "track" else "collections"
    document = {
        "data": {"type": kind, "id": str(owner.pk), "attributes": {"player-color": "#123456"}}
    }
    response = api.patch_doc(f"{prefix}/{owner.pk}", document)
    assert response.status_code == 200, response.document
    response = post_cover(cover_target(owner), make_image("jpeg", colour=RED))
    assert response.status_code == 200, response.document
    got = response.document["data"]["attributes"]
    assert got["cover"] is not None
    assert got["player-color"] == "#123456"
    assert (got["player-color-light"], got["player-color-dark"]) == covers.light_and_dark("#123456")
    # Handing the colour back (null) gives the cover's.
    document["data"]["attributes"]["player-color"] = None
    got = api.patch_doc(f"{prefix}/{owner.pk}", document).document["data"]["attributes"]
    assert got["player-color"] not in (None, "#123456")


@pytest.mark.django_db
def test_a_collection_that_forbids_track_covers_refuses_one_409(media_root, temp_dir):
    collection = make_collection(is_cover_overridable=False)
    track = make_collection_track(collection=collection)
    path = cover_target(track)
    error = the_error(post_cover(path, make_image("jpeg")), 409)
    assert error["code"] == "cover_not_overridable"
    assert_left_nothing(media_root, temp_dir, track)
    # The collection's own cover is not concerned.
    assert post_cover(cover_target(collection), make_image("jpeg")).status_code == 200
    # Allowed again, the same target takes the cover (the refusal gave it back).
    Collection.objects.filter(pk=collection.pk).update(is_cover_overridable=True)
    assert post_cover(path, make_image("jpeg")).status_code == 200


# --- Deleting: the stored files go with the rows -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deleting_processed_tracks_and_a_collection_deletes_their_files(api, media_root, tmp_path):
    collection = make_collection()
    embedded, uploaded = (
        make_collection_track(collection=collection),
        make_collection_track(collection=collection),
    )
    cover = make_image("jpeg", size=(300, 300), colour=RED)
    upload_audio(embedded, audio_bytes(tmp_path, "mp3", cover=cover))
    upload_audio(uploaded, audio_bytes(tmp_path, "flac"))
    assert post_cover(cover_target(uploaded), make_image("png")).status_code == 200
    assert post_cover(cover_target(collection), make_image("webp")).status_code == 200
    run_worker()
    for track in (embedded, uploaded):
        got = attributes(api, track.pk)
        assert got["status"] == "ready" and got["cover"] is not None
    files = stored_files(media_root)
    assert len(files) == 2 + 2 + 3 * 4  # two audio files and variants, three covers in four sizes

    def files_of(owner):
        variants = TrackVariant.objects.filter(track_id=owner.pk).values_list("pk", flat=True)
        keys = {str(owner.pk), *map(str, variants)}
        return [name for name in files if any(key in name for key in keys)]

    embedded_files = files_of(embedded)  # its variants' are named by their rows
    assert len(embedded_files) == len(files_of(uploaded)) == 6
    response = api.delete(f"{TRACKS}/{embedded.pk}")
    assert response.status_code == 200, response.document
    assert response.document["meta"]["deleted"]["id"] == str(embedded.pk)
    assert stored_files(media_root) == sorted(set(files) - set(embedded_files))
    # A collection with tracks is kept unless the cascade is asked for.
    assert the_error(api.delete(f"{COLLECTIONS}/{collection.pk}"), 409)["code"] == "in_use"
    assert len(stored_files(media_root)) == 10
    response = api.delete(f"{COLLECTIONS}/{collection.pk}?cascade=true")
    assert response.status_code == 200, response.document
    assert not CollectionTrack.objects.exists() and not Collection.objects.exists()
    assert stored_files(media_root) == []
