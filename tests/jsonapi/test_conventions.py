"""The JSON:API conventions every resource shares, exercised through the catalog endpoints."""

import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from config import urls as project_urls
from config.jsonapi.views import ResourceViewSet
from products.models import Label
from products.serializers import LabelSerializer
from tests.assertions import ids, the_error
from tests.client import JsonApiClient
from tests.factories import make_label, make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db

JSONAPI = "application/vnd.api+json"
ATOMIC = 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"'
PROFILE = 'application/vnd.api+json; profile="https://example.com/profiles/audit"'
SECRET = "boom: password=hunter2 at /srv/app/internal.py"


# A test-only URLconf (used with @pytest.mark.urls(__name__)): views that fail unexpectedly.
class ExplodingViewSet(ResourceViewSet):
    queryset = Label.objects.all()
    serializer_class = LabelSerializer

    def list(self, request, *args, **kwargs):
        raise RuntimeError(SECRET)

    def create(self, request, *args, **kwargs):
        make_label(name="written before the crash")
        raise RuntimeError(SECRET)


def exploding_django_view(request):
    raise RuntimeError(SECRET)


urlpatterns = [
    path("api/v1/exploding", ExplodingViewSet.as_view({"get": "list", "post": "create"})),
    path("api/v1/exploding-django", exploding_django_view),
    path("", include(project_urls)),
]
handler500 = project_urls.handler500


def patch_document(track, **data):
    return {"data": {"type": "tracks", "id": str(track.pk), "attributes": {"title": "X"}, **data}}


# Content negotiation.


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "",
        "application/vnd.api+json; charset=utf-8",
        ATOMIC,
    ],
)
def test_post_with_unsupported_content_type_is_415(api, content_type):
    doc = track_document(make_product())
    response = api.send("POST", "/api/v1/tracks", doc, content_type=content_type)
    the_error(response, 415)
    assert not Track.objects.exists()


def test_post_with_profile_parameter_is_accepted(api):
    doc = track_document(make_product())
    response = api.send("POST", "/api/v1/tracks", doc, content_type=PROFILE)
    assert response.status_code == 201, response.document
    assert Track.objects.count() == 1


@pytest.mark.parametrize(
    "accept",
    ["application/vnd.api+json; charset=utf-8", ATOMIC, f"{ATOMIC}, {JSONAPI}; charset=utf-8"],
)
def test_accept_without_a_plain_jsonapi_instance_is_406(api, accept):
    make_track()
    the_error(api.get("/api/v1/tracks", HTTP_ACCEPT=accept), 406)


@pytest.mark.parametrize(
    "accept",
    [f"{JSONAPI}; charset=utf-8, {ATOMIC}, {JSONAPI}", "*/*", PROFILE],
)
def test_acceptable_accept_headers_are_200(api, accept):
    track = make_track()
    response = api.get("/api/v1/tracks", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert ids(response) == [str(track.pk)]


# Documents and request ids.


def test_success_and_error_documents_carry_jsonapi_version(api):
    make_track()
    for response in (api.get("/api/v1/tracks"), api.get("/api/v1/tracks/999999")):
        assert response.document["jsonapi"] == {"version": "1.1"}


def test_sane_request_id_is_echoed(api):
    response = api.get("/api/v1/tracks", HTTP_X_REQUEST_ID="client-42.a:b_c")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "client-42.a:b_c"


@pytest.mark.parametrize("offered", ["x" * 300, "a b", "<script>", "-leading-dash"])
def test_insane_request_id_is_replaced_by_a_uuid(api, offered):
    response = api.get("/api/v1/tracks", HTTP_X_REQUEST_ID=offered)
    assert response.status_code == 200
    assert response["X-Request-ID"] != offered
    uuid.UUID(response["X-Request-ID"])


def test_response_without_client_id_gets_a_uuid(api):
    uuid.UUID(api.get("/api/v1/tracks")["X-Request-ID"])


@pytest.mark.parametrize(
    "url", ["/api/v1/tracks/999999", "/api/v1/nothing", "/api/v1/tracks?foo=1"]
)
def test_error_objects_carry_the_request_id(api, url):
    response = api.get(url, HTTP_X_REQUEST_ID="trace-7")
    assert response.status_code in {400, 404}
    assert [e["id"] for e in response.document["errors"]] == ["trace-7"]


# 400: malformed documents.


def _without_data(doc):
    return {"meta": {"note": "no data"}}


def _data_list(doc):
    return {"data": [doc["data"]]}


def _attributes_list(doc):
    doc["data"]["attributes"] = ["title"]
    return doc


def _relationship_without_data(doc):
    doc["data"]["relationships"]["product"] = {"meta": {}}
    return doc


def _identifier_id_number(doc):
    identifier = doc["data"]["relationships"]["product"]["data"]
    identifier["id"] = int(identifier["id"])
    return doc


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (_without_data, ""),
        (_data_list, "/data"),
        (_attributes_list, "/data/attributes"),
        (_relationship_without_data, "/data/relationships/product"),
        (_identifier_id_number, "/data/relationships/product/data/id"),
    ],
)
def test_malformed_document_is_400_with_pointer(api, mutate, pointer):
    make_track()
    doc = mutate(track_document(make_product()))
    response = api.post_doc("/api/v1/tracks", doc)
    error = the_error(response, 400)
    assert error["source"] == {"pointer": pointer}
    assert Track.objects.count() == 1


def test_malformed_json_is_400(api):
    make_track()
    body = json.dumps(track_document(make_product()))[:-5]
    the_error(api.post_doc("/api/v1/tracks", body), 400)
    assert Track.objects.count() == 1


def test_malformed_json_on_patch_is_400(api):
    track = make_track(title="Before")
    the_error(api.patch_doc(f"/api/v1/tracks/{track.pk}", '{"data": {'), 400)
    track.refresh_from_db()
    assert track.title == "Before"


# 409 and 403: documents that contradict the endpoint.


def test_post_with_wrong_type_is_409(api):
    doc = track_document(make_product())
    doc["data"]["type"] = "products"
    error = the_error(api.post_doc("/api/v1/tracks", doc), 409)
    assert error["source"] == {"pointer": "/data/type"}
    assert not Track.objects.exists()


def test_patch_with_wrong_type_is_409(api):
    track = make_track(title="Before")
    doc = patch_document(track, type="products")
    error = the_error(api.patch_doc(f"/api/v1/tracks/{track.pk}", doc), 409)
    assert error["source"] == {"pointer": "/data/type"}
    track.refresh_from_db()
    assert track.title == "Before"


def test_patch_with_id_other_than_url_is_409(api):
    track, other = make_track(title="Before"), make_track(title="Other")
    doc = patch_document(track, id=str(other.pk))
    error = the_error(api.patch_doc(f"/api/v1/tracks/{track.pk}", doc), 409)
    assert error["source"] == {"pointer": "/data/id"}
    track.refresh_from_db()
    other.refresh_from_db()
    assert (track.title, other.title) == ("Before", "Other")


def test_post_with_client_generated_id_is_403(api):
    doc = track_document(make_product())
    doc["data"]["id"] = "12345"
    error = the_error(api.post_doc("/api/v1/tracks", doc), 403)
    assert error["source"] == {"pointer": "/data/id"}
    assert not Track.objects.exists()


# 404 and 405.


@pytest.mark.parametrize(
    "url",
    [
        "/api",
        "/api/v1/nothing",
        "/api/v2/tracks",
        "/api/v1/tracks/999999",
        "/api/v1/tracks/abc",
        "/api/v1/labels/abc",
        "/api/v1/languages/zzz",
        "/api/v1/tracks/{id}/nothing",
        "/api/v1/tracks/{id}/relationships/nothing",
    ],
)
def test_unknown_urls_under_api_are_jsonapi_404(api, url):
    track = make_track()
    the_error(api.get(url.format(id=track.pk)), 404)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/api/v1/tracks/{id}"),
        ("POST", "/api/v1/languages"),
        ("DELETE", "/api/v1/tracks"),
        ("PATCH", "/api/v1/languages/en"),
    ],
)
def test_unsupported_methods_are_405(api, method, url):
    track = make_track(title="Before")
    doc = {"data": {"type": "tracks", "id": str(track.pk), "attributes": {"title": "After"}}}
    the_error(api.send(method, url.format(id=track.pk), doc), 405)
    track.refresh_from_db()
    assert track.title == "Before"
    assert Track.objects.count() == 1


# 400: query parameters.


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"foo": "1"}, "foo"),
        ({"filter[nope]": "1"}, "filter[nope]"),
        ({"filter[title]": ""}, "filter[title]"),
        ({"filter[id]": "1,,2"}, "filter[id]"),
        ({"filter[track-number]": "abc"}, "filter[track-number]"),
        ({"filter[id]": "x"}, "filter[id]"),
        ({"sort": "nope"}, "sort"),
        ({"sort": "title,,track-number"}, "sort"),
        ({"include": "nope"}, "include"),
        ({"include": "product.nope"}, "include"),
        ({"fields[nope]": "title"}, "fields[nope]"),
        ({"fields[tracks]": "title,nope"}, "fields[tracks]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[number]": "-1"}, "page[number]"),
        ({"page[number]": "abc"}, "page[number]"),
        ({"page[offset]": "0"}, "page[offset]"),
    ],
)
def test_bad_query_parameter_is_400_naming_it(api, params, parameter):
    make_track()
    error = the_error(api.get("/api/v1/tracks", params), 400)
    assert error["source"] == {"parameter": parameter}


def test_repeated_sort_parameter_is_400(api):
    make_track()
    error = the_error(api.get("/api/v1/tracks?sort=title&sort=-title"), 400)
    assert error["source"] == {"parameter": "sort"}


@pytest.mark.parametrize(
    ("param", "value"), [("filter[title]", "x"), ("sort", "title"), ("page[size]", "5")]
)
def test_list_parameters_on_a_detail_get_are_400(api, param, value):
    track = make_track()
    error = the_error(api.get(f"/api/v1/tracks/{track.pk}", {param: value}), 400)
    assert error["source"] == {"parameter": param}


# Pagination.


def page_meta(current, first, last, size, to, total):
    return {
        "page": {
            "currentPage": current,
            "from": first,
            "lastPage": last,
            "perPage": size,
            "to": to,
            "total": total,
        }
    }


def query_of(link):
    parts = urlsplit(link)
    assert unquote(parts.path) == "/api/v1/tracks"
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


@pytest.fixture
def forty_five_tracks():
    product = make_product()
    return [make_track(product=product) for _ in range(45)]


@pytest.mark.parametrize(
    ("number", "meta", "count"),
    [
        (1, page_meta(1, 1, 3, 20, 20, 45), 20),
        (2, page_meta(2, 21, 3, 20, 40, 45), 20),
        (3, page_meta(3, 41, 3, 20, 45, 45), 5),
        (4, page_meta(4, None, 3, 20, None, 45), 0),
    ],
)
def test_page_meta_is_exact(api, forty_five_tracks, number, meta, count):
    response = api.get("/api/v1/tracks", {"page[size]": "20", "page[number]": str(number)})
    assert response.status_code == 200
    assert response.document["meta"] == meta
    expected = [str(t.pk) for t in forty_five_tracks[(number - 1) * 20 : number * 20]]
    assert ids(response) == expected
    assert len(expected) == count


@pytest.mark.parametrize(
    ("number", "links"),
    [
        (1, {"self": 1, "first": 1, "last": 3, "next": 2}),
        (2, {"self": 2, "first": 1, "last": 3, "prev": 1, "next": 3}),
        (3, {"self": 3, "first": 1, "last": 3, "prev": 2}),
        (4, {"self": 4, "first": 1, "last": 3, "prev": 3}),
    ],
)
def test_page_links_carry_every_parameter(api, forty_five_tracks, number, links):
    product_id = str(forty_five_tracks[0].product_id)
    params = {
        "filter[product-id]": product_id,
        "sort": "-track-number",
        "page[number]": str(number),
        "page[size]": "20",
    }
    response = api.get("/api/v1/tracks", params)
    assert response.status_code == 200
    got = response.document["links"]
    assert set(got) == set(links)
    for name, page in links.items():
        assert query_of(got[name]) == {**params, "page[number]": str(page)}, name


def test_default_page_size_is_20_and_links_carry_both_page_parameters(api, forty_five_tracks):
    response = api.get("/api/v1/tracks")
    assert response.document["meta"] == page_meta(1, 1, 3, 20, 20, 45)
    assert query_of(response.document["links"]["next"]) == {
        "page[number]": "2",
        "page[size]": "20",
    }


def test_empty_collection_has_one_page(api):
    response = api.get("/api/v1/tracks")
    assert response.status_code == 200
    assert response.document["data"] == []
    assert response.document["meta"] == page_meta(1, None, 1, 20, None, 0)
    assert set(response.document["links"]) == {"self", "first", "last"}


# Sparse fieldsets.


def test_sparse_fieldset_with_dasherized_attribute(api):
    track = make_track(title="Only", isrc_code="ESA112319999")
    response = api.get("/api/v1/tracks", {"fields[tracks]": "title,isrc-code"})
    assert response.status_code == 200
    [resource] = response.document["data"]
    assert set(resource) == {"type", "id", "attributes", "links"}
    assert resource["attributes"] == {"title": "Only", "isrc-code": "ESA112319999"}
    assert resource["id"] == str(track.pk)


@pytest.mark.parametrize("member", ["product", "audio-language"])
def test_sparse_fieldset_with_only_a_relationship(api, member):
    track = make_track()
    response = api.get(f"/api/v1/tracks/{track.pk}", {"fields[tracks]": member})
    assert response.status_code == 200
    resource = response.document["data"]
    assert set(resource) == {"type", "id", "relationships", "links"}
    assert list(resource["relationships"]) == [member]


def test_sparse_fieldset_with_timestamp_and_relationship(api):
    make_track()
    response = api.get("/api/v1/tracks", {"fields[tracks]": "createdAt,audio-language"})
    [resource] = response.document["data"]
    assert list(resource["attributes"]) == ["createdAt"]
    assert list(resource["relationships"]) == ["audio-language"]


def test_sparse_fieldset_on_included_type(api):
    track = make_track()
    params = {"include": "product", "fields[products]": "name"}
    response = api.get("/api/v1/tracks", params)
    assert response.status_code == 200
    [included] = response.document["included"]
    assert included["id"] == str(track.product_id)
    assert set(included) == {"type", "id", "attributes", "links"}
    assert included["attributes"] == {"name": track.product.name}
    [resource] = response.document["data"]
    assert "isrc-code" in resource["attributes"]
    assert "product" in resource["relationships"]


# Sort.


def test_sort_descending_by_dasherized_attribute(api):
    product = make_product()
    tracks = [make_track(product=product, track_number=n) for n in (2, 3, 1)]
    response = api.get("/api/v1/tracks", {"sort": "-track-number"})
    assert ids(response) == [str(tracks[i].pk) for i in (1, 0, 2)]


def test_sort_by_title(api):
    tracks = [make_track(title=title) for title in ("Bravo", "Charlie", "Alpha")]
    response = api.get("/api/v1/tracks", {"sort": "title"})
    assert ids(response) == [str(tracks[i].pk) for i in (2, 0, 1)]


def test_sort_by_created_at_both_ways(api):
    first, second = make_track(), make_track()
    Track.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert ids(api.get("/api/v1/tracks", {"sort": "createdAt"})) == [
        str(second.pk),
        str(first.pk),
    ]
    assert ids(api.get("/api/v1/tracks", {"sort": "-createdAt"})) == [
        str(first.pk),
        str(second.pk),
    ]


# Include and relationship endpoints.


def keys(resources):
    return [(r["type"], r["id"]) for r in resources]


def test_include_is_deduplicated(api):
    product, other = make_product(), make_product()
    make_track(product=product)
    make_track(product=product)
    make_track(product=other)
    params = {"include": "product,audio-language,label"}
    response = api.get("/api/v1/tracks", params)
    assert response.status_code == 200
    included = keys(response.document["included"])
    assert len(included) == len(set(included))
    assert set(included) == {
        ("products", str(product.pk)),
        ("products", str(other.pk)),
        ("labels", str(product.label_id)),
        ("labels", str(other.label_id)),
        ("languages", "en"),
    }


def test_include_never_repeats_primary_data(api):
    product = make_product()
    tracks = [make_track(product=product) for _ in range(3)]
    response = api.get("/api/v1/tracks", {"include": "product.tracks", "page[size]": "2"})
    assert response.status_code == 200
    assert ids(response) == [str(tracks[0].pk), str(tracks[1].pk)]
    assert sorted(keys(response.document["included"])) == [
        ("products", str(product.pk)),
        ("tracks", str(tracks[2].pk)),
    ]


def test_nested_include(api):
    track = make_track()
    response = api.get(f"/api/v1/tracks/{track.pk}", {"include": "product.label"})
    assert response.status_code == 200
    assert sorted(keys(response.document["included"])) == [
        ("labels", str(track.product.label_id)),
        ("products", str(track.product_id)),
    ]


def test_to_one_relationship_endpoint(api):
    track = make_track()
    response = api.get(f"/api/v1/tracks/{track.pk}/relationships/product")
    assert response.status_code == 200
    assert response.document["data"] == {"type": "products", "id": str(track.product_id)}
    base = f"http://testserver/api/v1/tracks/{track.pk}"
    assert response.document["links"] == {
        "self": f"{base}/relationships/product",
        "related": f"{base}/product",
    }


def test_to_one_related_endpoint(api):
    track = make_track()
    response = api.get(f"/api/v1/tracks/{track.pk}/product")
    assert response.status_code == 200
    data = response.document["data"]
    assert (data["type"], data["id"]) == ("products", str(track.product_id))
    assert data["attributes"]["name"] == track.product.name


def test_to_many_related_endpoint_is_paginated(api):
    product = make_product()
    tracks = [make_track(product=product) for _ in range(3)]
    make_track()
    response = api.get(f"/api/v1/products/{product.pk}/tracks", {"page[size]": "2"})
    assert response.status_code == 200
    assert ids(response) == [str(tracks[0].pk), str(tracks[1].pk)]
    assert response.document["meta"] == page_meta(1, 1, 2, 2, 2, 3)
    assert "next" in response.document["links"]


def test_to_many_relationship_endpoint(api):
    product = make_product()
    tracks = [make_track(product=product) for _ in range(3)]
    make_track()
    response = api.get(f"/api/v1/products/{product.pk}/relationships/tracks")
    assert response.status_code == 200
    assert sorted(response.document["data"], key=lambda i: int(i["id"])) == [
        {"type": "tracks", "id": str(t.pk)} for t in tracks
    ]


# A constant number of queries, whatever the page size.


@pytest.fixture
def hundred_tracks():
    labels = [make_label() for _ in range(5)]
    products = [make_product(label=labels[n % 5]) for n in range(20)]
    return [make_track(product=products[n % 20]) for n in range(100)]


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries), len(response.document["data"])


@pytest.mark.parametrize(
    ("url", "include", "rows"),
    [
        ("/api/v1/tracks", "product,audio-language,label", 100),
        ("/api/v1/products", "tracks,label", 20),
        ("/api/v1/labels", "products", 5),
        ("/api/v1/tracks", "product.label,product.tracks", 100),
    ],
)
def test_lists_with_include_run_constant_queries(api, hundred_tracks, url, include, rows):
    api.get(url, {"include": include})  # warm per-process caches
    small = count_queries(api, url, {"include": include, "page[size]": "1"})
    large = count_queries(api, url, {"include": include, "page[size]": "100"})
    assert (small[1], large[1]) == (1, rows)
    # A first page holding the whole collection needs no COUNT (test_query_counts).
    assert large[0] == small[0] - (rows < 100)


# Unexpected exceptions.


@pytest.mark.urls(__name__)
def test_unexpected_exception_in_a_view_is_a_jsonapi_500(api, caplog):
    response = api.get("/api/v1/exploding")
    error = the_error(response, 500)
    assert SECRET not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert "Traceback" not in error["detail"]
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


@pytest.mark.urls(__name__)
def test_unexpected_exception_rolls_back_the_write(api):
    before = Label.objects.count()
    document = {"data": {"type": "labels", "attributes": {"name": "x"}}}
    the_error(api.post_doc("/api/v1/exploding", document), 500)
    assert Label.objects.count() == before


@pytest.mark.urls(__name__)
def test_unexpected_exception_outside_drf_is_a_jsonapi_500(admin_user, make_token):
    client = JsonApiClient(make_token(admin_user), raise_request_exception=False)
    response = client.get("/api/v1/exploding-django")
    the_error(response, 500)
    assert SECRET not in response.content.decode()
