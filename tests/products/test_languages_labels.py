"""Languages (ISO 639 reference data, read-only here; retired ones not chosen again) and
labels (full CRUD), through HTTP."""

import pytest
from django.core.exceptions import ValidationError

from products.models import Label, Language, Product
from tests.assertions import ids, the_error
from tests.factories import make_label, make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db


def label_document(label_id=None, **attributes):
    data = {"type": "labels", "attributes": attributes}
    if label_id is not None:
        data["id"] = str(label_id)
    return {"data": data}


# Languages.


@pytest.mark.parametrize(
    ("code", "name"), [("en", "English"), ("es", "Spanish"), ("ast", "Asturian")]
)
def test_languages_are_loaded_by_migration(code, name):
    assert Language.objects.get(code=code).name == name


def test_language_without_639_1_code_uses_639_3_code():
    assert Language.objects.filter(name="Asturian").get().code == "ast"
    assert Language.objects.count() > 7000  # the whole of ISO 639-3, not a sample


def test_get_language_detail(api):
    response = api.get("/api/v1/languages/ast")
    assert response.status_code == 200
    data = response.document["data"]
    assert (data["type"], data["id"]) == ("languages", "ast")
    assert data["attributes"] == {"name": "Asturian", "retired": False}
    assert data["links"]["self"] == "http://testserver/api/v1/languages/ast"


# Retired languages: kept where used, never chosen again, in the API as in the admin.


@pytest.fixture
def retired():
    return Language.objects.filter(code="ast").update(retired=True) and Language.objects.get(
        code="ast"
    )


def test_retired_languages_are_listed_and_filtered(api, retired):
    response = api.get("/api/v1/languages?filter[retired]=true")
    assert response.status_code == 200
    assert [item["id"] for item in response.document["data"]] == ["ast"]
    assert response.document["data"][0]["attributes"] == {"name": "Asturian", "retired": True}
    response = api.get("/api/v1/languages?filter[retired]=false&filter[id]=ast,en")
    assert [item["id"] for item in response.document["data"]] == ["en"]


def language_of(resource_type, code):
    return {resource_type: {"data": {"type": "languages", "id": code}}}


def test_a_retired_language_is_not_chosen_for_a_new_product_or_track(api, retired):
    label, product = make_label(), make_product()
    document = {
        "data": {
            "type": "products",
            "attributes": {"name": "Album"},
            "relationships": {
                "label": {"data": {"type": "labels", "id": str(label.pk)}},
                **language_of("language", "ast"),
            },
        }
    }
    response = api.post_doc("/api/v1/products", document)
    error = the_error(response, 422)
    assert error["source"]["pointer"] == "/data/relationships/language"
    assert (error["code"], error["detail"]) == (
        "retired_language",
        "Asturian (ast) is retired: choose another language.",
    )
    document = track_document(product)
    document["data"]["relationships"].update(language_of("audio-language", "ast"))
    error = the_error(api.post_doc("/api/v1/tracks", document), 422)
    assert error["source"]["pointer"] == "/data/relationships/audio-language"
    assert not Product.objects.filter(language=retired).exists()
    assert not Track.objects.filter(audio_language=retired).exists()


@pytest.mark.parametrize("code", ["ast", "xx-none"])
def test_a_new_row_naming_a_retired_language_by_its_code_alone_is_refused(retired, code):
    """Code setting the language's code itself (not the language) is judged too; a code
    naming no language gets the field's own error, not a crash."""
    track = Track(
        product=make_product(), title="T", isrc_code="ESA112310001", artist=["A"],
        volume_number=1, track_number=1, audio_language_id=code,
    )  # fmt: skip
    product = Product(label=make_label(), name="Album", language_id=code)
    for instance, field in ((track, "audio_language"), (product, "language")):
        with pytest.raises(ValidationError) as failure:
            instance.full_clean()
        expected = (
            "Asturian (ast) is retired: choose another language."
            if code == "ast"
            else f"language instance with code {code!r} is not a valid choice."
        )
        assert expected in failure.value.message_dict[field]


@pytest.mark.parametrize("code", ["a\x00", "\ud800", 5, "x" * 300])
def test_a_code_no_language_has_is_not_looked_up(retired, code, django_assert_num_queries):
    """A code breaking the language code's own rules names no language: nothing to ask
    the database (which refuses a NUL), the language's field says what is wrong."""
    product = Product(label=make_label(), name="Album", language_id=code)
    with django_assert_num_queries(0):
        product.clean()


def test_a_retired_language_stays_where_it_is(api, retired):
    track = make_track(audio_language=retired)
    other = make_track()
    url = f"/api/v1/tracks/{track.pk}"
    resource = {"type": "tracks", "id": str(track.pk), "attributes": {"title": "Kept"}}
    assert api.patch_doc(url, {"data": resource}).status_code == 200
    resource["relationships"] = language_of("audio-language", "ast")  # sent again, unchanged
    assert api.patch_doc(url, {"data": resource}).status_code == 200
    track.refresh_from_db()
    assert (track.title, track.audio_language_id) == ("Kept", "ast")
    moved = {"type": "tracks", "id": str(other.pk), **{"relationships": resource["relationships"]}}
    error = the_error(api.patch_doc(f"/api/v1/tracks/{other.pk}", {"data": moved}), 422)
    assert error["source"]["pointer"] == "/data/relationships/audio-language"
    other.refresh_from_db()
    assert other.audio_language_id == "en"


def test_get_unknown_language_is_404(api):
    response = api.get("/api/v1/languages/xx-nope")
    the_error(response, 404)


def test_list_languages_is_paginated(api):
    response = api.get("/api/v1/languages")
    assert response.status_code == 200
    assert len(response.document["data"]) == 20
    assert response.document["meta"]["page"]["total"] == Language.objects.count()


def test_filter_languages_by_id_list(api):
    response = api.get("/api/v1/languages", {"filter[id]": "en,es"})
    assert response.status_code == 200
    assert ids(response) == ["en", "es"]
    names = [r["attributes"]["name"] for r in response.document["data"]]
    assert names == ["English", "Spanish"]


def test_empty_items_in_an_id_list_are_400(api):
    """Empty items would match nothing silently (django-filter drops them)."""
    response = api.get("/api/v1/languages", {"filter[id]": ",,"})
    assert response.status_code == 400
    assert response.document["errors"][0]["source"] == {"parameter": "filter[id]"}


@pytest.mark.parametrize("value", ["English", "english", "ENGLISH"])
def test_filter_languages_by_name_is_case_insensitive(api, value):
    response = api.get("/api/v1/languages", {"filter[name]": value})
    assert response.status_code == 200
    assert ids(response) == ["en"]


def test_filter_languages_by_name_without_match(api):
    response = api.get("/api/v1/languages", {"filter[name]": "Klingonese"})
    assert response.status_code == 200
    assert ids(response) == []


@pytest.mark.parametrize(
    ("method", "path", "document"),
    [
        ("POST", "/api/v1/languages", {"data": {"type": "languages", "attributes": {"name": "X"}}}),
        (
            "PATCH",
            "/api/v1/languages/en",
            {"data": {"type": "languages", "id": "en", "attributes": {"name": "Inglés"}}},
        ),
        ("DELETE", "/api/v1/languages/en", None),
    ],
)
def test_languages_are_read_only(api, method, path, document):
    count = Language.objects.count()
    response = api.send(method, path, document) if document else api.generic(method, path)
    the_error(response, 405)
    assert Language.objects.count() == count
    assert Language.objects.get(code="en").name == "English"


# Labels: CRUD.


def test_label_crud_through_http(api):
    response = api.post_doc(
        "/api/v1/labels", label_document(name="Beat Records", description="Indie")
    )
    assert response.status_code == 201, response.document
    data = response.document["data"]
    label_id = data["id"]
    assert data["type"] == "labels"
    assert data["attributes"]["name"] == "Beat Records"
    assert data["attributes"]["description"] == "Indie"
    assert data["attributes"]["createdAt"].endswith("Z")
    assert data["attributes"]["updatedAt"].endswith("Z")
    assert response["Location"] == f"http://testserver/api/v1/labels/{label_id}"
    assert Label.objects.get(pk=label_id).name == "Beat Records"

    response = api.get(f"/api/v1/labels/{label_id}")
    assert response.status_code == 200
    assert response.document["data"]["attributes"]["name"] == "Beat Records"

    response = api.patch_doc(
        f"/api/v1/labels/{label_id}", label_document(label_id, description="Independent")
    )
    assert response.status_code == 200, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["name"], attributes["description"]) == ("Beat Records", "Independent")
    assert Label.objects.get(pk=label_id).description == "Independent"

    response = api.delete(f"/api/v1/labels/{label_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Label.objects.filter(pk=label_id).exists()
    the_error(api.get(f"/api/v1/labels/{label_id}"), 404)


def test_create_label_description_is_optional(api):
    response = api.post_doc("/api/v1/labels", label_document(name="Bare"))
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["description"] is None


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"description": "no name"}, "/data/attributes/name"),
        ({"name": 123}, "/data/attributes/name"),
        ({"name": ["Beat"]}, "/data/attributes/name"),
        ({"name": None}, "/data/attributes/name"),
        ({"name": "Beat", "description": 5}, "/data/attributes/description"),
        ({"name": "Beat", "colour": "red"}, "/data/attributes/colour"),
        ({"name": "Beat", "createdAt": "2023-01-01T00:00:00Z"}, "/data/attributes/createdAt"),
    ],
)
def test_create_label_invalid_is_422(api, attributes, pointer):
    response = api.post_doc("/api/v1/labels", label_document(**attributes))
    error = the_error(response, 422)
    assert error["source"] == {"pointer": pointer}
    assert error["title"] == "Unprocessable Entity"
    assert not Label.objects.exists()


def test_create_label_name_required_detail(api):
    response = api.post_doc("/api/v1/labels", label_document(description="x"))
    error = the_error(response, 422)
    assert error["detail"] == "The name field is required."


def test_create_label_duplicate_name_is_409(api):
    make_label(name="Beat Records")
    response = api.post_doc("/api/v1/labels", label_document(name="Beat Records"))
    error = the_error(response, 409)
    assert error["source"] == {"pointer": "/data/attributes/name"}
    assert Label.objects.count() == 1


def test_rename_label_to_existing_name_is_409_and_unchanged(api):
    make_label(name="Beat Records")
    other = make_label(name="Other")
    response = api.patch_doc(
        f"/api/v1/labels/{other.pk}", label_document(other.pk, name="Beat Records")
    )
    error = the_error(response, 409)
    assert error["source"] == {"pointer": "/data/attributes/name"}
    other.refresh_from_db()
    assert other.name == "Other"


def test_patch_label_invalid_type_is_422_and_unchanged(api):
    label = make_label(name="Beat Records")
    response = api.patch_doc(f"/api/v1/labels/{label.pk}", label_document(label.pk, name=42))
    error = the_error(response, 422)
    assert error["source"] == {"pointer": "/data/attributes/name"}
    label.refresh_from_db()
    assert label.name == "Beat Records"


def test_delete_label_with_products_is_409(api):
    label = make_label()
    make_product(label=label)
    response = api.delete(f"/api/v1/labels/{label.pk}")
    error = the_error(response, 409)
    assert "cannot be deleted" in error["detail"]
    assert "product" in error["detail"]
    assert Label.objects.filter(pk=label.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/labels/999999"),
        ("GET", "/api/v1/labels/abc"),
        ("DELETE", "/api/v1/labels/abc"),
        ("GET", "/api/v1/labels/abc/products"),
    ],
)
def test_unknown_or_non_numeric_label_id_is_404(api, method, path):
    label = make_label()
    the_error(api.generic(method, path), 404)
    assert Label.objects.filter(pk=label.pk).exists()


# Labels: the products relationship.


def test_label_products_relationship_links(api):
    label = make_label()
    first, second = make_product(label=label), make_product(label=label)
    make_product()  # another label's product
    base = f"http://testserver/api/v1/labels/{label.pk}"

    response = api.get(f"/api/v1/labels/{label.pk}")
    assert response.document["data"]["relationships"]["products"]["links"] == {
        "self": f"{base}/relationships/products",
        "related": f"{base}/products",
    }

    response = api.get(f"/api/v1/labels/{label.pk}/relationships/products")
    assert response.status_code == 200
    assert sorted(response.document["data"], key=lambda r: int(r["id"])) == [
        {"type": "products", "id": str(first.pk)},
        {"type": "products", "id": str(second.pk)},
    ]

    response = api.get(f"/api/v1/labels/{label.pk}/products")
    assert response.status_code == 200
    assert ids(response) == [str(first.pk), str(second.pk)]
    assert {r["type"] for r in response.document["data"]} == {"products"}


def test_label_include_products(api):
    label = make_label()
    product = make_product(label=label)
    response = api.get(f"/api/v1/labels/{label.pk}", {"include": "products"})
    assert response.status_code == 200
    relationship = response.document["data"]["relationships"]["products"]
    assert relationship["data"] == [{"type": "products", "id": str(product.pk)}]
    included = response.document["included"]
    assert [(r["type"], r["id"]) for r in included] == [("products", str(product.pk))]


def test_label_products_relationship_is_read_only(api):
    label = make_label()
    product = make_product()
    document = {"data": [{"type": "products", "id": str(product.pk)}]}
    response = api.patch_doc(f"/api/v1/labels/{label.pk}/relationships/products", document)
    the_error(response, 403)
    product.refresh_from_db()
    assert product.label_id != label.pk

    response = api.patch_doc(
        f"/api/v1/labels/{label.pk}",
        {"data": {"type": "labels", "id": str(label.pk), "relationships": {"products": document}}},
    )
    error = the_error(response, 422)
    assert error["source"] == {"pointer": "/data/relationships/products"}
    product.refresh_from_db()
    assert product.label_id != label.pk


# Labels: filters.


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("filter[name]", "Beat Records", ["Beat Records"]),
        ("filter[name]", "beat records", []),
        ("filter[name]", "Nobody", []),
        ("filter[name.icontains]", "REC", ["Beat Records", "Records Two"]),
        ("filter[name.icontains]", "zzz", []),
    ],
)
def test_filter_labels_by_name(api, param, value, expected):
    for name in ("Beat Records", "Records Two", "Other"):
        make_label(name=name)
    response = api.get("/api/v1/labels", {param: value})
    assert response.status_code == 200
    assert [r["attributes"]["name"] for r in response.document["data"]] == expected


def test_filter_labels_by_id(api):
    first, _, third = make_label(), make_label(), make_label()
    response = api.get("/api/v1/labels", {"filter[id]": f"{first.pk},{third.pk}"})
    assert response.status_code == 200
    assert sorted(ids(response), key=int) == [str(first.pk), str(third.pk)]


@pytest.mark.parametrize(
    ("param", "value"), [("filter[colour]", "red"), ("filter[id]", "abc"), ("sort", "bpm")]
)
def test_bad_label_query_parameter_is_400(api, param, value):
    response = api.get("/api/v1/labels", {param: value})
    error = the_error(response, 400)
    assert error["source"] == {"parameter": param}
