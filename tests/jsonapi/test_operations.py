"""JSON:API Atomic Operations at /api/v1/operations, through HTTP: a catalog and a
Soundcheck track created in one request with lids, all or nothing, errors rooted at the
failing operation, the same permissions as the resources' own endpoints, lid checks,
ref and href forms, relationship operations, negotiation and the limit."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from products.models import Label, Product
from soundcheck.models import Check, SoundcheckTrack
from tests.client import JsonApiClient
from tests.factories import add_member, isrc, make_label, make_product, make_track
from tests.schema import assert_valid_document
from tracks.models import Track

pytestmark = pytest.mark.django_db
OPERATIONS = "/api/v1/operations"
ATOMIC = 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"'


class AtomicClient(Client):
    """Sends operations documents and checks every answer: the extension's media type,
    and each result's resource (or the errors) valid against the official schema, which
    knows no extension members."""

    def __init__(self, token=None, **defaults):
        if token is not None:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        defaults.setdefault("HTTP_ACCEPT", ATOMIC)
        super().__init__(**defaults)

    def operations(self, *operations, content_type=ATOMIC, **extra):
        body = json.dumps({"atomic:operations": list(operations)})
        response = self.post(OPERATIONS, body, content_type=content_type, **extra)
        response.document = json.loads(response.content) if response.content else None
        assert "Accept" in response["Vary"]
        if response.document is not None:
            assert response.document["jsonapi"] == {"version": "1.1"}
            for result in response.document.get("atomic:results", []):
                if "data" in result:
                    assert_valid_document({"data": result["data"]})
            if "errors" in response.document:
                assert_valid_document(response.document)
        return response


@pytest.fixture
def atomic(admin_user, make_token):
    return AtomicClient(make_token(admin_user))


def the_errors(response, status):
    assert response.status_code == status, response.document
    assert response["Content-Type"] == ATOMIC
    return {error["source"]["pointer"]: error for error in response.document["errors"]}


def track_add(n, product_lid="product", **attributes):
    return {
        "op": "add",
        "data": {
            "type": "tracks",
            "lid": f"track-{n}",
            "attributes": {
                "title": f"Song {n}",
                "track-number": n,
                "volume-number": 1,
                "isrc-code": isrc(9000 + n),
                "artist": ["The Band"],
                **attributes,
            },
            "relationships": {
                "product": {"data": {"type": "products", "lid": product_lid}},
                "audio-language": {"data": {"type": "languages", "id": "en"}},
            },
        },
    }


def catalog_operations(tracks=20):
    return [
        {
            "op": "add",
            "data": {"type": "labels", "lid": "label", "attributes": {"name": "Atomic Records"}},
        },
        {
            "op": "add",
            "data": {
                "type": "products",
                "lid": "product",
                "attributes": {"name": "Everything at once"},
                "relationships": {
                    "label": {"data": {"type": "labels", "lid": "label"}},
                    "language": {"data": {"type": "languages", "id": "en"}},
                },
            },
        },
        *(track_add(n) for n in range(1, tracks + 1)),
    ]


def test_a_label_a_product_and_twenty_tracks_in_one_request(atomic, api):
    response = atomic.operations(*catalog_operations())
    assert response.status_code == 200, response.document
    assert response["Content-Type"] == ATOMIC
    results = response.document["atomic:results"]
    assert [r["data"]["type"] for r in results] == ["labels", "products"] + ["tracks"] * 20
    product_id = results[1]["data"]["id"]
    assert results[1]["data"]["relationships"]["label"]["data"]["id"] == results[0]["data"]["id"]
    # Each result is what the resource's own endpoint answers.
    for result in results:
        own = api.get(result["data"]["links"]["self"].removeprefix("http://testserver"))
        assert own.document["data"]["attributes"] == result["data"]["attributes"]
    tracks = api.get(f"/api/v1/products/{product_id}/tracks?page[size]=100").document["data"]
    assert sorted(t["attributes"]["title"] for t in tracks) == sorted(
        f"Song {n}" for n in range(1, 21)
    )


def test_soundcheck_checks_and_tracks_in_one_request(atomic):
    response = atomic.operations(
        {
            "op": "add",
            "data": {"type": "checks", "id": "has-readme", "attributes": {"name": "Has a README"}},
        },
        {
            "op": "add",
            "data": {
                "type": "soundcheck-tracks",
                "id": "basics",
                "attributes": {
                    "name": "Basics",
                    "description": "The basics",
                    "owner-entity-ref": "group:platform",
                    "levels": [
                        {
                            "ordinal": 1,
                            "name": "One",
                            "checks": [
                                {"id": "has-readme"},
                                {"id": "has-owner", "name": "Has an owner"},
                            ],
                        }
                    ],
                },
            },
        },
    )
    assert response.status_code == 200, response.document
    assert [r["data"]["id"] for r in response.document["atomic:results"]] == [
        "has-readme",
        "basics",
    ]
    assert set(Check.objects.values_list("slug", flat=True)) == {"has-readme", "has-owner"}
    assert SoundcheckTrack.objects.get().levels.get().level_checks.count() == 2


def test_a_failure_in_operation_17_writes_nothing_and_points_at_it(atomic):
    operations = catalog_operations(tracks=18)
    operations[17]["data"]["attributes"]["isrc-code"] = "not an isrc"
    errors = the_errors(atomic.operations(*operations), 422)
    assert list(errors) == ["/atomic:operations/17/data/attributes/isrc-code"]
    assert not Label.objects.exists() and not Product.objects.exists()
    assert not Track.objects.exists()


def test_a_duplicate_within_the_request_is_409_at_its_operation_and_writes_nothing(atomic):
    """The database refuses the second track's INSERT (uniqueness is left to it); the
    operation is then validated completely, inside the same transaction, and answers as a
    single POST would: both rules it breaks, at its members."""
    operations = catalog_operations(tracks=3)
    duplicate = operations[4]["data"]["attributes"]
    duplicate["isrc-code"] = operations[3]["data"]["attributes"]["isrc-code"]
    duplicate["track-number"] = operations[3]["data"]["attributes"]["track-number"]
    errors = the_errors(atomic.operations(*operations), 409)
    assert set(errors) == {
        "/atomic:operations/4/data/attributes/isrc-code",
        "/atomic:operations/4/data/attributes/track-number",
    }
    assert {error["code"] for error in errors.values()} == {"unique"}
    assert not Label.objects.exists() and not Product.objects.exists()
    assert not Track.objects.exists()


def test_adds_of_one_type_naming_each_other_by_lid(atomic):
    """Consecutive track adds are inserted together, except where one names another's
    lid (a stem of a track created just before): that one waits for its parent's id. The
    results keep the operations' order."""
    operations = catalog_operations(tracks=4)
    stem = operations[4]["data"]
    stem["attributes"]["stem-category"] = "bass"
    stem["relationships"]["stem-of"] = {"data": {"type": "tracks", "lid": "track-2"}}
    response = atomic.operations(*operations)
    assert response.status_code == 200, response.document
    results = [result["data"] for result in response.document["atomic:results"]]
    titles = [data["attributes"].get("title") for data in results[2:]]
    assert titles == ["Song 1", "Song 2", "Song 3", "Song 4"]
    parent = Track.objects.get(pk=results[3]["id"])
    assert Track.objects.get(pk=results[4]["id"]).stem_of == parent
    assert results[4]["relationships"]["stem-of"]["data"]["id"] == str(parent.pk)


def test_an_add_with_a_to_many_relationship_among_batched_adds(atomic):
    """An add that sets a to-many relationship (remix-of) is saved by its endpoint at
    once, between adds inserted together later: every result is in its place."""
    original = make_track()
    operations = catalog_operations(tracks=4)
    operations[3]["data"]["relationships"]["remix-of"] = {
        "data": [{"type": "tracks", "id": str(original.pk)}]
    }
    response = atomic.operations(*operations)
    assert response.status_code == 200, response.document
    results = [result["data"] for result in response.document["atomic:results"]]
    titles = [data["attributes"]["title"] for data in results[2:]]
    assert titles == ["Song 1", "Song 2", "Song 3", "Song 4"]
    remix = Track.objects.get(pk=results[3]["id"])
    assert list(remix.remix_of.all()) == [original]
    assert Track.objects.filter(product__name="Everything at once").count() == 4


def test_updates_and_removes_by_ref_and_by_href(atomic, api):
    product = make_product()
    first, second = make_track(product=product), make_track(product=product)
    response = atomic.operations(
        {
            "op": "update",
            "ref": {"type": "tracks", "id": str(first.pk)},
            "data": {"type": "tracks", "id": str(first.pk), "attributes": {"title": "By ref"}},
        },
        {
            "op": "update",
            "href": f"/api/v1/tracks/{second.pk}",
            "data": {"type": "tracks", "id": str(second.pk), "attributes": {"title": "By href"}},
        },
        {
            "op": "update",
            "data": {"type": "tracks", "id": str(first.pk), "attributes": {"artist": ["Solo"]}},
        },
        {"op": "remove", "href": f"/api/v1/tracks/{second.pk}"},
    )
    assert response.status_code == 200, response.document
    results = response.document["atomic:results"]
    assert results[0]["data"]["attributes"]["title"] == "By ref"
    assert results[1]["data"]["attributes"]["title"] == "By href"
    assert results[2]["data"]["attributes"]["artist"] == ["Solo"]
    assert results[3] == {}
    assert list(Track.objects.values_list("title", flat=True)) == ["By ref"]


def test_only_removes_answer_204(atomic):
    label = make_label()
    response = atomic.operations({"op": "remove", "ref": {"type": "labels", "id": str(label.pk)}})
    assert response.status_code == 204 and not response.content
    assert not Label.objects.exists()


def test_a_to_one_relationship_is_updated_and_results_carry_no_data(atomic):
    track = make_track()
    other = make_product(label=track.product.label)
    response = atomic.operations(
        {
            "op": "update",
            "ref": {"type": "tracks", "id": str(track.pk), "relationship": "product"},
            "data": {"type": "products", "id": str(other.pk)},
        },
    )
    assert response.status_code == 204, response.document
    track.refresh_from_db()
    assert track.product == other


def test_a_relationship_to_a_product_added_by_lid(atomic):
    track = make_track()
    response = atomic.operations(
        {
            "op": "add",
            "data": {
                "type": "products",
                "lid": "p",
                "attributes": {"name": "New"},
                "relationships": {
                    "label": {"data": {"type": "labels", "id": str(track.product.label.pk)}},
                    "language": {"data": {"type": "languages", "id": "en"}},
                },
            },
        },
        {
            "op": "update",
            "ref": {"type": "tracks", "id": str(track.pk), "relationship": "product"},
            "data": {"type": "products", "lid": "p"},
        },
    )
    assert response.status_code == 200, response.document
    new_id = response.document["atomic:results"][0]["data"]["id"]
    assert response.document["atomic:results"][1] == {}
    track.refresh_from_db()
    assert str(track.product_id) == new_id


@pytest.mark.parametrize("op", ["add", "remove"])
def test_to_many_members_cannot_be_added_or_removed(atomic, op):
    product = make_product()
    track = make_track()
    response = atomic.operations(
        {
            "op": op,
            "ref": {"type": "products", "id": str(product.pk), "relationship": "tracks"},
            "data": [{"type": "tracks", "id": str(track.pk)}],
        },
    )
    errors = the_errors(response, 403)
    assert errors["/atomic:operations/0/op"]["code"] == "operation_forbidden"


def test_an_update_names_its_resource_by_a_declared_lid(atomic):
    response = atomic.operations(
        {"op": "add", "data": {"type": "labels", "lid": "l", "attributes": {"name": "One"}}},
        {"op": "update", "data": {"type": "labels", "lid": "l", "attributes": {"name": "Two"}}},
    )
    assert response.status_code == 200, response.document
    assert list(Label.objects.values_list("name", flat=True)) == ["Two"]
    for lid, code in (("nowhere", "unknown_lid"), (["not", "a", "string"], "invalid_operation")):
        update = {"op": "update", "data": {"type": "labels", "lid": lid, "attributes": {}}}
        errors = the_errors(atomic.operations(update), 400)
        assert errors["/atomic:operations/0/data/lid"]["code"] == code


@pytest.mark.parametrize(
    ("operations", "pointer", "code"),
    [
        (
            [
                {"op": "add", "data": {"type": "labels", "lid": "a", "attributes": {"name": "A"}}},
                {"op": "add", "data": {"type": "labels", "lid": "a", "attributes": {"name": "B"}}},
            ],
            "/atomic:operations/1/data/lid",
            "duplicate_lid",
        ),
        (
            [{"op": "remove", "ref": {"type": "labels", "lid": "nowhere"}}],
            "/atomic:operations/0/ref/lid",
            "unknown_lid",
        ),
        (
            [
                {"op": "add", "data": {"type": "labels", "lid": "a", "attributes": {"name": "A"}}},
                {"op": "remove", "ref": {"type": "products", "lid": "a"}},
            ],
            "/atomic:operations/1/ref/lid",
            "lid_type_conflict",
        ),
        (
            [
                {
                    "op": "add",
                    "data": {
                        "type": "products",
                        "attributes": {"name": "P"},
                        "relationships": {"label": {"data": {"type": "labels", "lid": "later"}}},
                    },
                },
                {
                    "op": "add",
                    "data": {"type": "labels", "lid": "later", "attributes": {"name": "L"}},
                },
            ],
            "/atomic:operations/0/data/relationships/label/data/lid",
            "unknown_lid",
        ),
        (
            [
                {
                    "op": "add",
                    "data": {
                        "type": "products",
                        "lid": "self",
                        "attributes": {"name": "P"},
                        "relationships": {"label": {"data": {"type": "products", "lid": "self"}}},
                    },
                }
            ],
            "/atomic:operations/0/data/relationships/label/data/lid",
            "unknown_lid",
        ),
    ],
)
def test_lids_are_checked_before_anything_is_written(atomic, operations, pointer, code):
    errors = the_errors(atomic.operations(*operations), 400)
    assert errors[pointer]["code"] == code
    assert not Label.objects.exists() and not Product.objects.exists()


@pytest.mark.parametrize(
    ("operation", "status", "pointer"),
    [
        (
            {"op": "add", "data": {"type": "unicorns", "attributes": {}}},
            400,
            "/atomic:operations/0/data/type",
        ),
        (
            {"op": "remove", "ref": {"type": "unicorns", "id": "1"}},
            400,
            "/atomic:operations/0/ref/type",
        ),
        ({"op": "upsert", "data": {"type": "labels"}}, 400, "/atomic:operations/0/op"),
        (
            {"op": "remove", "ref": {"type": "labels", "id": "1"}, "href": "/api/v1/labels/1"},
            400,
            "/atomic:operations/0/href",
        ),
        ({"op": "remove", "ref": {"type": "labels"}}, 400, "/atomic:operations/0/ref"),
        ({"op": "remove", "href": "https://elsewhere.example/x"}, 400, "/atomic:operations/0/href"),
        (
            {"op": "remove", "href": "/api/v1/labels/1?cascade=true"},
            400,
            "/atomic:operations/0/href",
        ),
        ({"op": "remove", "href": "/api/v1/nothing-here/1"}, 404, "/atomic:operations/0/href"),
        ({"op": "remove", "href": "/api/v1/labels/999999"}, 404, "/atomic:operations/0/href"),
        (
            {"op": "remove", "ref": {"type": "labels", "id": "999999"}},
            404,
            "/atomic:operations/0/ref",
        ),
        ({"op": "add", "data": ["not", "a", "resource"]}, 400, "/atomic:operations/0/data"),
        ({"op": "update", "ref": {"type": "labels", "id": "1"}}, 400, "/atomic:operations/0"),
        ("not an object", 400, "/atomic:operations/0"),
        (
            {"op": "remove", "href": "http://[broken/api/v1/labels/1"},
            400,
            "/atomic:operations/0/href",
        ),
        (
            {
                "op": "update",
                "ref": {"type": "tracks", "id": "1/relationships/product"},
                "data": None,
            },
            404,
            "/atomic:operations/0/ref/id",
        ),
    ],
)
def test_malformed_and_unknown_targets(atomic, operation, status, pointer):
    errors = the_errors(atomic.operations(operation), status)
    assert pointer in errors, errors


def test_read_only_types_stay_read_only(atomic):
    errors = the_errors(
        atomic.operations(
            {"op": "add", "data": {"type": "languages", "id": "xx", "attributes": {}}}
        ),
        403,
    )
    assert errors["/atomic:operations/0/data"]["code"] == "operation_forbidden"
    errors = the_errors(
        atomic.operations({"op": "remove", "ref": {"type": "languages", "id": "en"}}), 403
    )
    assert "/atomic:operations/0/ref" in errors


def test_a_read_only_token_is_refused_at_the_operation(admin_user, make_token):
    reader = AtomicClient(make_token(admin_user, "read"))
    errors = the_errors(
        reader.operations({"op": "add", "data": {"type": "labels", "attributes": {"name": "No"}}}),
        403,
    )
    assert "/atomic:operations/0/data" in errors
    assert not Label.objects.exists()


def test_model_permissions_apply_per_operation(organization, make_token, django_user_model):
    user = django_user_model.objects.create_user("label-maker")
    user.user_permissions.set(Permission.objects.filter(codename="add_label"))
    add_member(user, organization, "editor")
    client = AtomicClient(make_token(user))
    response = client.operations(
        {"op": "add", "data": {"type": "labels", "lid": "l", "attributes": {"name": "Ok"}}},
        {
            "op": "add",
            "data": {
                "type": "products",
                "attributes": {"name": "Not allowed"},
                "relationships": {"label": {"data": {"type": "labels", "lid": "l"}}},
            },
        },
    )
    errors = the_errors(response, 403)
    assert "/atomic:operations/1/data" in errors
    assert not Label.objects.exists()


def test_another_organizations_resources_do_not_exist(atomic):
    from tests.factories import make_organization

    foreign = make_label(organization=make_organization())
    errors = the_errors(
        atomic.operations({"op": "remove", "ref": {"type": "labels", "id": str(foreign.pk)}}), 404
    )
    assert "/atomic:operations/0/ref" in errors
    assert Label.objects.filter(pk=foreign.pk).exists()


def test_the_limit_of_operations(atomic, settings):
    settings.ATOMIC_MAX_OPERATIONS = 3
    operations = [
        {"op": "add", "data": {"type": "labels", "attributes": {"name": f"L{n}"}}} for n in range(4)
    ]
    error = the_errors(atomic.operations(*operations), 400)["/atomic:operations"]
    assert "at most 3" in error["detail"]
    assert atomic.operations(*operations[:3]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        '{"atomic:operations": []}',
        '{"data": {}}',
        "[]",
        '{"atomic:operations": [], "included": []}',
        "not json",
    ],
)
def test_malformed_documents_are_400s(atomic, body):
    response = atomic.post(OPERATIONS, body, content_type=ATOMIC)
    assert response.status_code == 400
    assert json.loads(response.content)["errors"]


def test_negotiation(atomic, admin_user, make_token):
    names = iter(range(100))

    def operation():
        return {"op": "add", "data": {"type": "labels", "attributes": {"name": f"N{next(names)}"}}}

    plain = atomic.operations(operation(), content_type="application/vnd.api+json")
    assert plain.status_code == 415
    other = atomic.operations(operation(), content_type=f'{ATOMIC[:-1]} https://example.com/x"')
    assert other.status_code == 415
    for accept in ("application/vnd.api+json", "text/html", f"{ATOMIC};q=0"):
        response = atomic.operations(operation(), HTTP_ACCEPT=accept)
        assert response.status_code == 406, accept
    for accept in ("*/*", f"text/html, {ATOMIC}", "application/*"):
        assert atomic.operations(operation(), HTTP_ACCEPT=accept).status_code == 200, accept
    assert Label.objects.count() == 3
    # The other endpoints keep refusing the extension.
    resources = JsonApiClient(make_token(admin_user))
    document = {"data": {"type": "labels", "attributes": {"name": "Else"}}}
    assert (
        resources.send("POST", "/api/v1/labels", document, content_type=ATOMIC).status_code == 415
    )


def test_anonymous_requests_are_401s():
    response = AtomicClient().operations({"op": "remove", "ref": {"type": "labels", "id": "1"}})
    assert response.status_code == 401


def test_query_parameters_are_400s(atomic):
    response = atomic.post(
        f"{OPERATIONS}?include=product", '{"atomic:operations": []}', content_type=ATOMIC
    )
    assert response.status_code == 400
