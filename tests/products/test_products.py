"""Products through HTTP: create, validation, deletion rules, filters and includes."""

import pytest

from products.models import Product
from tests.assertions import errors_by_pointer, ids
from tests.factories import UPCS, make_label, make_product, make_track

pytestmark = pytest.mark.django_db


def product_document(label, language="en", **attributes):
    attributes.setdefault("name", "Product name")
    return {
        "data": {
            "type": "products",
            "attributes": attributes,
            "relationships": {
                "label": {"data": {"type": "labels", "id": str(label.pk)}},
                "language": {"data": {"type": "languages", "id": language}},
            },
        }
    }


def post_invalid(api, document, status, pointer):
    """POST ``document``, expect one error at ``pointer`` and no product written."""
    count = Product.objects.count()
    response = api.post_doc("/api/v1/products", document)
    errors = errors_by_pointer(response, status)
    assert pointer in errors, errors
    assert errors[pointer]["status"] == str(status)
    assert Product.objects.count() == count
    return errors[pointer]


# Create.


def test_create_product_with_relationships(api):
    label = make_label()
    document = product_document(
        label,
        "es",
        name="Album",
        **{
            "upc-code": "036000291452",
            "release-date": "2023-08-14",
            "copyright-line": "2023 Beat",
            "production-line": "2023 Beat Music",
            "production-year": 2023,
            "status": "active",
            "product-type": "album",
        },
    )
    response = api.post_doc("/api/v1/products", document)
    assert response.status_code == 201, response.document
    data = response.document["data"]
    assert data["type"] == "products"
    assert data["attributes"] == {
        "name": "Album",
        "upc-code": "036000291452",
        "release-date": "2023-08-14",
        "copyright-line": "2023 Beat",
        "production-line": "2023 Beat Music",
        "production-year": 2023,
        "status": "active",
        "product-type": "album",
        "createdAt": data["attributes"]["createdAt"],
        "updatedAt": data["attributes"]["updatedAt"],
    }
    assert data["relationships"]["label"]["data"] == {"type": "labels", "id": str(label.pk)}
    assert data["relationships"]["language"]["data"] == {"type": "languages", "id": "es"}
    base = f"http://testserver/api/v1/products/{data['id']}"
    assert data["relationships"]["tracks"]["links"] == {
        "self": f"{base}/relationships/tracks",
        "related": f"{base}/tracks",
    }
    assert response["Location"] == base
    product = Product.objects.get(pk=data["id"])
    assert (product.label_id, product.language_id, product.upc_code) == (
        label.pk,
        "es",
        "036000291452",
    )


def test_create_product_defaults(api):
    response = api.post_doc("/api/v1/products", product_document(make_label(), name="Single"))
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert attributes["status"] == "draft"
    for member in (
        "upc-code",
        "release-date",
        "copyright-line",
        "production-line",
        "production-year",
        "product-type",
    ):
        assert attributes[member] is None, member
    assert Product.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("section", "member"),
    [("attributes", "name"), ("relationships", "label"), ("relationships", "language")],
)
def test_create_product_required_member_missing(api, section, member):
    document = product_document(make_label())
    del document["data"][section][member]
    error = post_invalid(api, document, 422, f"/data/{section}/{member}")
    assert error["detail"] == f"The {member} field is required."
    assert error["title"] == "Unprocessable Entity"


def test_create_product_reports_all_missing_members_at_once(api):
    document = {"data": {"type": "products", "attributes": {"upc-code": "036000291453"}}}
    response = api.post_doc("/api/v1/products", document)
    errors = errors_by_pointer(response, 422)
    assert set(errors) == {
        "/data/attributes/name",
        "/data/attributes/upc-code",
        "/data/relationships/label",
        "/data/relationships/language",
    }
    assert not Product.objects.exists()


# UPC codes.


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("036000291452", "036000291452"),
        ("4006381333931", "4006381333931"),
        ("0 36000 29145 2", "036000291452"),
        ("036000-291452", "036000291452"),
        ("4-006381-333931", "4006381333931"),
        ("400 6381 33393 1", "4006381333931"),
    ],
)
def test_upc_accepted_and_stored_compact(api, given, stored):
    document = product_document(make_label(), **{"upc-code": given})
    response = api.post_doc("/api/v1/products", document)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["upc-code"] == stored
    assert Product.objects.get().upc_code == stored


@pytest.mark.parametrize(
    "upc",
    [
        "036000291453",  # bad check digit (UPC-A)
        "4006381333932",  # bad check digit (EAN-13)
        "03600029145",  # 11 digits
        "12345678",  # EAN-8 is not a product UPC
        "40063813339310",  # 14 digits
        "03600029145A",  # not digits
        "",
        123456789012,  # a number, not a string
    ],
)
def test_invalid_upc_is_422(api, upc):
    document = product_document(make_label(), **{"upc-code": upc})
    post_invalid(api, document, 422, "/data/attributes/upc-code")


def test_duplicate_upc_is_409(api):
    make_product(upc_code="036000291452")
    document = product_document(make_label(), **{"upc-code": "0-36000-29145-2"})
    error = post_invalid(api, document, 409, "/data/attributes/upc-code")
    assert error["status"] == "409"


def test_patch_to_duplicate_upc_is_409_and_unchanged(api):
    make_product(upc_code=UPCS[0])
    product = make_product(upc_code=UPCS[1])
    document = {
        "data": {"type": "products", "id": str(product.pk), "attributes": {"upc-code": UPCS[0]}}
    }
    response = api.patch_doc(f"/api/v1/products/{product.pk}", document)
    errors = errors_by_pointer(response, 409)
    assert set(errors) == {"/data/attributes/upc-code"}
    product.refresh_from_db()
    assert product.upc_code == UPCS[1]


# Other attributes.


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("status", "published"),
        ("status", "Draft"),
        ("status", None),
        ("status", 1),
        ("product-type", "lp"),
        ("product-type", ["album"]),
        ("production-year", "2020"),
        ("production-year", 2020.5),
        ("production-year", True),
        ("production-year", 1800),
        ("production-year", 3000),
        ("release-date", "14/08/2023"),
        ("release-date", "2023-02-30"),
        ("release-date", 20230814),
        ("name", 123),
        ("name", ""),
        ("name", "x" * 256),
        ("copyright-line", False),
    ],
)
def test_invalid_attribute_is_422(api, member, value):
    document = product_document(make_label(), **{member: value})
    post_invalid(api, document, 422, f"/data/attributes/{member}")


@pytest.mark.parametrize(
    ("member", "pointer"),
    [
        ("colour", "/data/attributes/colour"),
        ("createdAt", "/data/attributes/createdAt"),
        ("updatedAt", "/data/attributes/updatedAt"),
    ],
)
def test_unknown_or_read_only_attribute_is_422(api, member, pointer):
    document = product_document(make_label(), **{member: "2023-01-01T00:00:00Z"})
    post_invalid(api, document, 422, pointer)


# Relationships.


@pytest.mark.parametrize(
    ("member", "identifier"),
    [
        ("label", {"type": "labels", "id": "999999"}),
        ("label", {"type": "labels", "id": "abc"}),
        ("language", {"type": "languages", "id": "xx-nope"}),
    ],
)
def test_relationship_to_missing_resource_is_404(api, member, identifier):
    """JSON:API: a request that references a related resource that does not exist is 404."""
    document = product_document(make_label())
    document["data"]["relationships"][member] = {"data": identifier}
    error = post_invalid(api, document, 404, f"/data/relationships/{member}")
    assert error["code"] == "does_not_exist"


def test_a_clash_and_a_missing_resource_together_are_409(api):
    """Both conflict with what the server holds; neither makes the document invalid."""
    make_product(upc_code="036000291452")
    document = product_document(make_label(), language="xx-nope", **{"upc-code": "036000291452"})
    response = api.post_doc("/api/v1/products", document)
    errors = {e["source"]["pointer"]: e["status"] for e in response.document["errors"]}
    assert response.status_code == 409
    assert errors == {"/data/attributes/upc-code": "409", "/data/relationships/language": "404"}


def test_an_invalid_value_with_a_clash_is_422(api):
    make_product(upc_code="036000291452")
    document = product_document(make_label(), name="", **{"upc-code": "036000291452"})
    response = api.post_doc("/api/v1/products", document)
    assert response.status_code == 422
    assert {e["status"] for e in response.document["errors"]} == {"409", "422"}


@pytest.mark.parametrize("member", ["label", "language"])
def test_relationship_null_is_422(api, member):
    document = product_document(make_label())
    document["data"]["relationships"][member] = {"data": None}
    post_invalid(api, document, 422, f"/data/relationships/{member}")


def test_relationship_with_wrong_type(api):
    track = make_track()
    document = product_document(make_label())
    document["data"]["relationships"]["label"] = {"data": {"type": "tracks", "id": str(track.pk)}}
    count = Product.objects.count()
    response = api.post_doc("/api/v1/products", document)
    # A linkage of the wrong type inside relationships is a validation failure of that member.
    assert response.status_code in (409, 422), response.document
    [error] = response.document["errors"]
    assert error["source"] == {"pointer": "/data/relationships/label"}
    assert error["code"] == "type_conflict"
    assert Product.objects.count() == count


def test_primary_data_with_wrong_type_is_409(api):
    document = product_document(make_label())
    document["data"]["type"] = "tracks"
    post_invalid(api, document, 409, "/data/type")


def test_read_only_tracks_relationship_is_422(api):
    track = make_track()
    document = product_document(make_label())
    document["data"]["relationships"]["tracks"] = {
        "data": [{"type": "tracks", "id": str(track.pk)}]
    }
    post_invalid(api, document, 422, "/data/relationships/tracks")


# Update and delete.


def test_patch_product(api):
    product = make_product()
    other_label = make_label()
    document = {
        "data": {
            "type": "products",
            "id": str(product.pk),
            "attributes": {"status": "active", "product-type": "ep"},
            "relationships": {
                "label": {"data": {"type": "labels", "id": str(other_label.pk)}},
                "language": {"data": {"type": "languages", "id": "ast"}},
            },
        }
    }
    response = api.patch_doc(f"/api/v1/products/{product.pk}", document)
    assert response.status_code == 200, response.document
    data = response.document["data"]
    assert data["attributes"]["status"] == "active"
    assert data["relationships"]["label"]["data"]["id"] == str(other_label.pk)
    product.refresh_from_db()
    assert (product.status, product.product_type, product.label_id, product.language_id) == (
        "active",
        "ep",
        other_label.pk,
        "ast",
    )


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"status": "gone"}, "/data/attributes/status"),
        ({"production-year": "2020"}, "/data/attributes/production-year"),
        ({"upc-code": "036000291453"}, "/data/attributes/upc-code"),
        ({"name": None}, "/data/attributes/name"),
    ],
)
def test_patch_product_invalid_is_422_and_unchanged(api, attributes, pointer):
    product = make_product(name="Kept", upc_code=UPCS[2])
    before = Product.objects.values().get(pk=product.pk)
    document = {"data": {"type": "products", "id": str(product.pk), "attributes": attributes}}
    response = api.patch_doc(f"/api/v1/products/{product.pk}", document)
    errors = errors_by_pointer(response, 422)
    assert set(errors) == {pointer}
    assert Product.objects.values().get(pk=product.pk) == before


def test_delete_product_with_tracks_is_409(api):
    product = make_product()
    make_track(product=product)
    response = api.delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == 409, response.document
    [error] = response.document["errors"]
    assert error["status"] == "409"
    assert "tracks" in error["detail"]
    assert Product.objects.filter(pk=product.pk).exists()
    assert product.tracks.count() == 1


def test_delete_empty_product_is_204_then_404(api):
    product = make_product()
    response = api.delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Product.objects.filter(pk=product.pk).exists()
    response = api.get(f"/api/v1/products/{product.pk}")
    assert response.status_code == 404
    assert response.document["errors"][0]["status"] == "404"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/products/abc"),
        ("DELETE", "/api/v1/products/abc"),
        ("GET", "/api/v1/products/abc/relationships/tracks"),
        ("GET", "/api/v1/products/abc/label"),
        ("GET", "/api/v1/products/1.5"),
    ],
)
def test_non_numeric_id_in_url_is_404(api, method, path):
    make_product()
    response = api.generic(method, path)
    assert response.status_code == 404, response.document
    assert response.document["errors"][0]["status"] == "404"
    assert Product.objects.count() == 1


# Filters.


@pytest.fixture
def catalog():
    label, other_label = make_label(), make_label()
    wanted = make_product(name="Summer Hits", upc_code=UPCS[0], status="active", label=label)
    other = make_product(name="Winter Songs", upc_code=UPCS[1], label=other_label)
    return {"wanted": wanted, "other": other, "label": label}


@pytest.mark.parametrize(
    ("param", "positive", "negative"),
    [
        ("filter[id]", lambda c: str(c["wanted"].pk), lambda c: "999999"),
        ("filter[name]", lambda c: "Summer Hits", lambda c: "Summer"),
        ("filter[name.icontains]", lambda c: "summer", lambda c: "autumn"),
        ("filter[upc-code]", lambda c: UPCS[0], lambda c: UPCS[2]),
        ("filter[status]", lambda c: "active", lambda c: "archived"),
        ("filter[label-id]", lambda c: str(c["label"].pk), lambda c: "999999"),
    ],
)
def test_product_filters(api, catalog, param, positive, negative):
    response = api.get("/api/v1/products", {param: positive(catalog)})
    assert response.status_code == 200
    assert ids(response) == [str(catalog["wanted"].pk)]
    response = api.get("/api/v1/products", {param: negative(catalog)})
    assert response.status_code == 200
    assert ids(response) == []
    assert response.document["meta"]["page"]["total"] == 0


def test_filter_products_by_id_list(api, catalog):
    value = f"{catalog['wanted'].pk},{catalog['other'].pk}"
    response = api.get("/api/v1/products", {"filter[id]": value})
    assert sorted(ids(response), key=int) == sorted(
        [str(catalog["wanted"].pk), str(catalog["other"].pk)], key=int
    )


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter[status]", "published"),
        ("filter[label-id]", "abc"),
        ("filter[id]", "one"),
        ("filter[colour]", "red"),
        ("sort", "upc-code"),
        ("include", "records"),
    ],
)
def test_bad_product_query_parameter_is_400(api, catalog, param, value):
    response = api.get("/api/v1/products", {param: value})
    assert response.status_code == 400, response.document
    [error] = response.document["errors"]
    assert error["source"] == {"parameter": param}


# Includes.


def test_include_label_language_tracks(api):
    product = make_product()
    first, second = make_track(product=product), make_track(product=product)
    make_track()  # another product's track
    response = api.get(f"/api/v1/products/{product.pk}", {"include": "label,language,tracks"})
    assert response.status_code == 200, response.document
    data = response.document["data"]
    assert data["relationships"]["tracks"]["data"] == [
        {"type": "tracks", "id": str(first.pk)},
        {"type": "tracks", "id": str(second.pk)},
    ]
    included = {(r["type"], r["id"]) for r in response.document["included"]}
    assert included == {
        ("labels", str(product.label_id)),
        ("languages", "en"),
        ("tracks", str(first.pk)),
        ("tracks", str(second.pk)),
    }


def test_list_include_label_language_tracks(api):
    products = [make_product(), make_product()]
    tracks = [make_track(product=p) for p in products]
    response = api.get("/api/v1/products", {"include": "label,language,tracks"})
    assert response.status_code == 200, response.document
    included = {(r["type"], r["id"]) for r in response.document["included"]}
    assert {("tracks", str(t.pk)) for t in tracks} <= included
    assert {("labels", str(p.label_id)) for p in products} <= included
    assert ("languages", "en") in included
    assert len(included) == len(response.document["included"])  # no duplicates


def test_product_tracks_related_endpoint(api):
    product = make_product()
    track = make_track(product=product)
    make_track()
    response = api.get(f"/api/v1/products/{product.pk}/tracks")
    assert response.status_code == 200
    assert ids(response) == [str(track.pk)]
    response = api.get(f"/api/v1/products/{product.pk}/relationships/tracks")
    assert response.document["data"] == [{"type": "tracks", "id": str(track.pk)}]
