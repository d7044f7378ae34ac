"""Hostile input gets a precise 4xx and writes nothing: never a 500."""

import pytest

from tests.factories import make_product, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda d: d["data"]["attributes"].update(title="a\x00b"), "/data/attributes/title"),
        (lambda d: d["data"]["attributes"].update(artist=["x\x00"]), "/data/attributes/artist/0"),
        (lambda d: d["data"]["attributes"].update({"ti\x00tle": "x"}), "/data/attributes"),
        (
            lambda d: d["data"]["relationships"]["audio-language"]["data"].update(id="e\x00n"),
            "/data/relationships/audio-language/data/id",
        ),
    ],
)
def test_nul_characters_are_400_with_pointer(api, mutate, pointer):
    doc = track_document(make_product())
    mutate(doc)
    response = api.post_doc("/api/v1/tracks", doc)
    assert response.status_code == 400
    assert response.document["errors"][0]["source"]["pointer"] == pointer
    assert not Track.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/languages/e%00n", "/api/v1/tracks/1%00"])
def test_nul_in_url_id_is_404(api, path):
    assert api.get(path).status_code == 404


@pytest.mark.parametrize(
    ("member", "value"),
    [("track-number", 10**30), ("preview-start", -1), ("volume-number", 2**31)],
)
def test_out_of_range_numbers_are_422(api, member, value):
    response = api.post_doc("/api/v1/tracks", track_document(make_product(), **{member: value}))
    assert response.status_code == 422
    assert response.document["errors"][0]["source"]["pointer"] == f"/data/attributes/{member}"
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    "body",
    ["[]", '"data"', "null", "", "[" * 5000 + "]" * 5000, '{"data": []}', '{"data": null}'],
)
def test_documents_that_are_not_resource_objects_are_400(api, body):
    response = api.post_doc("/api/v1/tracks", body)
    assert response.status_code == 400
    assert not Track.objects.exists()


def test_filter_value_with_nul_is_400(api):
    response = api.get("/api/v1/tracks", {"filter[title]": "a\x00b"})
    assert response.status_code == 400
    assert response.document["errors"][0]["source"]["parameter"] == "filter[title]"


def test_long_title_is_422(api):
    doc = track_document(make_product(), title="x" * 256)
    response = api.post_doc("/api/v1/tracks", doc)
    assert response.status_code == 422
    assert response.document["errors"][0]["source"]["pointer"] == "/data/attributes/title"
