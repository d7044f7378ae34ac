"""The top level of a request document, by JSON:API 1.1 (Document Structure, Top Level).

``data`` is required and ``errors`` must not come with it; ``meta``, ``jsonapi`` and
``links`` are objects; ``included`` is refused (no sideposting) rather than dropped; members
the specification does not define are ignored, as it says implementations must.
"""

import pytest

from tests.factories import make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db

ERRORS = [{"status": "422", "title": "Unprocessable Entity"}]


def the_400(response, pointer):
    assert response.status_code == 400, response.document
    [error] = response.document["errors"]
    assert error["source"] == {"pointer": pointer}
    return error


def with_members(document, **members):
    return {**document, **members}


@pytest.mark.parametrize(
    ("members", "pointer"),
    [
        ({"errors": ERRORS}, "/errors"),
        ({"errors": []}, "/errors"),
        ({"meta": []}, "/meta"),
        ({"meta": "x"}, "/meta"),
        ({"jsonapi": "1.1"}, "/jsonapi"),
        ({"links": None}, "/links"),
        ({"included": []}, "/included"),
        (
            {"included": [{"type": "products", "lid": "p1", "attributes": {"name": "x"}}]},
            "/included",
        ),
    ],
)
def test_create_with_a_bad_top_level_member_is_400(api, members, pointer):
    document = with_members(track_document(make_product()), **members)
    the_400(api.post_doc("/api/v1/tracks", document), pointer)
    assert not Track.objects.exists()


def test_data_and_errors_together_are_400_on_update(api):
    track = make_track(title="Before")
    data = {"type": "tracks", "id": str(track.pk), "attributes": {"title": "After"}}
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}", {"data": data, "errors": ERRORS})
    error = the_400(response, "/errors")
    assert "errors" in error["detail"]
    track.refresh_from_db()
    assert track.title == "Before"


def test_data_and_errors_together_are_400_on_a_relationship(api):
    track, other = make_track(), make_product()
    document = {"data": {"type": "products", "id": str(other.pk)}, "errors": ERRORS}
    response = api.patch_doc(f"/api/v1/tracks/{track.pk}/relationships/product", document)
    the_400(response, "/errors")
    track.refresh_from_db()
    assert track.product_id != other.pk


@pytest.mark.parametrize("document", [{"errors": ERRORS}, {"meta": {"a": 1}}, {}, []])
def test_a_request_without_data_is_400(api, document):
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 400
    assert not Track.objects.exists()


def test_defined_optional_members_are_accepted(api):
    document = with_members(
        track_document(make_product()),
        meta={"client": "tests"},
        jsonapi={"version": "1.1"},
        links={"self": "https://example.com/tracks"},
    )
    assert api.post_doc("/api/v1/tracks", document).status_code == 201, document


@pytest.mark.parametrize(
    "members", [{"foo": 1}, {"@context": "https://example.com"}, {"atomic:operations": []}]
)
def test_members_the_spec_does_not_define_are_ignored(api, members):
    document = with_members(track_document(make_product()), **members)
    response = api.post_doc("/api/v1/tracks", document)
    assert response.status_code == 201, response.document
    assert Track.objects.count() == 1
