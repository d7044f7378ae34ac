"""Negative tests for tracks, partial updates, relationship endpoints, sorting and filters."""

import datetime

import pytest

from tests.assertions import errors_by_pointer, ids
from tests.factories import make_label, make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db


def post_invalid(api, document, status, pointer):
    """POST ``document``, expect an error at ``pointer`` and no track written."""
    count = Track.objects.count()
    response = api.post_doc("/api/v1/tracks", document)
    errors = errors_by_pointer(response, status)
    assert pointer in errors, errors
    assert errors[pointer]["status"] == str(status)
    if status == 422:
        assert errors[pointer]["title"] == "Unprocessable Entity"
    assert Track.objects.count() == count
    return errors[pointer]


def row(track):
    return Track.objects.values().get(pk=track.pk)


def patch_document(track, attributes=None, relationships=None):
    data = {"type": "tracks", "id": str(track.pk)}
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = relationships
    return {"data": data}


def patch_invalid(api, track, document, status, pointer):
    """PATCH ``document``, expect an error at ``pointer`` and the row unchanged."""
    before = row(track)
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}", document)
    errors = errors_by_pointer(response, status)
    assert pointer in errors, errors
    assert row(track) == before
    return errors[pointer]


def identifier(resource_type, resource_id):
    return {"data": {"type": resource_type, "id": str(resource_id)}}


@pytest.fixture
def product():
    return make_product()


# Create: required members.

REQUIRED_MEMBERS = [
    ("attributes", "title"),
    ("attributes", "track-number"),
    ("attributes", "volume-number"),
    ("attributes", "isrc-code"),
    ("attributes", "artist"),
    ("relationships", "product"),
    ("relationships", "audio-language"),
]


@pytest.mark.parametrize(("section", "member"), REQUIRED_MEMBERS)
def test_create_required_member_missing(api, product, section, member):
    document = track_document(product)
    del document["data"][section][member]
    error = post_invalid(api, document, 422, f"/data/{section}/{member}")
    assert error["detail"] == f"The {member} field is required."
    assert error["code"] == "required"


@pytest.mark.parametrize(("section", "member"), REQUIRED_MEMBERS)
def test_create_required_member_null(api, product, section, member):
    document = track_document(product)
    if section == "attributes":
        document["data"]["attributes"][member] = None
    else:
        document["data"]["relationships"][member] = {"data": None}
    post_invalid(api, document, 422, f"/data/{section}/{member}")


# Create: wrong types and out-of-range values.


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("track-number", "1"),
        ("track-number", 1.5),
        ("track-number", True),
        ("track-number", 0),
        ("track-number", -1),
        ("track-number", 2**31),
        ("volume-number", True),
        ("volume-number", "1"),
        ("volume-number", 0),
        ("title", 123),
        ("title", ["Track title"]),
        ("title", ""),
        ("title", "x" * 256),
        ("subtitle", 5),
        ("clean", "yes"),
        ("clean", 1),
        ("parental-advisory", 1),
        ("parental-advisory", "true"),
        ("explicit-content", "false"),
        ("preview-start", "30"),
        ("preview-start", 2.5),
        ("preview-start", -5),
        ("preview-end", "60"),
        ("artist", "Artist"),
        ("artist", []),
        ("artist", [""]),
        ("artist", ["  "]),
        ("artist", [1]),
        ("artist", {"name": "Artist"}),
        ("composer", "x"),
        ("composer", [None]),
        ("producer", [""]),
        ("production-date", "14/08/2023"),
        ("production-date", "2023-02-30"),
        ("production-date", 20230814),
        ("lyrics", 42),
        ("production-line", True),
    ],
)
def test_create_invalid_attribute_value_is_422(api, product, member, value):
    document = track_document(product, **{member: value})
    post_invalid(api, document, 422, f"/data/attributes/{member}")


@pytest.mark.parametrize(
    ("member", "value", "pointer"),
    [
        ("title", "a\x00b", "/data/attributes/title"),
        ("lyrics", "\x00", "/data/attributes/lyrics"),
        ("artist", ["A\x00B"], "/data/attributes/artist/0"),
    ],
)
def test_nul_characters_are_refused(api, product, member, value, pointer):
    document = track_document(product, **{member: value})
    post_invalid(api, document, 400, pointer)


# ISRC codes.


@pytest.mark.parametrize(
    "value",
    [
        "XX-123",  # too short and unknown country
        "XXA112310001",  # unknown country code
        "ESA1123",  # too short
        "ESA1123100011",  # too long
        "ESA11231000A",  # designation code is not digits
        "E5A112310001",  # country code is not letters
        "",
        112310001,
    ],
)
def test_create_bad_isrc_is_422(api, product, value):
    document = track_document(product, **{"isrc-code": value})
    error = post_invalid(api, document, 422, "/data/attributes/isrc-code")
    assert error["status"] == "422"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("es-a11-23-10099", "ESA112310099"),
        ("esa112310098", "ESA112310098"),
        (" ES A11 23 10097 ", "ESA112310097"),
    ],
)
def test_isrc_is_stored_normalised(api, product, given, stored):
    response = api.post_doc("/api/v1/tracks", track_document(product, **{"isrc-code": given}))
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["isrc-code"] == stored
    assert Track.objects.get(pk=response.document["data"]["id"]).isrc_code == stored


def test_duplicate_isrc_in_same_product_is_409(api, product):
    make_track(product=product, isrc_code="ESA112310001")
    document = track_document(product, **{"isrc-code": "es-a11-23-10001"})
    error = post_invalid(api, document, 409, "/data/attributes/isrc-code")
    assert error["code"] == "unique"
    assert set(errors_by_pointer(api.post_doc("/api/v1/tracks", document), 409)) == {
        "/data/attributes/isrc-code"
    }


def test_same_isrc_in_another_product_is_allowed(api, product):
    make_track(isrc_code="ESA112310001")  # on its own product
    document = track_document(product, **{"isrc-code": "ESA112310001"})
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 201, response.document
    assert Track.objects.filter(isrc_code="ESA112310001").count() == 2


def test_duplicate_position_in_product_is_409(api, product):
    make_track(product=product, volume_number=1, track_number=3)
    document = track_document(product, **{"volume-number": 1, "track-number": 3})
    error = post_invalid(api, document, 409, "/data/attributes/track-number")
    assert error["code"] == "unique"


def test_same_track_number_on_another_volume_is_allowed(api, product):
    make_track(product=product, volume_number=1, track_number=3)
    document = track_document(product, **{"volume-number": 2, "track-number": 3})
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 201, response.document


# Read-only, unknown and derived members.


def test_create_with_label_relationship_is_422(api, product):
    document = track_document(product)
    document["data"]["relationships"]["label"] = identifier("labels", product.label_id)
    error = post_invalid(api, document, 422, "/data/relationships/label")
    assert "read-only" in error["detail"]


def test_patch_label_relationship_is_422_and_unchanged(api):
    track = make_track()
    other_label = make_label()
    document = patch_document(
        track, {"title": "Changed"}, {"label": identifier("labels", other_label.pk)}
    )
    error = patch_invalid(api, track, document, 422, "/data/relationships/label")
    assert "read-only" in error["detail"]


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("length", 180),
        ("audio16bits", True),
        ("audio24bits", True),
        ("createdAt", "2023-08-11T20:45:15.000000Z"),
        ("updatedAt", "2023-08-11T20:45:15.000000Z"),
    ],
)
def test_read_only_attribute_is_422(api, product, member, value):
    document = track_document(product, **{member: value})
    error = post_invalid(api, document, 422, f"/data/attributes/{member}")
    assert error["code"] == "read_only"
    track = make_track(product=product)
    document = patch_document(track, {member: value})
    patch_invalid(api, track, document, 422, f"/data/attributes/{member}")


def test_unknown_attribute_is_422(api, product):
    document = track_document(product, colour="red")
    error = post_invalid(api, document, 422, "/data/attributes/colour")
    assert error["code"] == "unknown_member"


def test_unknown_relationship_is_422(api, product):
    document = track_document(product)
    document["data"]["relationships"]["album"] = identifier("products", product.pk)
    post_invalid(api, document, 422, "/data/relationships/album")


@pytest.mark.parametrize(("start", "end"), [(30, 30), (30, 10), (None, 20), (0, 0)])
def test_preview_end_not_after_start_is_422(api, product, start, end):
    attributes = {"preview-end": end}
    if start is not None:
        attributes["preview-start"] = start
    document = track_document(product, **attributes)
    post_invalid(api, document, 422, "/data/attributes/preview-end")


def test_preview_end_after_start_is_accepted(api, product):
    document = track_document(product, **{"preview-start": 10, "preview-end": 40})
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert (attributes["preview-start"], attributes["preview-end"]) == (10, 40)


@pytest.mark.parametrize(
    ("member", "linkage"),
    [
        ("product", {"type": "products", "id": "999999"}),
        ("product", {"type": "products", "id": "abc"}),
        ("audio-language", {"type": "languages", "id": "xx-nope"}),
        ("audio-language", {"type": "languages", "id": "EN"}),
    ],
)
def test_relationship_to_missing_resource_is_404(api, product, member, linkage):
    document = track_document(product)
    document["data"]["relationships"][member] = {"data": linkage}
    post_invalid(api, document, 404, f"/data/relationships/{member}")


@pytest.mark.parametrize(
    ("member", "linkage"),
    [
        ("product", {"type": "labels", "id": "1"}),
        ("audio-language", {"type": "products", "id": "en"}),
    ],
)
def test_relationship_of_the_wrong_type_is_409(api, product, member, linkage):
    document = track_document(product)
    document["data"]["relationships"][member] = {"data": linkage}
    post_invalid(api, document, 409, f"/data/relationships/{member}")


@pytest.mark.parametrize(
    ("relationship", "pointer"),
    [
        ({"data": "1"}, "/data/relationships/product/data"),
        ({"data": {"type": "products", "id": 1}}, "/data/relationships/product/data/id"),
        ({"id": "1"}, "/data/relationships/product"),
    ],
)
def test_malformed_relationship_is_400(api, product, relationship, pointer):
    document = track_document(product)
    document["data"]["relationships"]["product"] = relationship
    post_invalid(api, document, 400, pointer)


def test_all_problems_are_reported_at_once(api, product):
    document = track_document(product, **{"isrc-code": "XX-123", "track-number": "1"})
    del document["data"]["attributes"]["title"]
    count = Track.objects.count()
    response = api.post_doc("/api/v1/tracks", document)
    errors = errors_by_pointer(response, 422)
    assert len(response.document["errors"]) == 3
    assert set(errors) == {
        "/data/attributes/title",
        "/data/attributes/isrc-code",
        "/data/attributes/track-number",
    }
    assert all(error["status"] == "422" for error in errors.values())
    assert Track.objects.count() == count


def test_member_errors_and_field_errors_are_reported_together(api, product):
    document = track_document(product, colour="red", length=3, clean="yes")
    document["data"]["relationships"]["label"] = identifier("labels", product.label_id)
    del document["data"]["relationships"]["audio-language"]
    count = Track.objects.count()
    response = api.post_doc("/api/v1/tracks", document)
    errors = errors_by_pointer(response, 422)
    assert set(errors) == {
        "/data/attributes/colour",
        "/data/attributes/length",
        "/data/attributes/clean",
        "/data/relationships/label",
        "/data/relationships/audio-language",
    }
    assert Track.objects.count() == count


# PATCH.


@pytest.mark.parametrize(
    ("member", "value", "field", "stored"),
    [
        ("subtitle", "Live", "subtitle", "Live"),
        ("subtitle", None, "subtitle", None),
        ("composer", ["Ana", "Bo"], "composer", ["Ana", "Bo"]),
        ("clean", True, "is_clean", True),
        ("parental-advisory", True, "parental_advisory", True),
        ("explicit-content", True, "explicit_content", True),
        ("explicit-content", None, "explicit_content", None),
        ("production-date", "2023-08-14", "production_date", datetime.date(2023, 8, 14)),
        ("preview-end", 60, "preview_end", 60),
        ("preview-start", 15, "preview_start", 15),
        ("volume-number", 2, "volume_number", 2),
        ("artist", ["A", "B"], "artist", ["A", "B"]),
        ("production-line", "2023 Records Music", "production_line", "2023 Records Music"),
    ],
)
def test_patch_single_attribute(api, member, value, field, stored):
    track = make_track(explicit_content=False, subtitle="Old")
    before = row(track)
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}", patch_document(track, {member: value}))
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"][member] == value
    after = row(track)
    assert after[field] == stored
    unchanged = {k for k in before if k not in (field, "updated_at")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_patch_product_through_relationships(api):
    track = make_track()
    other = make_product()
    document = patch_document(track, relationships={"product": identifier("products", other.pk)})
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}", document)
    assert response.status_code == 200, response.document
    relationships = response.document["data"]["relationships"]
    assert relationships["product"]["data"] == {"type": "products", "id": str(other.pk)}
    assert relationships["label"]["data"] == {"type": "labels", "id": str(other.label_id)}
    track.refresh_from_db()
    assert track.product_id == other.pk


def test_patch_product_into_conflicting_position_is_409(api):
    track = make_track(volume_number=1, track_number=1)
    other = make_product()
    make_track(product=other, volume_number=1, track_number=1)
    document = patch_document(track, relationships={"product": identifier("products", other.pk)})
    patch_invalid(api, track, document, 409, "/data/attributes/track-number")


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"title": 123}, "/data/attributes/title"),
        ({"title": None}, "/data/attributes/title"),
        ({"track-number": "2"}, "/data/attributes/track-number"),
        ({"track-number": 0}, "/data/attributes/track-number"),
        ({"isrc-code": "bad"}, "/data/attributes/isrc-code"),
        ({"artist": []}, "/data/attributes/artist"),
        ({"composer": "x"}, "/data/attributes/composer"),
        ({"clean": "no"}, "/data/attributes/clean"),
        ({"production-date": "14/08/2023"}, "/data/attributes/production-date"),
        ({"preview-start": 90, "preview-end": 60}, "/data/attributes/preview-end"),
        ({"title": "Fine", "colour": "red"}, "/data/attributes/colour"),
    ],
)
def test_patch_invalid_value_is_422_and_unchanged(api, attributes, pointer):
    track = make_track(title="Kept")
    patch_invalid(api, track, patch_document(track, attributes), 422, pointer)


def test_patch_preview_start_past_the_stored_end_is_409(api):
    """A valid document that the stored preview-end forbids: a conflict with the state."""
    track = make_track(preview_start=10, preview_end=40)
    document = patch_document(track, {"preview-start": 40})
    error = patch_invalid(api, track, document, 409, "/data/attributes/preview-end")
    assert error["code"] == "state_conflict"


def test_patch_preview_end_before_the_stored_start_is_409(api):
    track = make_track(title="Kept")  # preview-start defaults to 30
    document = patch_document(track, {"preview-end": 10})
    patch_invalid(api, track, document, 409, "/data/attributes/preview-end")


def test_patch_duplicate_isrc_is_409_and_unchanged(api, product):
    make_track(product=product, isrc_code="ESA112310001")
    track = make_track(product=product, isrc_code="ESA112310002")
    document = patch_document(track, {"isrc-code": "ESA112310001"})
    patch_invalid(api, track, document, 409, "/data/attributes/isrc-code")


def test_patch_duplicate_position_is_409_and_unchanged(api, product):
    make_track(product=product, volume_number=1, track_number=1)
    track = make_track(product=product, volume_number=1, track_number=2)
    document = patch_document(track, {"track-number": 1})
    patch_invalid(api, track, document, 409, "/data/attributes/track-number")


def test_patch_with_mismatched_id_is_409_and_unchanged(api):
    track = make_track(title="Kept")
    document = {"data": {"type": "tracks", "id": "999999", "attributes": {"title": "New"}}}
    patch_invalid(api, track, document, 409, "/data/id")


# Relationship endpoints.


def test_patch_product_relationship_endpoint(api):
    track = make_track()
    other = make_product()
    url = f"/api/v1/tracks/{track.pk}/relationships/product"
    response = api.patch_doc(url, identifier("products", other.pk))
    assert response.status_code == 200, response.document
    assert response.document["data"] == {"type": "products", "id": str(other.pk)}
    assert response.document["links"]["self"] == f"http://testserver{url}"
    track.refresh_from_db()
    assert track.product_id == other.pk
    response = api.get(f"/api/v1/tracks/{track.pk}/relationships/label")
    assert response.document["data"] == {"type": "labels", "id": str(other.label_id)}


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"data": {"type": "products", "id": "999999"}}, 404),
        ({"data": {"type": "labels", "id": "1"}}, 409),
        ({"data": None}, 422),
    ],
)
def test_patch_product_relationship_endpoint_invalid(api, document, status):
    track = make_track()
    url = f"/api/v1/tracks/{track.pk}/relationships/product"
    before = row(track)
    response = api.patch_doc(url, document)
    errors = errors_by_pointer(response, status)
    assert set(errors) == {"/data"}
    assert row(track) == before


def test_patch_label_relationship_endpoint_is_403(api):
    track = make_track()
    other_label = make_label()
    before = row(track)
    url = f"/api/v1/tracks/{track.pk}/relationships/label"
    response = api.patch_doc(url, identifier("labels", other_label.pk))
    errors = errors_by_pointer(response, 403)
    assert set(errors) == {"/data"}
    assert row(track) == before
    track.product.refresh_from_db()
    assert track.product.label_id != other_label.pk


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/tracks/abc"),
        ("PATCH", "/api/v1/tracks/abc"),
        ("DELETE", "/api/v1/tracks/abc"),
        ("GET", "/api/v1/tracks/abc/relationships/product"),
        ("PATCH", "/api/v1/tracks/abc/relationships/product"),
        ("GET", "/api/v1/tracks/abc/product"),
        ("GET", "/api/v1/tracks/99999999999999999999"),
    ],
)
def test_non_numeric_or_out_of_range_id_in_url_is_404(api, method, path):
    track = make_track()
    before = row(track)
    if method == "PATCH":
        document = {"data": {"type": "tracks", "id": "abc", "attributes": {"title": "New"}}}
        if "relationships" in path:
            document = identifier("products", make_product().pk)
        response = api.patch_doc(path, document)
    else:
        response = api.generic(method, path)
    assert response.status_code == 404, response.document
    assert response.document["errors"][0]["status"] == "404"
    assert Track.objects.count() == 1
    assert row(track) == before


def test_unknown_relationship_endpoint_is_404(api):
    track = make_track()
    response = api.get(f"/api/v1/tracks/{track.pk}/relationships/colour")
    assert response.status_code == 404
    assert response.document["errors"][0]["status"] == "404"


# Sorting and filtering.


@pytest.fixture
def three_tracks(product):
    return [
        make_track(product=product, title="Bravo", track_number=2),
        make_track(product=product, title="Charlie", track_number=1),
        make_track(product=product, title="Alpha", track_number=3),
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("title", [2, 0, 1]),
        ("-title", [1, 0, 2]),
        ("track-number", [1, 0, 2]),
        ("-track-number", [2, 0, 1]),
        ("createdAt", [0, 1, 2]),
        ("-createdAt", [2, 1, 0]),
        ("title,-title", [2, 0, 1]),  # a repeated key is redundant, not an error
    ],
)
def test_sort_tracks(api, three_tracks, sort, order):
    response = api.get("/api/v1/tracks", {"sort": sort})
    assert response.status_code == 200, response.document
    assert ids(response) == [str(three_tracks[i].pk) for i in order]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("sort", "tempo"),
        ("sort", "isrc-code"),
        ("sort", "title,"),
        ("filter[colour]", "red"),
        ("filter[track-number]", "one"),
        ("filter[product-id]", "abc"),
        ("filter[id]", "1,x"),
        ("include", "masters"),
        ("fields[tracks]", "colour"),
        ("page[size]", "101"),
        ("titel", "x"),
    ],
)
def test_bad_query_parameter_is_400(api, three_tracks, param, value):
    response = api.get("/api/v1/tracks", {param: value})
    assert response.status_code == 400, response.document
    [error] = response.document["errors"]
    assert error["source"] == {"parameter": param}
    assert error["status"] == "400"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("love", ["Love song", "Lovely day"]), ("LOVE S", ["Love song"]), ("zzz", [])],
)
def test_filter_title_icontains(api, product, value, expected):
    for title in ("Love song", "Lovely day", "Other"):
        make_track(product=product, title=title)
    response = api.get("/api/v1/tracks", {"filter[title.icontains]": value})
    assert response.status_code == 200
    assert [r["attributes"]["title"] for r in response.document["data"]] == expected


def test_filter_title_is_exact(api, product):
    make_track(product=product, title="Love song")
    response = api.get("/api/v1/tracks", {"filter[title]": "love song"})
    assert response.status_code == 200
    assert ids(response) == []


def test_filter_isrc_accepts_any_spelling(api, product):
    track = make_track(product=product, isrc_code="ESA112310001")
    make_track(product=product)
    response = api.get("/api/v1/tracks", {"filter[isrc-code]": "es-a11-23-10001"})
    assert ids(response) == [str(track.pk)]
