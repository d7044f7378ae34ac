"""Play sessions and their signed media URLs, over HTTP with the Django test client: real
audio files (media_files.write_audio) stored as ready variants under a fresh MEDIA_ROOT."""

import json
import time
from datetime import datetime
from urllib.parse import unquote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.test import Client

from collections_app import playback
from collections_app.models import Status, TrackVariant, VariantStatus
from config.jsonapi import JSONAPI_MEDIA_TYPE as JSONAPI
from tests.assertions import the_error
from tests.client import JsonApiClient
from tests.factories import (
    add_member,
    make_collection,
    make_collection_track,
    make_organization,
)

from .media_files import write_audio

pytestmark = pytest.mark.usefixtures("media_root")

SESSIONS = "/api/v1/play-sessions"
LEVELS = {"num-samples": 320, "min": [-0.5] * 320, "max": [0.5] * 320, "avg": [0.3] * 320}
MIME = {"mp3": "audio/mpeg", "opus": "audio/ogg", "ogg": "audio/ogg"}


def ready_track(collection=None, title="Song", status=Status.READY, **fields):
    return make_collection_track(
        collection=collection or make_collection(),
        title=title,
        status=status,
        duration=2.0,
        levels=LEVELS,
        **fields,
    )


def add_variant(track, tmp_path, kind="mp3", bitrate=128, status=VariantStatus.READY, **fields):
    """A variant of ``track`` holding a real ``kind`` file."""
    path = write_audio(tmp_path / f"{track.pk}-{kind}-{bitrate}.{kind}", kind, 2.0)
    variant = TrackVariant(
        track=track,
        codec=kind,
        bitrate=bitrate,
        status=status,
        mime_type=MIME[kind],
        duration=2.0,
        **fields,
    )
    with path.open("rb") as file:
        variant.file.save(f"{track.pk}/{kind}-{bitrate}.{kind}", File(file), save=False)
    variant.size = variant.file.size
    variant.save()
    return variant


def session_document(track=None, collection=None, **extra):
    relationships = {}
    if track is not None:
        relationships["track"] = {"data": {"type": "collection-tracks", "id": str(track.pk)}}
    if collection is not None:
        relationships["collection"] = {"data": {"type": "collections", "id": str(collection.pk)}}
    return {"data": {"type": "play-sessions", "relationships": relationships, **extra}}


def start(api, **targets):
    response = api.post_doc(SESSIONS, session_document(**targets))
    assert response.status_code == 201, response.document
    return response.document["data"]


def path_of(url):
    return urlsplit(url).path


def stored_bytes(variant):
    with variant.file.open("rb") as file:
        return file.read()


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def player():
    """A browser-like client: no Bearer token, Accept */*."""
    return Client(HTTP_ACCEPT="*/*")


@pytest.fixture
def played(api, tmp_path):
    """A ready track with an mp3 variant, and the session's entry for that variant."""
    track = ready_track(title="Song")
    variant = add_variant(track, tmp_path)
    [entry] = start(api, track=track)["attributes"]["tracks"]
    [media] = entry["variants"]
    return variant, media


def error_of(response, status):
    """The single JSON:API error object of a media response."""
    assert response.status_code == status
    assert response["Content-Type"] == JSONAPI
    [error] = json.loads(response.content)["errors"]
    assert error["status"] == str(status)
    return error


# --- Sessions -------------------------------------------------------------------------------


def test_a_session_for_a_track_lists_its_ready_variants_with_levels(api, tmp_path):
    track = ready_track(title="Song")
    mp3 = add_variant(track, tmp_path, "mp3")
    opus = add_variant(track, tmp_path, "opus", bitrate=96)
    add_variant(track, tmp_path, "ogg", status=VariantStatus.PROCESSING)
    before = int(time.time())
    response = api.post_doc(SESSIONS, session_document(track=track))
    assert response.status_code == 201, response.document
    assert "Location" not in response
    data = response.document["data"]
    assert data["type"] == "play-sessions"
    assert len(data["id"]) == 36
    expires = data["attributes"]["expires-at"]
    assert before + 3600 <= datetime.fromisoformat(expires).timestamp() <= time.time() + 3600
    [entry] = data["attributes"]["tracks"]
    assert entry["id"] == str(track.pk)
    assert (entry["title"], entry["duration"], entry["levels"]) == ("Song", 2.0, LEVELS)
    variants = {v["id"]: v for v in entry["variants"]}
    assert set(variants) == {str(mp3.pk), str(opus.pk)}  # not the one still processing
    assert variants[str(mp3.pk)] | {"url": None, "download-url": None} == {
        "id": str(mp3.pk),
        "variant-type": "transcode",
        "codec": "mp3",
        "bitrate": 128,
        "mime-type": "audio/mpeg",
        "duration": 2.0,
        "url": None,
        "download-url": None,
    }
    for variant in variants.values():
        assert variant["url"].startswith("http://testserver/api/v1/media/")
        assert variant["download-url"] != variant["url"]


def test_a_second_session_is_a_new_one(api, tmp_path):
    track = ready_track()
    add_variant(track, tmp_path)
    assert start(api, track=track)["id"] != start(api, track=track)["id"]


def test_a_session_for_a_collection_holds_its_playable_tracks_in_order(api, tmp_path):
    collection = make_collection()
    first = ready_track(collection, title="First")
    add_variant(first, tmp_path)
    ready_track(collection, title="Processing", status=Status.PROCESSING)
    ready_track(collection, title="Broken", status=Status.ERROR)
    incomplete = ready_track(collection, title="Incomplete", status=Status.INCOMPLETE)
    add_variant(incomplete, tmp_path, "opus")
    add_variant(incomplete, tmp_path, "mp3", status=VariantStatus.ERROR)
    bare = ready_track(collection, title="No variant yet")
    ready_track(title="Elsewhere")  # another collection
    tracks = start(api, collection=collection)["attributes"]["tracks"]
    assert [t["title"] for t in tracks] == ["First", "Incomplete", "No variant yet"]
    assert [v["codec"] for v in tracks[1]["variants"]] == ["opus"]
    assert tracks[2]["id"] == str(bare.pk) and tracks[2]["variants"] == []
    assert all(t["levels"] == LEVELS for t in tracks)


def test_an_empty_collection_is_an_empty_session(api):
    assert start(api, collection=make_collection())["attributes"]["tracks"] == []


def test_a_track_that_is_not_playable_yet_is_a_409(api):
    track = ready_track(status=Status.PROCESSING)
    error = the_error(api.post_doc(SESSIONS, session_document(track=track)), 409)
    assert error["code"] == "not_ready"
    assert error["source"] == {"pointer": "/data/relationships/track"}


def test_a_viewer_with_the_read_scope_may_start_one(make_token, viewer, tmp_path):
    track = ready_track()
    add_variant(track, tmp_path)
    client = JsonApiClient(make_token(viewer, "read"))
    response = client.post_doc(SESSIONS, session_document(track=track))
    assert response.status_code == 201, response.document


def test_without_a_token_it_is_401(anonymous):
    response = anonymous.post_doc(SESSIONS, session_document(track=ready_track()))
    assert the_error(response, 401)
    assert response["WWW-Authenticate"].startswith('Bearer realm="tracks"')


def test_a_token_without_the_read_scope_is_403(make_token, viewer):
    client = JsonApiClient(make_token(viewer, "write"))
    assert the_error(client.post_doc(SESSIONS, session_document(track=ready_track())), 403)


@pytest.mark.parametrize(
    ("relationships", "pointer"),
    [
        ({}, "/data/relationships"),
        ("both", "/data/relationships"),
        (
            {"playlist": {"data": {"type": "collections", "id": "x"}}},
            "/data/relationships/playlist",
        ),
        ({"track": {"data": None}}, "/data/relationships/track"),
        ({"track": {"data": []}}, "/data/relationships/track"),
    ],
)
def test_a_session_names_exactly_one_track_or_collection(api, relationships, pointer):
    track = ready_track()
    if relationships == "both":
        document = session_document(track=track, collection=track.collection)
    else:
        document = {"data": {"type": "play-sessions", "relationships": relationships}}
    error = the_error(api.post_doc(SESSIONS, document), 422)
    assert error["source"] == {"pointer": pointer}


def test_attributes_are_refused(api):
    document = session_document(track=ready_track(), attributes={"ttl": 10})
    error = the_error(api.post_doc(SESSIONS, document), 422)
    assert error["source"] == {"pointer": "/data/attributes/ttl"}
    assert error["code"] == "unknown_member"


def test_the_wrong_type_is_a_409(api):
    document = session_document(track=ready_track())
    document["data"]["type"] = "collections"
    assert the_error(api.post_doc(SESSIONS, document), 409)["source"] == {"pointer": "/data/type"}


def test_a_relationship_of_the_wrong_type_is_a_409(api):
    collection = make_collection()
    document = {
        "data": {
            "type": "play-sessions",
            "relationships": {"track": {"data": {"type": "collections", "id": str(collection.pk)}}},
        }
    }
    error = the_error(api.post_doc(SESSIONS, document), 409)
    assert error["source"] == {"pointer": "/data/relationships/track"}


@pytest.mark.parametrize("member", ["track", "collection"])
@pytest.mark.parametrize("identifier", ["unknown", "not-a-uuid", "foreign"])
def test_unknown_and_foreign_targets_are_404_at_the_relationship(api, member, identifier):
    foreign_track = ready_track(make_collection(organization=make_organization()))
    ids = {
        "unknown": "6f1c8e0e-2a4b-4c1d-9e8f-0a1b2c3d4e5f",
        "not-a-uuid": "42",
        "foreign": str(foreign_track.pk if member == "track" else foreign_track.collection_id),
    }
    resource_type = "collection-tracks" if member == "track" else "collections"
    document = {
        "data": {
            "type": "play-sessions",
            "relationships": {member: {"data": {"type": resource_type, "id": ids[identifier]}}},
        }
    }
    error = the_error(api.post_doc(SESSIONS, document), 404)
    assert error["code"] == "does_not_exist"
    assert error["source"] == {"pointer": f"/data/relationships/{member}"}


def test_another_organization_gets_404_for_our_track(make_token, tmp_path):
    track = ready_track()
    add_variant(track, tmp_path)
    globex = make_organization(slug="globex")
    user = get_user_model().objects.create_user("globex-user")
    add_member(user, globex, "viewer")
    client = JsonApiClient(make_token(user, "read", organization=globex))
    error = the_error(client.post_doc(SESSIONS, session_document(track=track)), 404)
    assert error["source"] == {"pointer": "/data/relationships/track"}


def test_malformed_documents_are_400_and_other_media_types_415(api):
    assert the_error(api.post_doc(SESSIONS, {"meta": {}}), 400)
    assert the_error(api.post_doc(SESSIONS, "{"), 400)
    response = api.send("POST", SESSIONS, session_document(), content_type="application/json")
    assert the_error(response, 415)


# --- The media URLs ---------------------------------------------------------------------------


def test_the_url_plays_without_a_token(played, player):
    variant, media = played
    response = player.get(path_of(media["url"]))
    assert response.status_code == 200
    content = stored_bytes(variant)
    assert body(response) == content
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Length"] == str(len(content))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == 'inline; filename="Song.mp3"'
    max_age = int(response["Cache-Control"].removeprefix("private, max-age="))
    assert 3590 <= max_age <= 3600
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert "X-Request-ID" in response


def test_the_download_url_is_an_attachment_named_after_the_title(api, tmp_path, player):
    track = ready_track(title='Canción "número" 1')
    add_variant(track, tmp_path, "opus")
    [entry] = start(api, track=track)["attributes"]["tracks"]
    response = player.get(path_of(entry["variants"][0]["download-url"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Cancion _numero_ 1.opus"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == 'Canción "número" 1.opus'


def test_head_answers_the_headers_only(played, player):
    variant, media = played
    response = player.head(path_of(media["url"]), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200  # ranges are for GET only
    assert response.content == b""
    assert response["Content-Length"] == str(variant.file.size)
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", lambda size: (0, 99)),
        ("bytes=100-199", lambda size: (100, 199)),
        ("bytes=-500", lambda size: (size - 500, size - 1)),
        ("bytes=1000-", lambda size: (1000, size - 1)),
        ("bytes=10-99999999999", lambda size: (10, size - 1)),
        ("BYTES=5-5", lambda size: (5, 5)),
        ("bytes=0-0, ", lambda size: (0, 0)),
    ],
)
def test_ranges_are_206_with_content_range(played, player, header, expected):
    variant, media = played
    content = stored_bytes(variant)
    size = len(content)
    first, last = expected(size)
    response = player.get(path_of(media["url"]), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == content[first : last + 1]
    assert response["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=-0", "bytes=99999999-99999999"])
def test_unsatisfiable_ranges_are_416(played, player, header):
    variant, media = played
    response = player.get(path_of(media["url"]), HTTP_RANGE=header)
    assert error_of(response, 416)["code"] == "range_not_satisfiable"
    assert response["Content-Range"] == f"bytes */{variant.file.size}"


@pytest.mark.parametrize(
    "header",
    ["bytes=5-1", "bytes=abc", "items=0-10", "bytes 0-10", "bytes=", "bytes=0-1,5-9", "bytes=--1"],
)
def test_malformed_or_multiple_ranges_are_ignored(played, player, header):
    variant, media = played
    response = player.get(path_of(media["url"]), HTTP_RANGE=header)
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == stored_bytes(variant)


def test_if_none_match_is_304(played, player):
    _, media = played
    etag = player.get(path_of(media["url"]))["ETag"]
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = player.get(path_of(media["url"]), HTTP_IF_NONE_MATCH=value)
        assert response.status_code == 304, value
        assert response.content == b""
        assert response["ETag"] == etag
    response = player.get(path_of(media["url"]), HTTP_IF_NONE_MATCH='"other"')
    assert response.status_code == 200


def test_the_etag_changes_with_the_file(played, player, tmp_path):
    variant, media = played
    etag = player.get(path_of(media["url"]))["ETag"]
    path = write_audio(tmp_path / "new.mp3", "mp3", 3.0)
    with path.open("rb") as file:
        variant.file.save("new.mp3", File(file))
    response = player.get(path_of(media["url"]), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_if_range_keeps_the_range_only_for_the_current_etag(played, player):
    variant, media = played
    etag = player.get(path_of(media["url"]))["ETag"]
    url = path_of(media["url"])
    assert player.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206
    for stale in ('"stale"', f"W/{etag}", "Wed, 25 Nov 2026 10:00:00 GMT"):
        response = player.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=stale)
        assert response.status_code == 200, stale
        assert body(response) == stored_bytes(variant)


def test_an_expired_url_is_403(played, player):
    variant, _ = played
    token = playback.media_token(variant.pk, time.time() - 1)
    assert error_of(player.get(f"/api/v1/media/{token}"), 403)["code"] == "expired"


def test_the_ttl_follows_the_setting(api, tmp_path, settings):
    settings.MEDIA_URL_TTL_SECONDS = 60
    track = ready_track()
    add_variant(track, tmp_path)
    data = start(api, track=track)
    expires = datetime.fromisoformat(data["attributes"]["expires-at"]).timestamp()
    assert expires <= time.time() + 60


@pytest.mark.parametrize("tamper", ["signature", "payload", "upload-token", "garbage"])
def test_a_tampered_url_is_403(played, player, tamper):
    variant, media = played
    token = path_of(media["url"]).rsplit("/", 1)[1]
    if tamper == "signature":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif tamper == "payload":
        # the same signature over another variant's id
        other = playback.media_token("00000000-0000-0000-0000-000000000000", time.time() + 60)
        token = other.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]
    elif tamper == "upload-token":  # signed by us, but for another purpose
        token = signing.dumps({"v": str(variant.pk), "e": int(time.time()) + 60, "d": 0})
    else:
        token = "not-a-token"
    assert error_of(player.get(f"/api/v1/media/{token}"), 403)["code"] == "invalid_signature"


def test_a_deleted_variant_is_404(played, player):
    variant, media = played
    variant.delete()
    assert error_of(player.get(path_of(media["url"])), 404)["code"] == "not_found"


def test_a_variant_no_longer_ready_is_404(played, player):
    variant, media = played
    TrackVariant.objects.filter(pk=variant.pk).update(status=VariantStatus.PROCESSING)
    assert error_of(player.get(path_of(media["url"])), 404)


def test_a_missing_file_is_404(played, player):
    variant, media = played
    variant.file.storage.delete(variant.file.name)
    assert error_of(player.get(path_of(media["url"])), 404)


def test_media_ignores_accept_and_a_bearer_token(played):
    variant, media = played
    client = Client(HTTP_AUTHORIZATION="Bearer not-even-a-token")
    for accept in ("text/html", JSONAPI, "audio/*", "application/vnd.api+json;ext=x", "(("):
        response = client.get(path_of(media["url"]), HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert body(response) == stored_bytes(variant)


def test_other_methods_are_405(played, player):
    _, media = played
    assert error_of(player.post(path_of(media["url"])), 405)


def test_an_object_store_redirects_to_its_own_url(played, player, monkeypatch):
    variant, media = played

    local_path = FileSystemStorage.path

    def no_path(self, name):
        if name == variant.file.name:  # as an S3 storage would say
            raise NotImplementedError("This backend doesn't support absolute paths.")
        return local_path(self, name)

    monkeypatch.setattr(FileSystemStorage, "path", no_path)
    response = player.get(path_of(media["url"]))
    assert response.status_code == 302
    assert response["Location"] == variant.file.storage.url(variant.file.name)
    assert response["Cache-Control"] == "private, no-store"


def test_streaming_reads_in_chunks(played, player, monkeypatch):
    variant, media = played
    monkeypatch.setattr(playback, "CHUNK_SIZE", 1000)
    response = player.get(path_of(media["url"]))
    chunks = list(response.streaming_content)
    assert max(len(chunk) for chunk in chunks) == 1000
    assert b"".join(chunks) == stored_bytes(variant)


def test_media_is_described_as_it_behaves(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    media = paths["/api/v1/media/{token}"]["get"]
    assert set(media["responses"]) == {"200", "206", "302", "304", "403", "404", "416"}
    assert set(media["responses"]["206"]["content"]) == {"audio/*"}
    assert "security" not in media or media["security"] in ([], [{}])
    session = paths["/api/v1/play-sessions"]["post"]
    assert session["security"] == [{"oauth2": ["read"]}]
    assert {"201", "404", "409", "422"} <= set(session["responses"])
