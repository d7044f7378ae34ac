"""Writes run a fixed, small number of SQL statements (README, Performance).

A track create is five: the token (read with the organization its application is bound
to and the user's role there), the product, the language, the INSERT and the re-read its
document is rendered from. Field
rules and check constraints are decided in Python, a related row just read is not asked
for again, and uniqueness is left to the database's constraints; a clash is then
validated completely, so its answer is the one it always was. The transaction's own
statements (SAVEPOINT and RELEASE inside a test's transaction, BEGIN and COMMIT
otherwise) are not counted.
"""

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.assertions import errors_by_pointer
from tests.factories import make_label, make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db

TRANSACTION = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK|BEGIN|COMMIT)\b")

TOKEN = ("SELECT", "oauth2_provider_accesstoken")
ORGANIZATION = ("SELECT", "organizations_organization")


def statements(captured):
    """(verb, table) of every statement but the transaction's own, in order."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if TRANSACTION.match(sql):
            continue
        verb = sql.split()[0]
        # The table written, or the table of the first column read.
        table = re.match(r'(?:INSERT INTO|UPDATE|DELETE FROM) "(\w+)"', sql) or re.search(
            r'"(\w+)"\.', sql
        )
        found.append((verb, table[1] if table else sql[:60]))
    return found


def send(api, method, url, document):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(api, f"{method}_doc")(url, document)
    assert response.status_code in (200, 201), response.document
    return statements(captured)


def patch(track, attributes=None, relationships=None):
    data = {"type": "tracks", "id": str(track.pk)}
    if attributes:
        data["attributes"] = attributes
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


def test_track_create_is_five_statements(api):
    product = make_product()
    assert send(api, "post", "/api/v1/tracks", track_document(product)) == [
        TOKEN,
        ("SELECT", "products_product"),
        ("SELECT", "products_language"),
        ("INSERT", "tracks_track"),
        ("SELECT", "tracks_track"),
    ]


def test_track_create_with_every_audius_rule_in_play_adds_only_the_stems_own(api):
    """Gates with their conditions, a preview window, a stem with its category: every
    check constraint of a track is decided without a query. A stem costs its parent's
    row and the rule that it is a track of the same organization (Track.clean)."""
    product = make_product()
    parent = make_track(product=product)
    document = track_document(
        product,
        **{
            "preview-start": 10,
            "preview-end": 40,
            "bpm": 120.5,
            "is-stream-gated": True,
            "stream-conditions": {"follow-user-id": 7},
            "stem-category": "bass",
        },
    )
    document["data"]["relationships"]["stem-of"] = {
        "data": {"type": "tracks", "id": str(parent.pk)}
    }
    found = send(api, "post", "/api/v1/tracks", document)
    assert found == [
        TOKEN,
        ("SELECT", "products_product"),
        ("SELECT", "products_language"),
        ("SELECT", "tracks_track"),  # stem-of
        ("SELECT", "tracks_track"),  # stem-of is of the same organization
        ("INSERT", "tracks_track"),
        ("SELECT", "tracks_track"),
    ]


def test_track_patch_of_attributes_is_four_statements(api):
    track = make_track()
    url = f"/api/v1/tracks/{track.pk}"
    assert send(api, "patch", url, patch(track, {"title": "New", "bpm": 90})) == [
        TOKEN,
        ("SELECT", "tracks_track"),  # the row, locked for the change
        ("UPDATE", "tracks_track"),
        ("SELECT", "tracks_track"),
    ]


def test_track_patch_moving_it_to_another_product_is_five_statements(api):
    track = make_track()
    other = make_product()
    relationships = {"product": {"data": {"type": "products", "id": str(other.pk)}}}
    found = send(api, "patch", f"/api/v1/tracks/{track.pk}", patch(track, None, relationships))
    assert found == [
        TOKEN,
        ("SELECT", "tracks_track"),
        ("SELECT", "products_product"),
        ("UPDATE", "tracks_track"),
        ("SELECT", "tracks_track"),
    ]
    assert Track.objects.get(pk=track.pk).product == other


def test_product_create_is_five_statements(api):
    label = make_label()
    document = {
        "data": {
            "type": "products",
            "attributes": {"name": "Album", "upc-code": "012345678905"},
            "relationships": {
                "label": {"data": {"type": "labels", "id": str(label.pk)}},
                "language": {"data": {"type": "languages", "id": "en"}},
            },
        }
    }
    assert send(api, "post", "/api/v1/products", document) == [
        TOKEN,
        ("SELECT", "products_label"),
        ("SELECT", "products_language"),
        ("INSERT", "products_product"),
        ("SELECT", "products_product"),
    ]


def test_a_token_of_no_organization_reads_the_organization_it_names(
    admin_user, make_token, organization
):
    """An application bound to no organization: the X-Organization header names one, read
    with the user's role there in a statement of its own."""
    from tests.client import JsonApiClient

    token = make_token(admin_user, organization=None)
    api = JsonApiClient(token, HTTP_X_ORGANIZATION=organization.slug)
    track = make_track()
    url = f"/api/v1/tracks/{track.pk}"
    assert send(api, "patch", url, patch(track, {"title": "New"})) == [
        TOKEN,
        ORGANIZATION,
        ("SELECT", "tracks_track"),
        ("UPDATE", "tracks_track"),
        ("SELECT", "tracks_track"),
    ]


def test_a_create_breaking_two_uniqueness_rules_names_both(api):
    """The database reports the first rule it meets; the complete validation that follows
    names every rule broken, as validation before the INSERT always did."""
    product = make_product()
    make_track(product=product, isrc_code="ESA112310001", volume_number=1, track_number=4)
    document = track_document(
        product, **{"isrc-code": "ESA112310001", "volume-number": 1, "track-number": 4}
    )
    response = api.post_doc("/api/v1/tracks", document)
    errors = errors_by_pointer(response, 409)
    assert set(errors) == {"/data/attributes/isrc-code", "/data/attributes/track-number"}
    assert {error["code"] for error in errors.values()} == {"unique"}
    assert errors["/data/attributes/isrc-code"]["detail"] == (
        "Track with this Product and ISRC code already exists."
    )
    assert Track.objects.filter(product=product).count() == 1


def test_a_patch_breaking_uniqueness_is_409_and_changes_nothing(api):
    product = make_product()
    make_track(product=product, isrc_code="ESA112310001")
    track = make_track(product=product, isrc_code="ESA112310002")
    response = api.patch_doc(
        f"/api/v1/tracks/{track.pk}", patch(track, {"isrc-code": "ESA112310001", "title": "X"})
    )
    errors = errors_by_pointer(response, 409)
    assert set(errors) == {"/data/attributes/isrc-code"}
    track.refresh_from_db()
    assert (track.isrc_code, track.title) != ("ESA112310001", "X")


def test_atomic_operations_insert_consecutive_adds_together(admin_user, make_token):
    """Twenty track adds naming the same product and language: the token (with its
    organization), the product and the language are read once for the request, the
    tracks inserted in one statement and read again in one."""
    from tests.jsonapi.test_operations import AtomicClient

    product = make_product()
    adds = [
        {"op": "add", "data": track_document(product)["data"] | {"lid": f"t{n}"}} for n in range(20)
    ]
    client = AtomicClient(make_token(admin_user))
    with CaptureQueriesContext(connection) as captured:
        response = client.operations(*adds)
    assert response.status_code == 200, response.document
    # As many rows per INSERT as the database takes parameters (all 20 on PostgreSQL).
    columns = [field for field in Track._meta.concrete_fields if not field.primary_key]
    inserts = math.ceil(20 / connection.ops.bulk_batch_size(columns, adds))
    assert statements(captured) == [
        TOKEN,
        ("SELECT", "products_product"),
        ("SELECT", "products_language"),
        *[("INSERT", "tracks_track")] * inserts,
        ("SELECT", "tracks_track"),
    ]
    ids = [result["data"]["id"] for result in response.document["atomic:results"]]
    assert ids == [str(pk) for pk in Track.objects.order_by("pk").values_list("pk", flat=True)]


def test_atomic_operations_read_rows_again_after_an_update(admin_user, make_token):
    """An update may change the rows read so far: the adds after it read them again, and
    see the change (here, the product's new label is the new track's label)."""
    from tests.jsonapi.test_operations import AtomicClient

    product = make_product()
    other_label = make_label()
    update = {
        "op": "update",
        "data": {
            "type": "products",
            "id": str(product.pk),
            "relationships": {"label": {"data": {"type": "labels", "id": str(other_label.pk)}}},
        },
    }
    first, second = track_document(product)["data"], track_document(product)["data"]
    client = AtomicClient(make_token(admin_user))
    with CaptureQueriesContext(connection) as captured:
        response = client.operations(
            {"op": "add", "data": first}, update, {"op": "add", "data": second}
        )
    assert response.status_code == 200, response.document
    reads = statements(captured).count(("SELECT", "products_product"))
    assert reads == 4  # first add, the update's row and its re-read, second add
    last = response.document["atomic:results"][2]["data"]
    assert last["relationships"]["label"]["data"]["id"] == str(other_label.pk)
