"""Every example of the distribution seed's Track section, through HTTP."""

from urllib.parse import unquote

import pytest

from tests.factories import make_product, make_track, track_document
from tracks.models import AUDIUS_FIELDS, Track

pytestmark = pytest.mark.django_db

SEED_ATTRIBUTES = {
    "title": "Track title",
    "subtitle": None,
    "track-number": 1,
    "volume-number": 1,
    "isrc-code": "ESA112310001",
    "length": 0,
    "production-line": None,
    "clean": False,
    "parental-advisory": False,
    "production-date": None,
    "preview-start": 30,
    "preview-end": None,
    "lyrics": None,
    "explicit-content": None,
    "artist": ["Artist"],
    "author": None,
    "composer": None,
    "publisher": None,
    "contributor": None,
    "remixer": None,
    "featuring": None,
    "performer": None,
    "producer": None,
    "orchestra": None,
    "lyricist": None,
    "arranger": None,
    "director": None,
    "audio16bits": False,
    "audio24bits": False,
}


def seed_track():
    return make_track(title="Track title", track_number=1, isrc_code="ESA112310001")


def test_list_tracks_matches_seed(api):
    track = seed_track()
    response = api.get("/api/v1/tracks")
    assert response.status_code == 200
    doc = response.document
    [resource] = doc["data"]
    assert resource["type"] == "tracks"
    assert resource["id"] == str(track.pk)
    attributes = resource["attributes"]
    assert {k: attributes[k] for k in SEED_ATTRIBUTES} == SEED_ATTRIBUTES
    audius = {name.replace("_", "-") for name in AUDIUS_FIELDS}
    assert set(attributes) == set(SEED_ATTRIBUTES) | {"createdAt", "updatedAt"} | audius
    assert attributes["createdAt"].endswith("Z")
    base = f"http://testserver/api/v1/tracks/{track.pk}"
    for member in ("product", "audio-language"):
        assert resource["relationships"][member]["links"] == {
            "related": f"{base}/{member}",
            "self": f"{base}/relationships/{member}",
        }
    assert resource["links"] == {"self": base}
    assert doc["meta"] == {
        "page": {"currentPage": 1, "from": 1, "lastPage": 1, "perPage": 20, "to": 1, "total": 1}
    }
    seed_link = "http://testserver/api/v1/tracks?page[number]=1&page[size]=20"
    assert unquote(doc["links"]["first"]) == seed_link
    assert unquote(doc["links"]["last"]) == seed_link


def test_get_track_matches_seed(api):
    track = seed_track()
    response = api.get(f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 200
    data = response.document["data"]
    assert data["id"] == str(track.pk)
    assert data["attributes"]["isrc-code"] == "ESA112310001"
    assert response.document["links"] == {"self": f"http://testserver/api/v1/tracks/{track.pk}"}


def test_create_track_returns_201_with_defaults(api):
    product = make_product()
    doc = track_document(product, **{"isrc-code": "ES-A11-23-14511"})
    response = api.post_doc("/api/v1/tracks", doc)
    assert response.status_code == 201, response.document
    data = response.document["data"]
    track = Track.objects.get(pk=data["id"])
    assert track.isrc_code == "ESA112314511"
    assert data["attributes"]["isrc-code"] == "ESA112314511"
    assert data["attributes"]["preview-start"] == 30
    assert data["attributes"]["clean"] is False
    assert data["relationships"]["label"]["data"] == {
        "type": "labels",
        "id": str(product.label_id),
    }
    assert response["Location"] == f"http://testserver/api/v1/tracks/{track.pk}"


def test_create_track_seed_422_reports_both_errors(api):
    product = make_product()
    doc = track_document(product, **{"isrc-code": "not-an-isrc"})
    del doc["data"]["attributes"]["title"]
    response = api.post_doc("/api/v1/tracks", doc)
    assert response.status_code == 422
    errors = {e["source"]["pointer"]: e for e in response.document["errors"]}
    assert set(errors) == {"/data/attributes/title", "/data/attributes/isrc-code"}
    assert errors["/data/attributes/title"]["detail"] == "The title field is required."
    assert errors["/data/attributes/isrc-code"]["detail"].startswith("ISRC code is not valid")
    for error in errors.values():
        assert error["status"] == "422"
        assert error["title"] == "Unprocessable Entity"
        assert error["code"]
        assert error["id"] == response["X-Request-ID"]
    assert not Track.objects.exists()


def test_update_track(api):
    track = seed_track()
    doc = {
        "data": {
            "type": "tracks",
            "id": str(track.pk),
            "attributes": {"title": "New title", "lyrics": "La la", "track-number": 7},
        }
    }
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}", doc)
    assert response.status_code == 200, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["title"], attributes["lyrics"], attributes["track-number"]) == (
        "New title",
        "La la",
        7,
    )
    track.refresh_from_db()
    assert track.title == "New title"


def test_delete_track_then_404(api):
    track = seed_track()
    response = api.delete(f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 204
    assert response.content == b""
    response = api.get(f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 404
    assert response.document["errors"][0]["status"] == "404"


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter[title]", "Track title"),
        ("filter[isrc-code]", "ESA112310001"),
        ("filter[track-number]", "1"),
    ],
)
def test_seed_filters(api, param, value):
    wanted = seed_track()
    make_track(title="Other", track_number=2, product=wanted.product)
    response = api.get("/api/v1/tracks", {param: value})
    assert response.status_code == 200
    assert [r["id"] for r in response.document["data"]] == [str(wanted.pk)]


def test_seed_filter_id_and_product_id(api):
    first, second = make_track(), make_track()
    response = api.get("/api/v1/tracks", {"filter[id]": f"{first.pk},{second.pk}"})
    assert [r["id"] for r in response.document["data"]] == [str(first.pk), str(second.pk)]
    response = api.get("/api/v1/tracks", {"filter[product-id]": str(second.product_id)})
    assert [r["id"] for r in response.document["data"]] == [str(second.pk)]
