"""AudioDN's collections and collection tracks through HTTP, on PostgreSQL.

``/api/v1/collections`` and ``/api/v1/collection-tracks``: UUID ids, dasherized members,
signed upload targets in the ``meta`` of a create, DELETE answering 200 with the deleted
resource in ``meta.deleted``, AudioDN's offset pagination beside page numbers, and the
organization scope every endpoint applies.
"""

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from collections_app.covers import light_and_dark
from collections_app.models import Collection, CollectionTrack
from tests.assertions import errors_by_pointer, ids, the_error
from tests.client import JsonApiClient
from tests.factories import add_member, make_collection, make_collection_track, make_organization

pytestmark = pytest.mark.django_db

COLLECTIONS = "/api/v1/collections"
TRACKS = "/api/v1/collection-tracks"
BASE = "http://testserver"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"  # a UUID no row has
CREATOR = "6f1c3a52-8d0e-4b7a-9c1e-2f3d4b5a6c7e"
TRACK_SERVER_MEMBERS = {
    "status": "ready",
    "status-reason": "because",
    "duration": 1.5,
    "format": {"codec": "flac"},
    "size": 10,
    "sha256": "0" * 64,
    "levels": {"min": []},
    "files-completed-at": "2024-01-01T00:00:00Z",
    "cover": None,
    "player-color-light": "#FFFFFF",
    "player-color-dark": "#000000",
}


# --- Documents and helpers --------------------------------------------------------------


def collection_doc(**attributes):
    return {"data": {"type": "collections", "attributes": attributes}}


def track_doc(collection=None, **attributes):
    data = {"type": "collection-tracks", "attributes": attributes}
    if collection is not None:
        collection_id = collection if isinstance(collection, str) else str(collection.pk)
        data["relationships"] = {
            "collection": {"data": {"type": "collections", "id": collection_id}}
        }
    return {"data": data}


def patch_doc(resource_type, pk, **attributes):
    return {"data": {"type": resource_type, "id": str(pk), "attributes": attributes}}


def create_track(client, collection, **attributes):
    attributes.setdefault("file-name", "song.mp3")
    response = client.post_doc(TRACKS, track_doc(collection, **attributes))
    assert response.status_code == 201, response.document
    return response


def assert_upload_target(target, method):
    assert set(target) == {"method", "upload-url", "ttl", "expires-at"}
    assert target["method"] == method
    assert target["ttl"] == 3600
    assert target["upload-url"].startswith(f"{BASE}/api/v1/uploads/")
    expires = datetime.fromisoformat(target["expires-at"])
    assert expires.tzinfo is not None
    remaining = (expires - datetime.now(UTC)).total_seconds()
    assert 3590 <= remaining <= 3600


def page_params(link):
    """The query parameters of a pagination link, decoded."""
    return dict(parse_qsl(urlsplit(link).query))


def only_error(response, status, pointer, code):
    """The one error of ``response``, at ``pointer`` with ``code``."""
    error = the_error(response, status)
    assert (error.get("source"), error.get("code")) == ({"pointer": pointer}, code), error
    assert error["detail"]
    return error


def theme(colour):
    """``player-color`` and the light and dark variants the server derives from it."""
    return [colour, *(light_and_dark(colour) if colour else (None, None))]


def counts():
    return Collection.objects.count(), CollectionTrack.objects.count()


def member_with_permissions(username, organization, role):
    user = get_user_model().objects.create_user(username, password="pw")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="collections_app"))
    add_member(user, organization, role)
    return user


def uuids_descending(n):
    """UUIDs that sort in the reverse of the order they are handed out, so that an order
    by id differs from the order of creation."""
    return [uuid.UUID(int=(n - i) << 64 | 0x4000_8000_0000_0000) for i in range(n)]


# --- 1. Collections: create and attributes ----------------------------------------------


def test_create_collection_with_only_a_title_answers_201_location_and_cover_target(api):
    response = api.post_doc(COLLECTIONS, collection_doc(title="Summer"))
    assert response.status_code == 201, response.document
    data = response.document["data"]
    collection = Collection.objects.get()
    assert data["type"] == "collections"
    assert data["id"] == str(collection.pk)
    assert uuid.UUID(data["id"]).version == 4
    assert response["Location"] == f"{BASE}{COLLECTIONS}/{collection.pk}"
    assert data["links"] == {"self": response["Location"]}
    assert list(response.document["meta"]) == ["collection-cover-upload"]
    assert_upload_target(response.document["meta"]["collection-cover-upload"], "POST")
    assert collection.title == "Summer"
    assert collection.organization.slug == "acme"


def test_a_new_collection_has_the_documented_defaults(api):
    attributes = api.post_doc(COLLECTIONS, collection_doc(title="Summer")).document["data"][
        "attributes"
    ]
    created, updated = attributes.pop("createdAt"), attributes.pop("updatedAt")
    assert attributes == {
        "title": "Summer",
        "creator-id": None,
        "organization-index": None,
        "metadata": None,
        "player-title": None,
        "player-subtitle": None,
        "player-color": None,
        "player-color-light": None,
        "player-color-dark": None,
        "is-cover-overridable": True,
        "is-theme-overridable": True,
        "cover": None,
    }
    assert created.endswith("Z") and updated.endswith("Z")
    assert datetime.fromisoformat(created) <= datetime.fromisoformat(updated)


def test_every_writable_collection_attribute_round_trips(api):
    sent = {
        "title": "Winter",
        "creator-id": CREATOR,
        "organization-index": "idx-42",
        "metadata": {"artist": "John Doe", "tags": ["a", "b"], "nested": {"n": 1}},
        "player-title": "Player title",
        "player-subtitle": "Player subtitle",
        "player-color": "#1a2b3c",
        "is-cover-overridable": False,
        "is-theme-overridable": False,
    }
    response = api.post_doc(COLLECTIONS, collection_doc(**sent))
    assert response.status_code == 201, response.document
    created = response.document["data"]
    expected = {
        **sent,
        "player-color": "#1A2B3C",  # normalised to upper case
        "player-color-light": theme("#1A2B3C")[1],
        "player-color-dark": theme("#1A2B3C")[2],
        "cover": None,
    }
    assert {k: created["attributes"][k] for k in expected} == expected
    fetched = api.get(f"{COLLECTIONS}/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.document["data"] == created
    row = Collection.objects.get()
    assert (row.creator_id, row.player_color, row.player_color_is_custom) == (
        uuid.UUID(CREATOR),
        "#1A2B3C",
        True,
    )


def test_clearing_a_collections_player_color_clears_its_light_and_dark_variants(api):
    collection = make_collection()
    url = f"{COLLECTIONS}/{collection.pk}"
    set_ = api.patch_doc(
        url, patch_doc("collections", collection.pk, **{"player-color": "#aabbcc"})
    )
    assert set_.status_code == 200, set_.document
    attributes = set_.document["data"]["attributes"]
    assert [attributes[f"player-color{s}"] for s in ("", "-light", "-dark")] == theme("#AABBCC")
    assert theme("#AABBCC")[1] != theme("#AABBCC")[2] != "#AABBCC"
    cleared = api.patch_doc(url, patch_doc("collections", collection.pk, **{"player-color": None}))
    assert cleared.status_code == 200, cleared.document
    attributes = cleared.document["data"]["attributes"]
    assert [attributes[f"player-color{s}"] for s in ("", "-light", "-dark")] == [None] * 3
    collection.refresh_from_db()
    assert (collection.player_color, collection.player_color_is_custom) == (None, False)


@pytest.mark.parametrize(
    ("attributes", "pointer", "code"),
    [
        ({}, "/data/attributes/title", "required"),
        ({"title": ""}, "/data/attributes/title", "blank"),
        ({"title": "x" * 256}, "/data/attributes/title", "max_length"),
        ({"creator-id": "not-a-uuid"}, "/data/attributes/creator-id", "invalid"),
        ({"creator-id": 12345}, "/data/attributes/creator-id", "invalid_type"),
        ({"player-color": "#12345"}, "/data/attributes/player-color", "colour"),
        ({"metadata": [1, 2]}, "/data/attributes/metadata", "not_an_object"),
        ({"metadata": {"k": "x" * 16377}}, "/data/attributes/metadata", "metadata_too_large"),
        ({"player-color-light": "#FFFFFF"}, "/data/attributes/player-color-light", "read_only"),
        ({"cover": None}, "/data/attributes/cover", "read_only"),
        ({"bogus": 1}, "/data/attributes/bogus", "unknown_member"),
    ],
)
def test_invalid_collection_is_422_at_the_member_and_writes_nothing(api, attributes, pointer, code):
    if pointer != "/data/attributes/title":
        attributes = {"title": "Valid", **attributes}
    response = api.post_doc(COLLECTIONS, collection_doc(**attributes))
    error = only_error(response, 422, pointer, code)
    assert error["title"] == "Unprocessable Entity"
    assert counts() == (0, 0)


def test_collection_errors_are_reported_together_each_at_its_member(api):
    response = api.post_doc(
        COLLECTIONS,
        collection_doc(
            title="   ",
            metadata="text",
            createdAt="2024-01-01T00:00:00Z",
            bogus=1,
            **{
                "creator-id": 7,
                "organization-index": "x" * 256,
                "player-color": "#GG0000",
                "player-subtitle": 5,
                "is-cover-overridable": "yes",
                "player-color-dark": "#000000",
            },
        ),
    )
    errors = errors_by_pointer(response, 422)
    assert {pointer: error["code"] for pointer, error in errors.items()} == {
        "/data/attributes/title": "blank",
        "/data/attributes/metadata": "not_an_object",
        "/data/attributes/createdAt": "read_only",
        "/data/attributes/bogus": "unknown_member",
        "/data/attributes/creator-id": "invalid_type",
        "/data/attributes/organization-index": "max_length",
        "/data/attributes/player-color": "colour",
        "/data/attributes/player-subtitle": "invalid_type",
        "/data/attributes/is-cover-overridable": "invalid_type",
        "/data/attributes/player-color-dark": "read_only",
    }
    assert {error["status"] for error in errors.values()} == {"422"}
    assert counts() == (0, 0)


def test_player_color_is_hash_and_six_hex_digits(api):
    cases = {
        "red": "colour",
        "1a2b3c": "colour",
        "#1A2B3": "colour",
        "#GG0000": "colour",
        "#1a2b3c4": "max_length",
        "": "blank",
    }
    for colour, code in cases.items():
        response = api.post_doc(COLLECTIONS, collection_doc(title="x", **{"player-color": colour}))
        errors = errors_by_pointer(response, 422)
        assert {p: e["code"] for p, e in errors.items()} == {
            "/data/attributes/player-color": code
        }, colour
    assert counts() == (0, 0)


def test_metadata_of_exactly_16_kib_and_a_title_of_255_characters_are_accepted(api):
    metadata = {"k": "x" * (16 * 1024 - len('{"k":""}'))}
    response = api.post_doc(COLLECTIONS, collection_doc(title="t" * 255, metadata=metadata))
    assert response.status_code == 201, response.document
    assert Collection.objects.get().metadata == metadata


def test_the_tracks_relationship_of_a_collection_is_read_only(api):
    document = collection_doc(title="x")
    document["data"]["relationships"] = {"tracks": {"data": []}}
    only_error(api.post_doc(COLLECTIONS, document), 422, "/data/relationships/tracks", "read_only")
    assert counts() == (0, 0)


# --- 1. Collections: read, update, delete -----------------------------------------------


def test_get_collection_and_404_for_unknown_or_malformed_ids(api):
    collection = make_collection(title="Mine", organization_index="i-1")
    response = api.get(f"{COLLECTIONS}/{collection.pk}")
    assert response.status_code == 200
    data = response.document["data"]
    assert (data["id"], data["attributes"]["title"], data["attributes"]["organization-index"]) == (
        str(collection.pk),
        "Mine",
        "i-1",
    )
    assert data["relationships"]["tracks"]["links"] == {
        "self": f"{BASE}{COLLECTIONS}/{collection.pk}/relationships/tracks",
        "related": f"{BASE}{COLLECTIONS}/{collection.pk}/tracks",
    }
    for pk in (UNKNOWN_ID, "not-a-uuid"):
        error = the_error(api.get(f"{COLLECTIONS}/{pk}"), 404)
        assert error["code"] == "not_found"


def test_list_collections_answers_every_row_with_page_meta(api):
    made = [make_collection(title=f"C{i}") for i in range(3)]
    response = api.get(COLLECTIONS)
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(str(c.pk) for c in made)
    assert response.document["meta"] == {
        "page": {"currentPage": 1, "from": 1, "lastPage": 1, "perPage": 50, "to": 3, "total": 3}
    }


def test_patch_collection_changes_only_the_members_sent(api):
    collection = make_collection(title="Old", player_title="Keep", metadata={"a": 1})
    response = api.patch_doc(
        f"{COLLECTIONS}/{collection.pk}",
        patch_doc(
            "collections",
            collection.pk,
            title="New",
            metadata={"b": 2},
            **{"creator-id": CREATOR, "is-cover-overridable": False},
        ),
    )
    assert response.status_code == 200, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["title"], attributes["player-title"], attributes["metadata"]) == (
        "New",
        "Keep",
        {"b": 2},
    )
    collection.refresh_from_db()
    assert (collection.title, collection.creator_id, collection.is_cover_overridable) == (
        "New",
        uuid.UUID(CREATOR),
        False,
    )


def test_invalid_collection_patches_are_422_and_change_nothing(api):
    collection = make_collection(title="Old")
    url = f"{COLLECTIONS}/{collection.pk}"
    cases = [
        ({"player-color-dark": "#000000"}, "/data/attributes/player-color-dark", "read_only"),
        ({"cover": None}, "/data/attributes/cover", "read_only"),
        ({"title": ""}, "/data/attributes/title", "blank"),
        ({"title": None}, "/data/attributes/title", "null"),
        ({"metadata": [1]}, "/data/attributes/metadata", "not_an_object"),
    ]
    for attributes, pointer, code in cases:
        response = api.patch_doc(
            url, patch_doc("collections", collection.pk, **{"player-title": "P", **attributes})
        )
        errors = errors_by_pointer(response, 422)
        assert {p: e["code"] for p, e in errors.items()} == {pointer: code}, attributes
    collection.refresh_from_db()
    assert (collection.title, collection.metadata, collection.player_title) == ("Old", None, None)


def test_delete_an_empty_collection_answers_200_with_it_then_404(api):
    collection = make_collection(title="Gone")
    before = api.get(f"{COLLECTIONS}/{collection.pk}").document["data"]
    response = api.delete(f"{COLLECTIONS}/{collection.pk}")
    assert response.status_code == 200, response.document
    assert response.document["meta"] == {"deleted": before}
    assert "data" not in response.document
    assert counts() == (0, 0)
    the_error(api.get(f"{COLLECTIONS}/{collection.pk}"), 404)
    the_error(api.delete(f"{COLLECTIONS}/{collection.pk}"), 404)


def test_a_collections_tracks_endpoint_lists_its_tracks_only(api):
    collection, other = make_collection(), make_collection()
    mine = [make_collection_track(collection=collection) for _ in range(3)]
    make_collection_track(collection=other)
    response = api.get(f"{COLLECTIONS}/{collection.pk}/tracks")
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(str(t.pk) for t in mine)
    assert {r["type"] for r in response.document["data"]} == {"collection-tracks"}
    assert response.document["meta"]["page"]["total"] == 3
    linkage = api.get(f"{COLLECTIONS}/{collection.pk}/relationships/tracks").document["data"]
    assert sorted(i["id"] for i in linkage) == sorted(str(t.pk) for t in mine)
    the_error(api.get(f"{COLLECTIONS}/{UNKNOWN_ID}/tracks"), 404)


def test_a_collections_tracks_endpoint_takes_offset_pages(api):
    collection = make_collection()
    mine = {str(make_collection_track(collection=collection).pk) for _ in range(5)}
    url = f"{COLLECTIONS}/{collection.pk}/tracks"
    pages = [api.get(url, {"page[offset]": offset, "page[limit]": 2}) for offset in (0, 2, 4)]
    seen = [pk for page in pages for pk in ids(page)]
    assert sorted(seen) == sorted(mine)  # every track once: the order is stable
    assert [page.document["meta"]["page"] for page in pages] == [
        {"offset": offset, "limit": 2, "total": 5} for offset in (0, 2, 4)
    ]


def test_a_collections_tracks_endpoint_lists_tracks_in_creation_order(api):
    collection = make_collection()
    made = [make_collection_track(collection=collection, id=pk) for pk in uuids_descending(3)]
    response = api.get(f"{COLLECTIONS}/{collection.pk}/tracks")
    assert ids(response) == [str(t.pk) for t in made]


def test_upload_targets_of_a_collection_reissue_its_cover_target(api):
    collection = make_collection()
    first = api.post_doc(f"{COLLECTIONS}/{collection.pk}/upload-targets", "")
    second = api.post_doc(f"{COLLECTIONS}/{collection.pk}/upload-targets", "")
    for response in (first, second):
        assert response.status_code == 200, response.document
        assert list(response.document["meta"]) == ["collection-cover-upload"]
        assert_upload_target(response.document["meta"]["collection-cover-upload"], "POST")
    urls = [r.document["meta"]["collection-cover-upload"]["upload-url"] for r in (first, second)]
    assert urls[0] != urls[1]


# --- 2. Collection tracks: create -------------------------------------------------------


def test_create_track_answers_201_initialized_with_both_upload_targets(api):
    collection = make_collection()
    response = create_track(api, collection, **{"file-name": "my-audio-track.mp3"})
    data = response.document["data"]
    track = CollectionTrack.objects.get()
    assert data["id"] == str(track.pk)
    assert response["Location"] == f"{BASE}{TRACKS}/{track.pk}"
    attributes = data["attributes"]
    assert attributes["status"] == "initialized"
    assert attributes["title"] == "my-audio-track"
    assert attributes["file-name"] == "my-audio-track.mp3"
    for member in ("status-reason", "duration", "format", "size", "sha256", "levels"):
        assert attributes[member] is None, member
    assert attributes["files-completed-at"] is None and attributes["cover"] is None
    assert data["relationships"]["collection"]["data"] == {
        "type": "collections",
        "id": str(collection.pk),
    }
    meta = response.document["meta"]
    assert list(meta) == ["track-upload", "track-cover-upload"]
    assert_upload_target(meta["track-upload"], "PUT")
    assert_upload_target(meta["track-cover-upload"], "POST")
    assert meta["track-upload"]["upload-url"] != meta["track-cover-upload"]["upload-url"]
    assert (track.status, track.collection_id) == ("initialized", collection.pk)


def test_every_writable_track_attribute_round_trips(api):
    collection = make_collection()
    sent = {
        "file-name": "a.flac",
        "title": "Explicit title",
        "creator-id": CREATOR,
        "organization-index": "ix",
        "metadata": {"artist": "John Doe", "album": "My Album"},
        "player-title": "PT",
        "player-subtitle": "PS",
        "player-color": "#00ff7f",
        "is-cover-overridable": False,
        "is-theme-overridable": False,
    }
    created = create_track(api, collection, **sent).document["data"]
    colour, light, dark = theme("#00FF7F")
    expected = {
        **sent,
        "player-color": colour,
        "player-color-light": light,
        "player-color-dark": dark,
        "cover": None,
    }
    assert {k: created["attributes"][k] for k in expected} == expected
    assert api.get(f"{TRACKS}/{created['id']}").document["data"] == created


def test_a_tracks_title_defaults_to_its_file_name_without_extension(api):
    collection = make_collection()
    cases = {
        "song.mp3": "song",
        "archive.tar.gz": "archive.tar",
        "no-extension": "no-extension",
        ".hidden": ".hidden",
    }
    for file_name, title in cases.items():
        response = create_track(api, collection, **{"file-name": file_name})
        assert response.document["data"]["attributes"]["title"] == title, file_name
    titles = dict(CollectionTrack.objects.values_list("file_name", "title"))
    assert titles == cases


def test_an_empty_title_on_create_also_takes_the_file_name(api):
    response = create_track(api, make_collection(), title="", **{"file-name": "z.wav"})
    assert response.document["data"]["attributes"]["title"] == "z"


def test_a_track_without_collection_and_file_name_is_422_at_both(api):
    response = api.post_doc(TRACKS, track_doc(title="Only a title"))
    errors = errors_by_pointer(response, 422)
    assert {pointer: error["code"] for pointer, error in errors.items()} == {
        "/data/attributes/file-name": "required",
        "/data/relationships/collection": "required",
    }
    assert errors["/data/attributes/file-name"]["detail"] == "The file-name field is required."
    assert counts() == (0, 0)


def test_an_invalid_file_name_is_422(api):
    collection = make_collection()
    cases = [
        ("", "blank"),
        ("dir/song.mp3", "invalid_filename"),
        ("..", "invalid_filename"),
        ("x" * 200 + "é" * 30, "invalid_filename"),  # 260 bytes in UTF-8
        (3, "invalid_type"),
        (None, "null"),
    ]
    for file_name, code in cases:
        response = api.post_doc(TRACKS, track_doc(collection, **{"file-name": file_name}))
        errors = errors_by_pointer(response, 422)
        assert {p: e["code"] for p, e in errors.items()} == {"/data/attributes/file-name": code}, (
            file_name
        )
    assert CollectionTrack.objects.count() == 0


def test_server_members_are_refused_on_create_each_at_its_member(api):
    collection = make_collection()
    document = track_doc(collection, **{"file-name": "a.wav", **TRACK_SERVER_MEMBERS})
    errors = errors_by_pointer(api.post_doc(TRACKS, document), 422)
    assert {pointer: error["code"] for pointer, error in errors.items()} == {
        f"/data/attributes/{member}": "read_only" for member in TRACK_SERVER_MEMBERS
    }
    assert errors["/data/attributes/status"]["detail"] == "'status' is read-only."
    assert CollectionTrack.objects.count() == 0


def test_a_collection_that_does_not_exist_is_404_at_the_relationship(api):
    response = api.post_doc(TRACKS, track_doc(UNKNOWN_ID, **{"file-name": "a.wav"}))
    error = only_error(response, 404, "/data/relationships/collection", "does_not_exist")
    assert error["detail"] == f"There is no collections resource with id '{UNKNOWN_ID}'."
    assert CollectionTrack.objects.count() == 0


def test_another_organizations_collection_is_refused_like_an_unknown_one(api):
    foreign = make_collection(organization=make_organization())
    response = api.post_doc(TRACKS, track_doc(foreign, **{"file-name": "a.wav"}))
    unknown = api.post_doc(TRACKS, track_doc(UNKNOWN_ID, **{"file-name": "a.wav"}))
    error = only_error(response, 404, "/data/relationships/collection", "does_not_exist")
    unknown_error = only_error(unknown, 404, "/data/relationships/collection", "does_not_exist")
    assert error["detail"].replace(str(foreign.pk), "<id>") == unknown_error["detail"].replace(
        UNKNOWN_ID, "<id>"
    )
    assert CollectionTrack.objects.count() == 0


def test_moving_a_track_to_another_organizations_collection_is_refused(api):
    track = make_collection_track()
    foreign = make_collection(organization=make_organization())
    document = {
        "data": {
            "type": "collection-tracks",
            "id": str(track.pk),
            "relationships": {
                "collection": {"data": {"type": "collections", "id": str(foreign.pk)}}
            },
        }
    }
    response = api.patch_doc(f"{TRACKS}/{track.pk}", document)
    only_error(response, 404, "/data/relationships/collection", "does_not_exist")
    track.refresh_from_db()
    assert track.collection.organization.slug == "acme"


def test_a_collection_relationship_of_the_wrong_type_is_409(api):
    document = track_doc(make_collection(), **{"file-name": "a.wav"})
    document["data"]["relationships"]["collection"]["data"]["type"] = "products"
    only_error(
        api.post_doc(TRACKS, document), 409, "/data/relationships/collection", "type_conflict"
    )
    assert CollectionTrack.objects.count() == 0


# --- 2. Collection tracks: theme --------------------------------------------------------


def test_a_track_cannot_set_its_colour_when_its_collection_forbids_it(api):
    """A conflict with the collection's state: 409 state_conflict at the member."""
    locked = make_collection(is_theme_overridable=False)
    document = track_doc(locked, **{"file-name": "a.wav", "player-color": "#112233"})
    error = only_error(
        api.post_doc(TRACKS, document), 409, "/data/attributes/player-color", "state_conflict"
    )
    assert error["detail"] == "This track's collection does not let tracks set their theme."
    assert CollectionTrack.objects.count() == 0
    track = make_collection_track(collection=locked)
    response = api.patch_doc(
        f"{TRACKS}/{track.pk}",
        patch_doc("collection-tracks", track.pk, **{"player-color": "#112233"}),
    )
    only_error(response, 409, "/data/attributes/player-color", "state_conflict")
    track.refresh_from_db()
    assert (track.player_color, track.player_color_is_custom) == (None, False)
    # Without a colour of its own a track is welcome.
    create_track(api, locked, **{"file-name": "b.wav", "player-color": None})


def test_a_track_can_set_its_colour_and_hand_it_back(api):
    track = make_collection_track()
    url = f"{TRACKS}/{track.pk}"

    def colours(response):
        assert response.status_code == 200, response.document
        attributes = response.document["data"]["attributes"]
        return [attributes[f"player-color{s}"] for s in ("", "-light", "-dark")]

    chosen = api.patch_doc(
        url, patch_doc("collection-tracks", track.pk, **{"player-color": "#aabbcc"})
    )
    assert colours(chosen) == theme("#AABBCC")
    cleared = api.patch_doc(url, patch_doc("collection-tracks", track.pk, **{"player-color": None}))
    assert colours(cleared) == [None, None, None]
    track.refresh_from_db()
    assert (track.player_color, track.player_color_is_custom) == (None, False)


def test_clearing_a_tracks_colour_gives_it_back_to_its_covers_colour(api):
    track = make_collection_track()
    track.image_color = "#336699"  # as a processed cover leaves it
    track.save()
    url = f"{TRACKS}/{track.pk}"
    members = ("player-color", "player-color-light", "player-color-dark")

    def colours(response):
        assert response.status_code == 200, response.document
        return [response.document["data"]["attributes"][member] for member in members]

    assert colours(api.get(url)) == theme("#336699")
    chosen = api.patch_doc(
        url, patch_doc("collection-tracks", track.pk, **{"player-color": "#FF0000"})
    )
    assert colours(chosen) == theme("#FF0000")
    cleared = api.patch_doc(url, patch_doc("collection-tracks", track.pk, **{"player-color": None}))
    assert colours(cleared) == theme("#336699")
    track.refresh_from_db()
    assert (track.player_color, track.player_color_is_custom) == ("#336699", False)


def test_a_track_can_give_back_its_colour_after_its_collection_is_locked(api):
    track = make_collection_track(player_color="#123456", player_color_is_custom=True)
    Collection.objects.filter(pk=track.collection_id).update(is_theme_overridable=False)
    url = f"{TRACKS}/{track.pk}"
    response = api.patch_doc(
        url, patch_doc("collection-tracks", track.pk, **{"player-color": None})
    )
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"]["player-color"] is None


# --- 2. Collection tracks: update -------------------------------------------------------


def test_patch_track_sets_its_title(api):
    track = make_collection_track(file_name="take-1.wav")
    response = api.patch_doc(
        f"{TRACKS}/{track.pk}", patch_doc("collection-tracks", track.pk, title="Final")
    )
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"]["title"] == "Final"
    assert response.document["data"]["attributes"]["file-name"] == "take-1.wav"
    track.refresh_from_db()
    assert track.title == "Final"


def test_patch_track_with_an_empty_title_gives_back_the_file_names(api):
    track = make_collection_track(file_name="take-1.wav", title="Something")
    response = api.patch_doc(
        f"{TRACKS}/{track.pk}", patch_doc("collection-tracks", track.pk, title="")
    )
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"]["title"] == "take-1"


def test_file_name_cannot_be_changed(api):
    track = make_collection_track(file_name="take-1.wav")
    response = api.patch_doc(
        f"{TRACKS}/{track.pk}", patch_doc("collection-tracks", track.pk, **{"file-name": "x.wav"})
    )
    error = only_error(response, 422, "/data/attributes/file-name", "read_only")
    assert error["detail"] == "'file-name' is set when the resource is created."
    track.refresh_from_db()
    assert track.file_name == "take-1.wav"


def test_server_members_are_refused_on_update_and_nothing_changes(api):
    track = make_collection_track(title="Kept")
    url = f"{TRACKS}/{track.pk}"
    document = patch_doc("collection-tracks", track.pk, title="New", **TRACK_SERVER_MEMBERS)
    errors = errors_by_pointer(api.patch_doc(url, document), 422)
    assert {pointer: error["code"] for pointer, error in errors.items()} == {
        f"/data/attributes/{member}": "read_only" for member in TRACK_SERVER_MEMBERS
    }
    for member in ("size", "levels"):
        response = api.patch_doc(url, patch_doc("collection-tracks", track.pk, **{member: None}))
        only_error(response, 422, f"/data/attributes/{member}", "read_only")
    track.refresh_from_db()
    assert (track.title, track.status, track.size, track.levels) == (
        "Kept",
        "initialized",
        None,
        None,
    )


def test_patch_an_unknown_track_is_404(api):
    response = api.patch_doc(
        f"{TRACKS}/{UNKNOWN_ID}", patch_doc("collection-tracks", UNKNOWN_ID, title="x")
    )
    assert the_error(response, 404)["code"] == "not_found"


# --- 2. Collection tracks: upload targets -----------------------------------------------


def test_upload_targets_reissue_both_targets_with_fresh_urls(api):
    created = create_track(api, make_collection())
    track_id = created.document["data"]["id"]
    response = api.post_doc(f"{TRACKS}/{track_id}/upload-targets", "")
    assert response.status_code == 200, response.document
    meta = response.document["meta"]
    assert set(response.document) == {"jsonapi", "meta"}
    assert list(meta) == ["track-upload", "track-cover-upload"]
    assert_upload_target(meta["track-upload"], "PUT")
    assert_upload_target(meta["track-cover-upload"], "POST")
    for name in meta:
        assert meta[name]["upload-url"] != created.document["meta"][name]["upload-url"]


def test_upload_targets_of_an_unknown_track_are_404(api):
    for pk in (UNKNOWN_ID, "not-a-uuid"):
        response = api.post_doc(f"{TRACKS}/{pk}/upload-targets", "")
        assert the_error(response, 404)["code"] == "not_found"


def test_upload_targets_need_a_write_token(admin_user, make_token):
    track = make_collection_track()
    reader = JsonApiClient(make_token(admin_user, "read"))
    response = reader.post_doc(f"{TRACKS}/{track.pk}/upload-targets", "")
    assert the_error(response, 403)["code"] == "permission_denied"


# --- 3. Lists: pages by number ----------------------------------------------------------


@pytest.fixture
def sixty_tracks():
    """60 tracks of one collection, created one after another."""
    collection = make_collection()
    return CollectionTrack.objects.bulk_create(
        CollectionTrack(collection=collection, file_name=f"t{i:02}.wav", title=f"t{i:02}")
        for i in range(60)
    )


def test_default_page_is_50_rows_with_page_meta_and_links(api, sixty_tracks):
    response = api.get(TRACKS)
    assert response.status_code == 200
    assert len(response.document["data"]) == 50
    assert response.document["meta"]["page"] == {
        "currentPage": 1,
        "from": 1,
        "lastPage": 2,
        "perPage": 50,
        "to": 50,
        "total": 60,
    }
    links = response.document["links"]
    assert set(links) == {"self", "first", "last", "next"}
    assert page_params(links["next"]) == {"page[number]": "2", "page[size]": "50"}
    assert page_params(links["last"]) == {"page[number]": "2", "page[size]": "50"}


def test_page_number_and_size(api, sixty_tracks):
    every = ids(api.get(TRACKS, {"page[size]": 200}))
    assert len(every) == 60
    response = api.get(TRACKS, {"page[number]": 2, "page[size]": 25})
    assert ids(response) == every[25:50]
    assert response.document["meta"]["page"] == {
        "currentPage": 2,
        "from": 26,
        "lastPage": 3,
        "perPage": 25,
        "to": 50,
        "total": 60,
    }
    links = response.document["links"]
    assert page_params(links["prev"]) == {"page[number]": "1", "page[size]": "25"}
    assert page_params(links["next"]) == {"page[number]": "3", "page[size]": "25"}


def test_page_size_above_200_is_400(api):
    error = the_error(api.get(TRACKS, {"page[size]": 201}), 400)
    assert error["source"] == {"parameter": "page[size]"}
    assert error["detail"] == "page[size] may be at most 200."


# --- 3. Lists: AudioDN's offset and limit -----------------------------------------------


def test_offset_and_limit_answer_the_rows_with_offset_meta_and_links(api, sixty_tracks):
    every = ids(api.get(TRACKS, {"page[size]": 200}))
    response = api.get(TRACKS, {"page[offset]": 10, "page[limit]": 20})
    assert response.status_code == 200
    assert ids(response) == every[10:30]
    assert response.document["meta"] == {"page": {"offset": 10, "limit": 20, "total": 60}}
    links = {name: page_params(link) for name, link in response.document["links"].items()}
    assert links == {
        "self": {"page[offset]": "10", "page[limit]": "20"},
        "first": {"page[offset]": "0", "page[limit]": "20"},
        "last": {"page[offset]": "40", "page[limit]": "20"},
        "prev": {"page[offset]": "0", "page[limit]": "20"},
        "next": {"page[offset]": "30", "page[limit]": "20"},
    }


def test_offset_pages_keep_the_filters_in_their_links(api):
    collection = make_collection()
    for _ in range(3):
        make_collection_track(collection=collection)
    make_collection_track()
    response = api.get(
        TRACKS, {"filter[collection-id]": str(collection.pk), "page[offset]": 0, "page[limit]": 2}
    )
    assert response.document["meta"]["page"] == {"offset": 0, "limit": 2, "total": 3}
    assert page_params(response.document["links"]["next"]) == {
        "filter[collection-id]": str(collection.pk),
        "page[offset]": "2",
        "page[limit]": "2",
    }
    assert "prev" not in response.document["links"]


def test_limit_defaults_to_50_and_offset_to_0(api, sixty_tracks):
    by_offset = api.get(TRACKS, {"page[offset]": 0})
    assert by_offset.document["meta"]["page"] == {"offset": 0, "limit": 50, "total": 60}
    assert len(by_offset.document["data"]) == 50
    by_limit = api.get(TRACKS, {"page[limit]": 7})
    assert by_limit.document["meta"]["page"] == {"offset": 0, "limit": 7, "total": 60}
    assert len(by_limit.document["data"]) == 7


def test_the_last_offset_page_has_no_next_link(api, sixty_tracks):
    response = api.get(TRACKS, {"page[offset]": 40, "page[limit]": 200})
    assert len(response.document["data"]) == 20
    assert "next" not in response.document["links"]
    assert page_params(response.document["links"]["prev"])["page[offset]"] == "0"


def test_an_offset_past_the_end_is_an_empty_page_with_the_total(api):
    make_collection_track()
    make_collection_track()
    response = api.get(TRACKS, {"page[offset]": 10, "page[limit]": 5})
    assert response.status_code == 200
    assert response.document["data"] == []
    assert response.document["meta"] == {"page": {"offset": 10, "limit": 5, "total": 2}}
    assert page_params(response.document["links"]["last"])["page[offset]"] == "0"
    assert "next" not in response.document["links"]


def test_mixing_offset_and_number_styles_is_400(api):
    error = the_error(api.get(TRACKS, {"page[offset]": 0, "page[number]": 1}), 400)
    assert error["source"] == {"parameter": "page[offset]"}
    assert error["code"] == "invalid_parameter"
    assert error["detail"] == "Use page[offset]/page[limit] or page[number]/page[size], not both."


def test_mixing_styles_names_a_parameter_the_request_sent(api):
    error = the_error(api.get(TRACKS, {"page[limit]": 5, "page[size]": 5}), 400)
    assert error["source"]["parameter"] in {"page[limit]", "page[size]"}


def test_invalid_offset_or_limit_is_400_naming_it(api):
    make_collection_track()
    cases = [
        ("page[limit]", "0", "page[limit] must be a positive integer."),
        ("page[limit]", "201", "page[limit] may be at most 200."),
        ("page[limit]", "-1", "page[limit] must be a positive integer."),
        ("page[limit]", "x", "page[limit] must be a positive integer."),
        ("page[limit]", "1.5", "page[limit] must be a positive integer."),
        ("page[offset]", "-1", "page[offset] must be a non-negative integer."),
        ("page[offset]", "x", "page[offset] must be a non-negative integer."),
    ]
    for parameter, value, detail in cases:
        error = the_error(api.get(TRACKS, {parameter: value}), 400)
        assert error["source"] == {"parameter": parameter}, value
        assert (error["code"], error["detail"]) == ("invalid_parameter", detail), value


def test_limit_200_is_accepted_on_collections_too(api):
    make_collection()
    response = api.get(COLLECTIONS, {"page[limit]": 200})
    assert response.document["meta"] == {"page": {"offset": 0, "limit": 200, "total": 1}}


# --- 3. Lists: filters ------------------------------------------------------------------


@pytest.fixture
def two_tracks():
    """A wanted track and an unwanted one, different in every filtered member."""
    wanted = make_collection_track(
        file_name="wanted.wav",
        title="Wanted",
        creator_id=uuid.UUID(CREATOR),
        organization_index="w-1",
    )
    other = make_collection_track(
        file_name="other.wav", title="Other", creator_id=uuid.uuid4(), organization_index="o-1"
    )
    CollectionTrack.objects.filter(pk=other.pk).update(status="ready")
    return wanted, other


def test_track_filters_find_the_wanted_track_only(api, two_tracks):
    wanted, _ = two_tracks
    filters = {
        "collection-id": str(wanted.collection_id),
        "creator-id": CREATOR,
        "organization-index": "w-1",
        "status": "initialized",
        "file-name": "wanted.wav",
        "id": str(wanted.pk),
        "title": "Wanted",
        "title.icontains": "ANTE",
    }
    for name, value in filters.items():
        response = api.get(TRACKS, {f"filter[{name}]": value})
        assert response.status_code == 200, response.document
        assert ids(response) == [str(wanted.pk)], name
        assert response.document["meta"]["page"]["total"] == 1, name
    both = api.get(TRACKS, {"filter[creator-id]": CREATOR, "filter[status]": "ready"})
    assert ids(both) == []  # filters combine


def test_filter_status_finds_tracks_by_their_status(api, two_tracks):
    _, other = two_tracks
    assert ids(api.get(TRACKS, {"filter[status]": "ready"})) == [str(other.pk)]
    assert ids(api.get(TRACKS, {"filter[status]": "error"})) == []


def test_filter_id_takes_a_comma_separated_list(api, two_tracks):
    wanted, other = two_tracks
    make_collection_track()
    response = api.get(TRACKS, {"filter[id]": f"{wanted.pk},{other.pk},{UNKNOWN_ID}"})
    assert sorted(ids(response)) == sorted([str(wanted.pk), str(other.pk)])


def test_collection_filters_find_the_wanted_collection_only(api):
    wanted = make_collection(
        title="Wanted", creator_id=uuid.UUID(CREATOR), organization_index="w-1"
    )
    make_collection(title="Other", creator_id=uuid.uuid4(), organization_index="o-1")
    filters = {
        "creator-id": CREATOR,
        "organization-index": "w-1",
        "id": f"{wanted.pk},{UNKNOWN_ID}",
        "title": "Wanted",
    }
    for name, value in filters.items():
        response = api.get(COLLECTIONS, {f"filter[{name}]": value})
        assert response.status_code == 200, response.document
        assert ids(response) == [str(wanted.pk)], name


def test_an_invalid_filter_value_is_400_naming_the_filter(api):
    cases = [
        (TRACKS, "collection-id", "not-a-uuid"),
        (TRACKS, "creator-id", "12345"),
        (TRACKS, "status", "done"),
        (TRACKS, "id", f"{UNKNOWN_ID},nope"),
        (COLLECTIONS, "id", "1"),
        (COLLECTIONS, "creator-id", "nope"),
    ]
    for path, name, value in cases:
        error = the_error(api.get(path, {f"filter[{name}]": value}), 400)
        assert error["source"] == {"parameter": f"filter[{name}]"}, (path, name)
        assert error["code"] == "invalid_parameter", (path, name)


def test_unknown_or_empty_filters_are_400_naming_them(api):
    cases = [
        (TRACKS, "file-name", ""),
        (TRACKS, "id", f"{UNKNOWN_ID},"),
        (TRACKS, "player-color", "#FFFFFF"),
        (TRACKS, "collection_id", UNKNOWN_ID),
        (COLLECTIONS, "status", "ready"),
        (COLLECTIONS, "collection-id", UNKNOWN_ID),
    ]
    for path, name, value in cases:
        error = the_error(api.get(path, {f"filter[{name}]": value}), 400)
        assert error["source"] == {"parameter": f"filter[{name}]"}, (path, name)


# --- 3. Lists: sorting and order --------------------------------------------------------


def test_collections_sort_by_creation_and_title(api):
    made = [make_collection(title=title) for title in ("B", "C", "A", "B")]
    orders = {
        "createdAt": [0, 1, 2, 3],
        "-createdAt": [3, 2, 1, 0],
        "title,createdAt": [2, 0, 3, 1],
        "title,-createdAt": [2, 3, 0, 1],
        "-title,createdAt": [1, 0, 3, 2],
    }
    for sort, order in orders.items():
        assert ids(api.get(COLLECTIONS, {"sort": sort})) == [str(made[i].pk) for i in order], sort


def test_tracks_sort_by_title_then_id_on_ties(api):
    collection = make_collection()
    tracks = [make_collection_track(collection=collection, title=t) for t in ("b", "a", "b", "a")]
    response = api.get(TRACKS, {"sort": "title"})
    expected = sorted(tracks, key=lambda t: (t.title, str(t.pk)))
    assert ids(response) == [str(t.pk) for t in expected]
    assert ids(api.get(TRACKS, {"sort": "-createdAt"})) == [str(t.pk) for t in reversed(tracks)]


def test_sorting_by_another_member_is_400(api):
    error = the_error(api.get(TRACKS, {"sort": "status"}), 400)
    assert error["source"] == {"parameter": "sort"}
    assert error["detail"] == "Cannot sort by 'status' (allowed: createdAt, title)."


@pytest.mark.parametrize("path", [COLLECTIONS, TRACKS])
def test_lists_without_sort_are_in_creation_order(api, path):
    collection = make_collection(id=uuid.UUID(int=1 << 100))
    if path == COLLECTIONS:
        made = [collection] + [make_collection(id=pk) for pk in uuids_descending(3)]
    else:
        made = [make_collection_track(collection=collection, id=pk) for pk in uuids_descending(4)]
    assert ids(api.get(path)) == [str(row.pk) for row in made]


def test_lists_without_sort_are_in_a_stable_order(api, sixty_tracks):
    first = ids(api.get(TRACKS, {"page[size]": 200}))
    pages = [ids(api.get(TRACKS, {"page[offset]": o, "page[limit]": 25})) for o in (0, 25, 50)]
    assert [pk for page in pages for pk in page] == first
    assert len(set(first)) == 60


# --- 4. Deleting ------------------------------------------------------------------------


def test_delete_track_answers_200_with_the_track_as_it_was_then_404(api):
    track = make_collection_track(title="Bye", metadata={"k": "v"})
    url = f"{TRACKS}/{track.pk}"
    before = api.get(url).document["data"]
    response = api.delete(url)
    assert response.status_code == 200, response.document
    assert response.document["meta"] == {"deleted": before}
    deleted = response.document["meta"]["deleted"]
    assert (deleted["type"], deleted["id"]) == ("collection-tracks", str(track.pk))
    assert deleted["attributes"]["title"] == "Bye"
    assert counts() == (1, 0)
    the_error(api.get(url), 404)
    the_error(api.delete(url), 404)


@pytest.mark.parametrize("query", ["", "?cascade=false"])
def test_delete_a_collection_with_tracks_is_409_and_deletes_nothing(api, query):
    collection = make_collection()
    make_collection_track(collection=collection)
    make_collection_track(collection=collection)
    error = the_error(api.delete(f"{COLLECTIONS}/{collection.pk}{query}"), 409)
    assert error["code"] == "in_use"
    assert error["detail"] == (
        "This collection cannot be deleted while 2 collection tracks still refer to it."
    )
    assert counts() == (1, 2)


def test_delete_with_cascade_deletes_the_collection_and_its_tracks_only(api):
    collection, other = make_collection(title="Doomed"), make_collection()
    for _ in range(3):
        make_collection_track(collection=collection)
    kept = make_collection_track(collection=other)
    before = api.get(f"{COLLECTIONS}/{collection.pk}").document["data"]
    response = api.delete(f"{COLLECTIONS}/{collection.pk}?cascade=true")
    assert response.status_code == 200, response.document
    assert response.document["meta"] == {"deleted": before}
    assert list(Collection.objects.values_list("pk", flat=True)) == [other.pk]
    assert list(CollectionTrack.objects.values_list("pk", flat=True)) == [kept.pk]
    the_error(api.get(f"{COLLECTIONS}/{collection.pk}"), 404)


def test_cascade_false_deletes_an_empty_collection(api):
    collection = make_collection()
    response = api.delete(f"{COLLECTIONS}/{collection.pk}?cascade=false")
    assert response.status_code == 200, response.document
    assert response.document["meta"]["deleted"]["id"] == str(collection.pk)
    assert counts() == (0, 0)


def test_cascade_is_true_or_false_only(api):
    collection = make_collection()
    make_collection_track(collection=collection)
    for value in ("maybe", "", "TRUE", "1"):
        error = the_error(api.delete(f"{COLLECTIONS}/{collection.pk}?cascade={value}"), 400)
        assert error["source"] == {"parameter": "cascade"}, value
        assert error["detail"] == "cascade is true or false.", value
    assert counts() == (1, 1)


def test_cascade_is_refused_by_every_other_endpoint(api):
    track = make_collection_track(title="Kept")
    collection = f"{COLLECTIONS}/{track.collection_id}"
    requests = {
        "list collections": lambda q: api.get(f"{COLLECTIONS}{q}"),
        "get collection": lambda q: api.get(f"{collection}{q}"),
        "collection's tracks": lambda q: api.get(f"{collection}/tracks{q}"),
        "list tracks": lambda q: api.get(f"{TRACKS}{q}"),
        "delete track": lambda q: api.delete(f"{TRACKS}/{track.pk}{q}"),
        "patch collection": lambda q: api.patch_doc(
            f"{collection}{q}", patch_doc("collections", track.collection_id, title="New")
        ),
        "patch track": lambda q: api.patch_doc(
            f"{TRACKS}/{track.pk}{q}", patch_doc("collection-tracks", track.pk, title="New")
        ),
    }
    for name, send in requests.items():
        error = the_error(send("?cascade=true"), 400)
        assert error["source"] == {"parameter": "cascade"}, name
        assert error["detail"] == "The parameter 'cascade' is not supported here.", name
    assert counts() == (1, 1)
    track.refresh_from_db()
    assert track.title == "Kept"
    assert Collection.objects.get().title != "New"


# --- 5. Organizations and roles ---------------------------------------------------------


@pytest.fixture
def viewer_client(viewer, make_token):
    return JsonApiClient(make_token(viewer, "read write"))


def test_a_viewer_reads_collections_and_tracks(viewer_client):
    track = make_collection_track()
    assert ids(viewer_client.get(COLLECTIONS)) == [str(track.collection_id)]
    assert ids(viewer_client.get(TRACKS)) == [str(track.pk)]
    assert viewer_client.get(f"{TRACKS}/{track.pk}").status_code == 200
    assert viewer_client.get(f"{COLLECTIONS}/{track.collection_id}/tracks").status_code == 200


def writes(track):
    """Every kind of write, on ``track`` and its collection: (name, send(client))."""
    collection = f"{COLLECTIONS}/{track.collection_id}"
    return {
        "create collection": lambda c: c.post_doc(COLLECTIONS, collection_doc(title="x")),
        "patch collection": lambda c: c.patch_doc(
            collection, patch_doc("collections", track.collection_id, title="x")
        ),
        "delete collection": lambda c: c.delete(f"{collection}?cascade=true"),
        "collection upload targets": lambda c: c.post_doc(f"{collection}/upload-targets", ""),
        "create track": lambda c: c.post_doc(
            TRACKS, track_doc(track.collection, **{"file-name": "x.wav"})
        ),
        "patch track": lambda c: c.patch_doc(
            f"{TRACKS}/{track.pk}", patch_doc("collection-tracks", track.pk, title="x")
        ),
        "delete track": lambda c: c.delete(f"{TRACKS}/{track.pk}"),
        "track upload targets": lambda c: c.post_doc(f"{TRACKS}/{track.pk}/upload-targets", ""),
    }


def assert_untouched(track):
    assert counts() == (1, 1)
    track.refresh_from_db()
    assert track.title == "Kept"
    assert Collection.objects.get().title == "Kept collection"


def test_a_viewer_cannot_write(viewer_client):
    track = make_collection_track(title="Kept", collection=make_collection(title="Kept collection"))
    for name, send in writes(track).items():
        error = the_error(send(viewer_client), 403)
        assert error["code"] == "permission_denied", name
    assert_untouched(track)


def test_a_viewer_with_permissions_is_still_refused_by_its_role(make_token, organization):
    user = member_with_permissions("perm-viewer", organization, "viewer")
    client = JsonApiClient(make_token(user, "read write"))
    error = the_error(client.post_doc(COLLECTIONS, collection_doc(title="x")), 403)
    assert error["code"] == "role_forbidden"
    assert counts() == (0, 0)


def test_an_editor_creates_updates_and_deletes(editor, make_token):
    client = JsonApiClient(make_token(editor))
    created = client.post_doc(COLLECTIONS, collection_doc(title="Editor's"))
    assert created.status_code == 201, created.document
    collection_id = created.document["data"]["id"]
    track = create_track(client, collection_id).document["data"]
    patched = client.patch_doc(
        f"{TRACKS}/{track['id']}", patch_doc("collection-tracks", track["id"], title="Renamed")
    )
    assert patched.status_code == 200, patched.document
    assert client.post_doc(f"{TRACKS}/{track['id']}/upload-targets", "").status_code == 200
    deleted = client.delete(f"{COLLECTIONS}/{collection_id}?cascade=true")
    assert deleted.status_code == 200, deleted.document
    assert counts() == (0, 0)


@pytest.fixture
def globex_client(make_token):
    """An editor of another organization, with a token of that organization."""
    globex = make_organization(slug="globex", name="Globex")
    user = member_with_permissions("globex-editor", globex, "editor")
    return JsonApiClient(make_token(user, organization=globex))


def test_another_organization_lists_none_of_ours(globex_client):
    track = make_collection_track()
    for path in (COLLECTIONS, TRACKS):
        response = globex_client.get(path)
        assert response.status_code == 200
        assert response.document["data"] == []
        assert response.document["meta"]["page"]["total"] == 0
    response = globex_client.get(TRACKS, {"filter[id]": str(track.pk), "page[limit]": 5})
    assert response.document["meta"] == {"page": {"offset": 0, "limit": 5, "total": 0}}


def test_another_organizations_rows_are_404_and_untouched(globex_client):
    track = make_collection_track(title="Kept", collection=make_collection(title="Kept collection"))
    requests = {
        "get collection": lambda c: c.get(f"{COLLECTIONS}/{track.collection_id}"),
        "collection's tracks": lambda c: c.get(f"{COLLECTIONS}/{track.collection_id}/tracks"),
        "get track": lambda c: c.get(f"{TRACKS}/{track.pk}"),
        "track's collection": lambda c: c.get(f"{TRACKS}/{track.pk}/collection"),
        **writes(track),
    }
    del requests["create collection"], requests["create track"]  # not by id
    for name, send in requests.items():
        error = the_error(send(globex_client), 404)
        assert error["code"] == "not_found", name
    assert_untouched(track)


def test_another_organization_cannot_add_tracks_to_our_collection(globex_client):
    collection = make_collection()
    response = globex_client.post_doc(TRACKS, track_doc(collection, **{"file-name": "x.wav"}))
    only_error(response, 404, "/data/relationships/collection", "does_not_exist")
    assert counts() == (1, 0)


def test_a_collection_created_by_another_organization_is_theirs(globex_client, api):
    response = globex_client.post_doc(COLLECTIONS, collection_doc(title="Theirs"))
    assert response.status_code == 201, response.document
    assert Collection.objects.get().organization.slug == "globex"
    assert api.get(COLLECTIONS).document["data"] == []
