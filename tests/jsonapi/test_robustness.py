"""Hostile input gets a precise 4xx and writes nothing: never a 500."""

import pytest

from tests.factories import make_product, make_track, track_document
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


# Found in review: each of these once answered 500 or the wrong status.


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/tracks/{track}/product?include=tracks",
        "/api/v1/products/{product}/tracks?include=audio-language",
        "/api/v1/labels/{label}/products?include=language",
        "/api/v1/tracks/{track}/label?include=products",
    ],
)
def test_include_on_related_endpoints(api, url):
    track = make_track()
    path = url.format(track=track.pk, product=track.product_id, label=track.product.label_id)
    response = api.get(path)
    assert response.status_code == 200, response.document
    assert response.document["included"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("page[number]", "\u00b2"),
        ("page[size]", "\u2460"),
        ("page[number]", "1" * 30),
        ("page[number]", "9" * 5000),
    ],
)
def test_odd_page_numbers_are_400(api, param, value):
    response = api.get("/api/v1/tracks", {param: value})
    assert response.status_code == 400
    assert response.document["errors"][0]["source"]["parameter"] == param


def test_malformed_query_strings_are_400(api):
    params = "&".join(f"filter[title]{n}=x" for n in range(1100))
    assert api.get(f"/api/v1/tracks?{params}").status_code == 400


def test_deeply_nested_documents_are_rejected_cleanly(api):
    body = '{"data": {"type": "tracks", "attributes": {"title": ' + "[" * 1000 + "]" * 1000
    response = api.post_doc("/api/v1/tracks", body + "}}}")
    assert response.status_code == 400
    assert response.document["errors"][0]["detail"].startswith("The document is nested deeper")
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/vnd.api+json"), ("x", "text/plain")],
)
def test_authentication_comes_before_the_body(anonymous, body, content_type):
    response = anonymous.send("POST", "/api/v1/tracks", body, content_type=content_type)
    assert response.status_code == 401


def test_read_only_token_with_a_bad_body_is_403(admin_user, make_token):
    from tests.client import JsonApiClient

    reader = JsonApiClient(make_token(admin_user, "read"))
    assert reader.send("POST", "/api/v1/tracks", "{not json").status_code == 403


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter[id]", "1" * 30),
        ("filter[product-id]", "1" * 30),
        ("filter[track-number]", "1.9"),
        ("filter[track_number]", "1"),
        ("filter[title__icontains]", "x"),
    ],
)
def test_number_filters_and_aliases_are_strict(api, param, value):
    response = api.get("/api/v1/tracks", {param: value})
    assert response.status_code == 400
    assert response.document["errors"][0]["source"]["parameter"] == param


def test_label_id_filter_rejects_fractions(api):
    response = api.get("/api/v1/products", {"filter[label-id]": "1.9"})
    assert response.status_code == 400


def test_upc_filter_is_normalised_like_the_attribute(api):
    product = make_product(upc_code="036000291452")
    response = api.get("/api/v1/products", {"filter[upc-code]": "0-36000-29145-2"})
    assert [r["id"] for r in response.document["data"]] == [str(product.pk)]


def test_non_ascii_digits_are_not_ids(api):
    make_track()  # whatever its id, an Arabic-Indic digit never names it
    assert api.get("/api/v1/tracks/\u0661").status_code == 404
    doc = track_document(make_product())
    doc["data"]["relationships"]["product"]["data"]["id"] = "\u0661"
    response = api.post_doc("/api/v1/tracks", doc)
    assert response.status_code == 404  # no such product
    assert not Track.objects.filter(title="Track title").exists()


@pytest.mark.parametrize(
    ("include", "status"),
    [
        ("products.tracks.records", 400),
        ("products.tracks.remix-of", 400),
        ("products.tracks,products.label.products", 200),
        ("products.tracks,products.label", 200),
    ],
)
def test_include_paths_cross_at_most_two_to_many_relationships(api, include, status):
    make_track()
    response = api.get("/api/v1/labels", {"include": include})
    assert response.status_code == status
    if status == 400:
        assert response.document["errors"][0]["source"]["parameter"] == "include"


def test_patching_a_relationship_of_a_missing_track_is_404(api):
    document = {"data": {"type": "labels", "id": "1"}}
    assert api.patch_doc("/api/v1/tracks/999999/relationships/label", document).status_code == 404
