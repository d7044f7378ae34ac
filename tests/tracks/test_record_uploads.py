"""Signed upload targets for record masters: POST /records/upload-targets issues a URL,
a PUT of the raw file to it (no Bearer token) makes the record. Real FLAC files, real
storage under a fresh MEDIA_ROOT, real HTTP through the test client or a live server."""

import hashlib
import json
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import signing
from django.test import Client
from django.utils import timezone

from config import uploads
from config.models import UploadReceipt
from tests.assertions import errors_by_pointer, the_error
from tests.client import JsonApiClient
from tests.factories import add_member, make_label, make_organization, make_product, make_track
from tests.rawhttp import cut_short_put, raw_put
from tracks.models import Record

from .test_records import audio_file, corrupt_flac, stored_files

pytestmark = pytest.mark.usefixtures("media_root")

TARGETS = "/api/v1/records/upload-targets"
FLAC = audio_file(seconds=1)


def target_document(track_id, filename=None, **attributes):
    if filename is not None:
        attributes["filename"] = filename
    data = {
        "type": "records",
        "relationships": {"track": {"data": {"type": "tracks", "id": str(track_id)}}},
    }
    if attributes:
        data["attributes"] = attributes
    return {"data": data}


def issue(client, track, filename=None):
    """The meta of a new target for ``track``'s next record."""
    response = client.post_doc(TARGETS, target_document(track.pk, filename))
    assert response.status_code == 200, response.document
    return response.document["meta"]["record-upload"]


def path_of(target):
    return urlsplit(target["upload-url"]).path


def put(path, content, **extra):
    """A PUT of the raw bytes, without any Authorization header."""
    return JsonApiClient().generic(
        "PUT", path, content, content_type="application/octet-stream", **extra
    )


def upload_temp_files(root):
    return list(root.glob("*.upload"))


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where the upload view streams bodies: checked empty after every upload."""
    folder = tmp_path / "upload-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def assert_nothing_written(media_root, temp_dir=None):
    assert not Record.objects.exists()
    assert stored_files(media_root) == []
    if temp_dir is not None:
        assert upload_temp_files(temp_dir) == []


# --- Issuing a target -------------------------------------------------------------------


@pytest.mark.django_db
def test_issue_answers_a_signed_put_target(api, media_root):
    track = make_track()
    before = timezone.now()
    response = api.post_doc(TARGETS, target_document(track.pk, "song.flac"))
    assert response.status_code == 200, response.document
    assert set(response.document) == {"jsonapi", "meta"}
    target = response.document["meta"]["record-upload"]
    assert set(target) == {"method", "upload-url", "ttl", "expires-at"}
    assert target["method"] == "PUT"
    assert target["upload-url"].startswith("http://testserver/api/v1/uploads/")
    assert len(path_of(target)) > len("/api/v1/uploads/") + 20
    assert target["ttl"] == 3600
    expires_at = datetime.fromisoformat(target["expires-at"])
    assert before + timedelta(seconds=3599) <= expires_at <= timezone.now() + timedelta(hours=1)
    # Issuing writes nothing: no record, no file, no claim.
    assert_nothing_written(media_root)
    assert not UploadReceipt.objects.exists()


@pytest.mark.django_db
def test_each_target_is_a_new_url(api):
    track = make_track()
    assert issue(api, track)["upload-url"] != issue(api, track)["upload-url"]


@pytest.mark.django_db
def test_editor_may_issue_a_target(editor, make_token):
    target = issue(JsonApiClient(make_token(editor)), make_track())
    assert target["method"] == "PUT"


def member(organization, username, role, exclude=()):
    """A member of ``organization`` with ``role`` and every catalog permission but ``exclude``."""
    user = get_user_model().objects.create_user(username, password="pw")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["products", "tracks"]).exclude(
            codename__in=exclude
        )
    )
    add_member(user, organization, role)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope", "exclude", "code"),
    [
        ("viewer", "read write", (), "role_forbidden"),
        ("editor", "read", (), "permission_denied"),
        ("editor", "read write", ("add_record",), "permission_denied"),
    ],
    ids=["viewer-with-every-permission", "read-scope", "no-add-record-permission"],
)
def test_issue_needs_write_scope_editor_role_and_add_record(
    organization, make_token, media_root, role, scope, exclude, code
):
    user = member(organization, "someone", role, exclude)
    client = JsonApiClient(make_token(user, scope))
    error = the_error(client.post_doc(TARGETS, target_document(make_track().pk)), 403)
    assert error["code"] == code
    assert_nothing_written(media_root)


@pytest.mark.django_db
def test_superuser_read_token_cannot_issue(admin_user, make_token):
    client = JsonApiClient(make_token(admin_user, "read"))
    assert client.post_doc(TARGETS, target_document(make_track().pk)).status_code == 403


@pytest.mark.django_db
def test_issue_without_a_token_is_401(anonymous):
    track = make_track()
    assert anonymous.post_doc(TARGETS, target_document(track.pk)).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("whose", ["other-organization", "unknown-id"])
def test_track_of_another_organization_or_unknown_is_404(api, whose):
    if whose == "other-organization":
        other = make_organization()
        track_id = make_track(product=make_product(label=make_label(organization=other))).pk
    else:
        track_id = 987654321
    response = api.post_doc(TARGETS, target_document(track_id))
    errors = errors_by_pointer(response, 404)
    assert errors["/data/relationships/track"]["code"] == "does_not_exist"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("section", "member", "value"),
    [
        ("attributes", "new-file", "ZkxhQw=="),
        ("attributes", "md5", "0" * 32),
        ("attributes", "original-url", "http://127.0.0.1/a.flac"),
        ("relationships", "product", {"data": None}),
    ],
)
def test_unknown_members_are_422_at_their_pointer(api, media_root, section, member, value):
    document = target_document(make_track().pk)
    document["data"].setdefault(section, {})[member] = value
    errors = errors_by_pointer(api.post_doc(TARGETS, document), 422)
    assert f"/data/{section}/{member}" in errors
    assert_nothing_written(media_root)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "code"),
    [
        ("a/b", "invalid_filename"),
        ("..", "invalid_filename"),
        ("bad\x07name.flac", "invalid_filename"),
        ("", "blank"),
        (12, None),
    ],
    ids=["slash", "dot-dot", "control-char", "blank", "number"],
)
def test_bad_filename_is_422(api, filename, code):
    response = api.post_doc(TARGETS, target_document(make_track().pk, filename))
    errors = errors_by_pointer(response, 422)
    if code is not None:
        assert errors["/data/attributes/filename"]["code"] == code
    else:
        assert "/data/attributes/filename" in errors


@pytest.mark.django_db
def test_track_is_required(api):
    document = {"data": {"type": "records", "attributes": {"filename": "a.flac"}}}
    errors = errors_by_pointer(api.post_doc(TARGETS, document), 422)
    assert "/data/relationships/track" in errors


# --- Uploading to a target -----------------------------------------------------------------


@pytest.mark.django_db
def test_put_creates_the_record_with_the_issued_filename(api, media_root, temp_dir):
    track = make_track()
    target = issue(api, track, "song.flac")
    response = put(path_of(target), FLAC)
    assert response.status_code == 201, response.document
    data = response.document["data"]
    assert data["type"] == "records"
    assert response["Location"] == data["links"]["self"]
    assert response["Location"] == f"http://testserver/api/v1/records/{data['id']}"
    attributes = data["attributes"]
    assert attributes["filename"] == "song.flac"
    assert attributes["md5"] == hashlib.md5(FLAC).hexdigest()
    assert attributes["file-size"] == len(FLAC)
    assert (attributes["precision"], attributes["master-type"]) == (16, "cd")
    assert data["relationships"]["track"]["data"] == {"type": "tracks", "id": str(track.pk)}
    record = Record.objects.get()
    assert (record.pk, record.track_id, record.filename) == (int(data["id"]), track.pk, "song.flac")
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == FLAC
    assert upload_temp_files(temp_dir) == []
    # The record is the one its own endpoint serves, and the track's flags follow it.
    assert api.get(f"/api/v1/records/{data['id']}").document["data"]["attributes"] == attributes
    track.refresh_from_db()
    assert track.audio16bits is True


@pytest.mark.django_db
def test_default_filename_is_master_flac(api):
    response = put(path_of(issue(api, make_track())), FLAC)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["filename"] == "master.flac"


@pytest.mark.django_db
def test_put_ignores_authorization_and_content_type(api, viewer, make_token):
    """The URL authorises the upload: a reader's (or a bogus) Bearer token changes nothing."""
    target = issue(api, make_track())
    client = JsonApiClient("not-a-real-token")
    response = client.generic("PUT", path_of(target), FLAC, content_type="audio/flac")
    assert response.status_code == 201, response.document
    target = issue(api, make_track())
    response = JsonApiClient(make_token(viewer, "read")).generic(
        "PUT", path_of(target), FLAC, content_type="text/plain"
    )
    assert response.status_code == 201, response.document
    assert Record.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "*/*"])
def test_plain_http_clients_may_upload(api, accept):
    """curl and friends send Accept: */* or nothing; the answer is still JSON:API."""
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = Client().generic(
        "PUT", path_of(issue(api, make_track())), FLAC, content_type="audio/flac", **extra
    )
    assert response.status_code == 201, response.content[:300]
    assert response["Content-Type"] == "application/vnd.api+json"
    assert json.loads(response.content)["data"]["type"] == "records"


@pytest.mark.django_db
def test_hi_res_master_through_a_target(api, media_root):
    content = audio_file(bits=24, seconds=1, rate=96000, channels=1)
    response = put(path_of(issue(api, make_track(), "hd.flac")), content)
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["precision"], attributes["master-type"]) == (24, "hi-res")
    assert attributes["file"]["sample-rate"] == 96000
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == content


# --- Refused targets: 403, nothing written ---------------------------------------------


def tamper_payload(token):
    index = 5  # inside the signed (compressed) payload
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def tamper_signature(token):
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def payload_of(token):
    return signing.loads(token, salt=uploads.SALT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forge",
    [
        tamper_payload,
        tamper_signature,
        lambda token: token.split(":")[0],  # no timestamp, no signature
        lambda token: signing.dumps(payload_of(token), salt="another.salt", compress=True),
        lambda token: signing.dumps(payload_of(token), compress=True),  # default salt
        lambda token: signing.dumps(
            {**payload_of(token), "p": "products"}, salt=uploads.SALT, compress=True
        ),
        lambda token: "x",
        # Signed with our key and salt, but not a target's shape (only the key can do that).
        lambda token: signing.dumps("records", salt=uploads.SALT, compress=True),
        lambda token: signing.dumps(
            {k: v for k, v in payload_of(token).items() if k != "e"}, salt=uploads.SALT
        ),
        lambda token: signing.dumps({**payload_of(token), "e": "never"}, salt=uploads.SALT),
    ],
    ids=[
        "tampered-payload",
        "tampered-signature",
        "unsigned",
        "other-salt",
        "default-salt",
        "unknown-purpose",
        "garbage",
        "signed-string",
        "signed-without-expiry",
        "signed-bad-expiry",
    ],
)
def test_forged_token_is_403_invalid_signature(api, media_root, temp_dir, forge):
    token = path_of(issue(api, make_track())).rsplit("/", 1)[1]
    forged = forge(token)
    assert forged != token
    error = the_error(put(f"/api/v1/uploads/{forged}", FLAC), 403)
    assert error["code"] == "invalid_signature"
    assert_nothing_written(media_root, temp_dir)
    assert not UploadReceipt.objects.exists()


@pytest.mark.django_db
def test_expired_target_is_403_expired(api, settings, media_root, temp_dir):
    settings.UPLOAD_TTL_SECONDS = 1
    target = issue(api, make_track())
    assert target["ttl"] == 1
    time.sleep(1.5)  # signing's timestamps are whole seconds: the age is over 1 s
    error = the_error(put(path_of(target), FLAC), 403)
    assert error["code"] == "expired"
    assert_nothing_written(media_root, temp_dir)
    assert not UploadReceipt.objects.exists()


# --- Once only -------------------------------------------------------------------------


@pytest.mark.django_db
def test_second_put_to_a_used_target_is_409(api, media_root, temp_dir):
    target = issue(api, make_track())
    assert put(path_of(target), FLAC).status_code == 201
    error = the_error(put(path_of(target), audio_file(seconds=2)), 409)
    assert error["code"] == "already_received"
    [record] = Record.objects.all()
    assert record.file_size == len(FLAC)
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == FLAC
    assert upload_temp_files(temp_dir) == []


@pytest.mark.django_db
def test_two_targets_for_one_track_make_two_records(api):
    track = make_track()
    first, second = issue(api, track, "a.flac"), issue(api, track, "b.flac")
    assert put(path_of(second), FLAC).status_code == 201
    assert put(path_of(first), FLAC).status_code == 201
    names = sorted(Record.objects.filter(track=track).values_list("filename", flat=True))
    assert names == ["a.flac", "b.flac"]


# --- Bad files: nothing written, the target may be used again ---------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        corrupt_flac(),
        audio_file(fmt="WAV"),
        b"fLaC",
        b"just some text",
        bytes(range(256)) * 8,
    ],
    ids=["corrupt", "wav", "header-only", "text", "random-bytes"],
)
def test_a_file_that_is_not_flac_is_422_then_the_target_takes_a_good_one(
    api, media_root, temp_dir, content
):
    target = issue(api, make_track(), "song.flac")
    response = put(path_of(target), content)
    assert response.status_code == 422, response.document
    codes = {error["code"] for error in response.document["errors"]}
    assert codes == {"invalid_flac"}
    assert_nothing_written(media_root, temp_dir)
    assert not UploadReceipt.objects.exists()
    response = put(path_of(target), FLAC)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["filename"] == "song.flac"
    assert Record.objects.count() == 1


@pytest.mark.django_db
def test_empty_body_is_422_and_writes_nothing(api, media_root, temp_dir):
    target = issue(api, make_track())
    response = put(path_of(target), b"", CONTENT_LENGTH="0")
    assert response.status_code == 422, response.document
    assert_nothing_written(media_root, temp_dir)
    assert put(path_of(target), FLAC).status_code == 201


@pytest.mark.django_db
def test_larger_than_record_max_bytes_is_413_then_a_smaller_one_fits(
    api, settings, media_root, temp_dir
):
    settings.RECORD_MAX_BYTES = len(FLAC) - 1
    target = issue(api, make_track())
    error = the_error(put(path_of(target), FLAC), 413)
    assert error["code"] == "file_too_large"
    assert str(len(FLAC) - 1) in error["detail"]
    assert_nothing_written(media_root, temp_dir)
    settings.RECORD_MAX_BYTES = len(FLAC)  # exactly the limit is allowed
    assert put(path_of(target), FLAC).status_code == 201


@pytest.mark.django_db
def test_size_is_checked_from_content_length_before_reading(api, settings, media_root, temp_dir):
    """A Content-Length over the limit is refused even though the body sent is small."""
    settings.RECORD_MAX_BYTES = 1000
    target = issue(api, make_track())
    error = the_error(put(path_of(target), b"x" * 10, CONTENT_LENGTH="5000"), 413)
    assert error["code"] == "file_too_large"
    assert_nothing_written(media_root, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["", "abc", "-1", "1e3"])
def test_missing_or_bad_content_length_is_411(api, media_root, temp_dir, length):
    target = issue(api, make_track())
    error = the_error(put(path_of(target), FLAC, CONTENT_LENGTH=length), 411)
    assert error["code"] == "length_required"
    assert_nothing_written(media_root, temp_dir)
    assert put(path_of(target), FLAC).status_code == 201


# --- The world changed since the target was issued ---------------------------------------


@pytest.mark.django_db
def test_track_deleted_after_issue_is_404(api, media_root, temp_dir):
    track = make_track()
    target = issue(api, track)
    assert api.delete(f"/api/v1/tracks/{track.pk}").status_code == 204
    error = the_error(put(path_of(target), FLAC), 404)
    assert error["code"] == "not_found"
    assert_nothing_written(media_root, temp_dir)


@pytest.mark.django_db
def test_a_post_to_a_put_target_is_refused(api, media_root):
    """Upload URLs take PUT (audio, masters) or POST (covers): the target says which."""
    target = issue(api, make_track())
    response = JsonApiClient().generic(
        "POST", path_of(target), FLAC, content_type="application/octet-stream"
    )
    assert the_error(response, 403)["code"] == "wrong_method"
    assert_nothing_written(media_root)
    assert not UploadReceipt.objects.exists()
    assert put(path_of(target), FLAC).status_code == 201  # the target is still unused


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH", "HEAD"])
def test_other_methods_are_405(api, media_root, method):
    target = issue(api, make_track())
    response = JsonApiClient().generic(
        method, path_of(target), FLAC, content_type="application/octet-stream"
    )
    assert response.status_code == 405
    assert response["Allow"] == "PUT, POST"
    if method != "HEAD":
        assert the_error(response, 405)["code"] == "method_not_allowed"
    assert_nothing_written(media_root)
    assert not UploadReceipt.objects.exists()
    assert put(path_of(target), FLAC).status_code == 201  # the target is still unused


# --- Over real HTTP (a live server): cut-short bodies and concurrent uploads ----------------
# One test: each live-server test reloads the database (serialized_rollback), which costs
# seconds.


def concurrent_puts(url, content):
    """The statuses of two PUTs of ``content`` to ``url`` started at the same moment."""
    barrier = threading.Barrier(2)
    statuses = []

    def upload():
        barrier.wait()
        statuses.append(raw_put(url, content, timeout=30))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(statuses)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_over_real_http_cut_short_bodies_and_concurrent_puts(api, live_server, media_root):
    # A body cut short is a 400 that writes nothing and gives the target back.
    path = path_of(issue(api, make_track()))
    status, document = cut_short_put(live_server, path, FLAC[:100], len(FLAC), timeout=30)
    assert status == 400, document
    assert document["errors"][0]["code"] == "incomplete_body"
    assert not Record.objects.exists()
    assert stored_files(media_root) == []
    assert not UploadReceipt.objects.exists()
    assert raw_put(live_server.url + path, FLAC, timeout=30) == 201
    assert raw_put(live_server.url + path, FLAC, timeout=30) == 409
    # Two uploads at once to one target: exactly one record, the other is a 409.
    content = audio_file(seconds=4)
    for records in range(2, 5):
        url = live_server.url + path_of(issue(api, make_track()))
        assert concurrent_puts(url, content) == [201, 409]
        assert Record.objects.count() == records
        assert len(stored_files(media_root)) == records
