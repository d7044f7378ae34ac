"""Two organizations with the same shape of catalog: every endpoint keeps them apart.

Acme and Globex each hold a label, a product, two tracks (the second a remix and a stem of
the first) and a FLAC record on the first; names, titles and ISRCs are the same in both.
An editor of Acme, with a token of an Acme application, drives most tests: Globex's rows
must be invisible (never listed, counted, included or reachable through relationships) and
untouchable (404 by id, 422 exactly like an unknown id when named in a write). The last
sections cover how a request's organization is resolved and what each role may do.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile

# The serializers register their types on import; the parametrizations below read them.
import organizations.serializers  # noqa: F401
import products.serializers  # noqa: F401
import tracks.serializers  # noqa: F401
from config.jsonapi.schema import schema_for_type
from organizations.models import Membership, Organization
from products.models import Label, Language, Product
from tests.client import JsonApiClient
from tests.factories import (
    add_member,
    make_label,
    make_organization,
    make_product,
    make_track,
    track_document,
)
from tests.tracks.test_records import audio_file, record_document
from tracks.models import Record, Track

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "987654321"  # no row of any type has it
ISRCS = ("USRC17607839", "GBAYE0601498")  # the same two in both organizations
UPCS = {"acme": "036000291452", "globex": "4006381333931"}  # UPCs are unique service-wide
UNUSED_UPC = "5901234123457"
TYPES = ["organizations", "labels", "products", "tracks", "records"]
OWNED_TYPES = ["labels", "products", "tracks", "records"]  # served by id for writes


@pytest.fixture(scope="module")
def flac():
    return audio_file(seconds=0.2)


# --- The two catalogs -------------------------------------------------------------------


@dataclass
class Catalog:
    organization: Organization
    label: Label
    product: Product
    original: Track
    remix: Track
    record: Record

    def primary(self, resource_type):
        """The row of ``resource_type`` that tests address by id."""
        return {
            "organizations": self.organization,
            "labels": self.label,
            "products": self.product,
            "tracks": self.original,
            "records": self.record,
        }[resource_type]

    def ids(self, resource_type):
        rows = {"tracks": [self.original, self.remix]}.get(resource_type)
        return sorted(str(row.pk) for row in rows or [self.primary(resource_type)])

    def resource_keys(self):
        """Every (type, id) of this organization."""
        return {(t, pk) for t in TYPES for pk in self.ids(t)}


def build_catalog(organization, flac):
    label = make_label(organization=organization, name="Beat Records")
    product = make_product(label=label, name="First Album", upc_code=UPCS[organization.slug])
    original = make_track(product=product, title="Original", isrc_code=ISRCS[0])
    remix = make_track(
        product=product, title="Remix", isrc_code=ISRCS[1], stem_of=original, stem_category="bass"
    )
    remix.remix_of.set([original])
    record = Record(track=original, filename="master.flac")
    record.file = ContentFile(flac, name="master.flac")
    record.save()
    return Catalog(organization, label, product, original, remix, record)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def acme(organization, flac, media):
    return build_catalog(organization, flac)


@pytest.fixture
def globex(acme, flac):
    return build_catalog(make_organization(slug="globex", name="Globex"), flac)


def make_user(username, memberships=(), permissions=True):
    """A user with ``memberships`` ((organization, role) pairs) and, unless told not to,
    every add/change/delete permission of the catalog."""
    user = get_user_model().objects.create_user(username, password="pw")
    if permissions:
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label__in=["products", "tracks"])
        )
    for organization, role in memberships:
        add_member(user, organization, role)
    return user


@pytest.fixture
def client(make_token, acme, globex, editor):
    """Acme's editor, with a token of an Acme application."""
    return JsonApiClient(make_token(editor))


def snapshot():
    """Every row a request could change, to prove that one changed nothing."""
    models = (Organization, Membership, Label, Product, Track, Track.remix_of.through, Record)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def keys_of(document):
    """Every (type, id) a document shows: primary data, included and linkage."""
    data = document["data"]
    resources = (data if isinstance(data, list) else [data] if data else []) + document.get(
        "included", []
    )
    keys = set()
    for resource in resources:
        keys.add((resource["type"], resource["id"]))
        for relationship in resource.get("relationships", {}).values():
            linkage = relationship.get("data")
            for identifier in linkage if isinstance(linkage, list) else [linkage]:
                if identifier is not None:
                    keys.add((identifier["type"], identifier["id"]))
    return keys


def without_languages(keys):
    return {key for key in keys if key[0] != "languages"}  # shared by every organization


def comparable(response, *ids):
    """The error objects of ``response`` without their per-request id, and with the
    resource ids they quote replaced, to compare one answer with another."""
    errors = []
    for error in response.document["errors"]:
        error = {member: value for member, value in error.items() if member != "id"}
        for pk in ids:
            error["detail"] = re.sub(rf"\b{re.escape(str(pk))}\b", "<id>", error["detail"])
        errors.append(error)
    return errors


def identifier(resource_type, row):
    return {"type": resource_type, "id": row if isinstance(row, str) else str(row.pk)}


def relationships_of(types):
    """(type, member) for every relationship the given types declare."""
    return [
        (resource_type, member)
        for resource_type in types
        for member in schema_for_type(resource_type).relationships
    ]


def test_the_two_catalogs_have_the_same_shape(acme, globex):
    assert acme.resource_keys().isdisjoint(globex.resource_keys())
    for resource_type in TYPES:
        assert len(acme.ids(resource_type)) == len(globex.ids(resource_type))
    assert (acme.label.name, acme.original.isrc_code) == (
        globex.label.name,
        globex.original.isrc_code,
    )
    assert globex.remix.stem_of == globex.original
    assert list(globex.remix.remix_of.all()) == [globex.original]
    assert globex.record.md5 == acme.record.md5 and globex.record.file_size > 0


# --- 1. Lists, counts and filters -------------------------------------------------------


@pytest.mark.parametrize("resource_type", TYPES)
def test_a_list_shows_and_counts_only_our_rows(client, acme, resource_type):
    response = client.get(f"/api/v1/{resource_type}")
    assert response.status_code == 200, response.document
    assert sorted(row["id"] for row in response.document["data"]) == acme.ids(resource_type)
    assert response.document["meta"]["page"]["total"] == len(acme.ids(resource_type))


def test_languages_are_shared_by_every_organization(client, make_token, globex):
    globex_viewer = make_user("globex-viewer", [(globex.organization, "viewer")])
    others = JsonApiClient(make_token(globex_viewer, "read", organization=globex.organization))
    totals = [
        api.get("/api/v1/languages").document["meta"]["page"]["total"] for api in (client, others)
    ]
    assert totals == [Language.objects.count()] * 2
    assert Language.objects.count() > 100


# (type, filter, the value naming a row of a catalog, a value naming no row at all)
FILTERS_NAMING_ONE_ROW = [
    ("organizations", "id", lambda c: c.organization.pk, UNKNOWN_ID),
    ("organizations", "slug", lambda c: c.organization.slug, "no-such-org"),
    ("labels", "id", lambda c: c.label.pk, UNKNOWN_ID),
    ("products", "id", lambda c: c.product.pk, UNKNOWN_ID),
    ("products", "label-id", lambda c: c.label.pk, UNKNOWN_ID),
    ("products", "upc-code", lambda c: c.product.upc_code, UNUSED_UPC),
    ("tracks", "id", lambda c: c.original.pk, UNKNOWN_ID),
    ("tracks", "product-id", lambda c: c.product.pk, UNKNOWN_ID),
    ("records", "id", lambda c: c.record.pk, UNKNOWN_ID),
    ("records", "track-id", lambda c: c.original.pk, UNKNOWN_ID),
]


@pytest.mark.parametrize(
    ("resource_type", "name", "value_of", "unknown"),
    FILTERS_NAMING_ONE_ROW,
    ids=[f"{t}-{name}" for t, name, _, _ in FILTERS_NAMING_ONE_ROW],
)
def test_a_filter_naming_the_other_organizations_row_finds_nothing_like_an_unknown_value(
    client, acme, globex, resource_type, name, value_of, unknown
):
    url, parameter = f"/api/v1/{resource_type}", f"filter[{name}]"
    ours = client.get(url, {parameter: str(value_of(acme))})
    assert ours.status_code == 200 and ours.document["data"], "the filter finds our row"
    theirs = client.get(url, {parameter: str(value_of(globex))})
    nobodys = client.get(url, {parameter: unknown})
    for response in (theirs, nobodys):
        assert response.status_code == 200, response.document
        assert response.document["data"] == []
        assert response.document["meta"]["page"]["total"] == 0
    assert theirs.document["meta"] == nobodys.document["meta"]


@pytest.mark.parametrize(
    ("resource_type", "name", "value"),
    [
        ("labels", "name", "Beat Records"),
        ("products", "name", "First Album"),
        ("tracks", "title", "Original"),
        ("tracks", "isrc-code", ISRCS[0]),
    ],
)
def test_a_filter_on_a_value_both_organizations_share_finds_only_ours(
    client, acme, globex, resource_type, name, value
):
    response = client.get(f"/api/v1/{resource_type}", {f"filter[{name}]": value})
    assert response.status_code == 200, response.document
    [row] = response.document["data"]
    assert (resource_type, row["id"]) in acme.resource_keys()
    assert response.document["meta"]["page"]["total"] == 1


@pytest.mark.parametrize("resource_type", TYPES)
def test_a_filter_on_ids_of_both_organizations_finds_only_ours(client, acme, globex, resource_type):
    both = ",".join(acme.ids(resource_type) + globex.ids(resource_type))
    response = client.get(f"/api/v1/{resource_type}", {"filter[id]": both})
    assert sorted(row["id"] for row in response.document["data"]) == acme.ids(resource_type)
    assert response.document["meta"]["page"]["total"] == len(acme.ids(resource_type))


# --- 2. Another organization's rows by id: 404, and nothing changes ---------------------

UPDATES = {
    "labels": {"name": "Taken over"},
    "products": {"name": "Taken over"},
    "tracks": {"title": "Taken over"},
}


def update_document(resource_type, pk):
    attributes = UPDATES[resource_type]
    return {"data": {"type": resource_type, "id": str(pk), "attributes": attributes}}


def assert_404_like_unknown(response, unknown_response, pk):
    assert response.status_code == 404, response.document
    assert unknown_response.status_code == 404, unknown_response.document
    assert comparable(response, pk) == comparable(unknown_response, UNKNOWN_ID)


@pytest.mark.parametrize("resource_type", TYPES)
def test_get_another_organizations_row_is_404_like_an_unknown_id(client, globex, resource_type):
    pk = globex.primary(resource_type).pk
    response = client.get(f"/api/v1/{resource_type}/{pk}")
    assert_404_like_unknown(response, client.get(f"/api/v1/{resource_type}/{UNKNOWN_ID}"), pk)


@pytest.mark.parametrize("resource_type", UPDATES)
def test_patch_another_organizations_row_is_404_and_changes_nothing(client, globex, resource_type):
    pk, before = globex.primary(resource_type).pk, snapshot()
    url = f"/api/v1/{resource_type}/{pk}"
    response = client.patch_doc(url, update_document(resource_type, pk))
    unknown = client.patch_doc(
        f"/api/v1/{resource_type}/{UNKNOWN_ID}", update_document(resource_type, UNKNOWN_ID)
    )
    assert_404_like_unknown(response, unknown, pk)
    assert snapshot() == before


def test_records_are_never_patched_whichever_organization_they_belong_to(client, acme, globex):
    for record in (acme.record, globex.record):
        document = {
            "data": {"type": "records", "id": str(record.pk), "attributes": {"filename": "x"}}
        }
        assert client.patch_doc(f"/api/v1/records/{record.pk}", document).status_code == 405


@pytest.mark.parametrize("resource_type", OWNED_TYPES)
def test_delete_another_organizations_row_is_404_and_deletes_nothing(
    client, globex, media, resource_type
):
    pk, before = globex.primary(resource_type).pk, snapshot()
    files = sorted(path for path in media.rglob("*") if path.is_file())
    response = client.delete(f"/api/v1/{resource_type}/{pk}")
    assert_404_like_unknown(response, client.delete(f"/api/v1/{resource_type}/{UNKNOWN_ID}"), pk)
    assert snapshot() == before
    assert sorted(path for path in media.rglob("*") if path.is_file()) == files


# --- 3. Related and relationship endpoints ----------------------------------------------


@pytest.mark.parametrize(("resource_type", "member"), relationships_of(TYPES))
@pytest.mark.parametrize("endpoint", ["related", "relationship"])
def test_relationship_endpoints_of_another_organizations_row_are_404(
    client, globex, resource_type, member, endpoint
):
    path = member if endpoint == "related" else f"relationships/{member}"
    pk = globex.primary(resource_type).pk
    response = client.get(f"/api/v1/{resource_type}/{pk}/{path}")
    unknown = client.get(f"/api/v1/{resource_type}/{UNKNOWN_ID}/{path}")
    assert_404_like_unknown(response, unknown, pk)


def linkage_to_ours(catalog, resource_type):
    """An identifier of a row of ``catalog`` (or a shared language) of ``resource_type``."""
    if resource_type == "languages":
        return {"type": "languages", "id": "es"}
    return identifier(resource_type, catalog.primary(resource_type))


@pytest.mark.parametrize(
    ("resource_type", "member"), relationships_of(["labels", "products", "tracks"])
)
def test_patching_a_relationship_of_another_organizations_row_is_404(
    client, acme, globex, resource_type, member
):
    rel = schema_for_type(resource_type).relationships[member]
    linkage = linkage_to_ours(acme, rel.resource_type)
    document = {"data": [linkage] if rel.many else linkage}
    pk, before = globex.primary(resource_type).pk, snapshot()
    path = f"relationships/{member}"
    response = client.patch_doc(f"/api/v1/{resource_type}/{pk}/{path}", document)
    unknown = client.patch_doc(f"/api/v1/{resource_type}/{UNKNOWN_ID}/{path}", document)
    assert_404_like_unknown(response, unknown, pk)
    assert snapshot() == before


@pytest.mark.parametrize(("resource_type", "member"), relationships_of(TYPES))
@pytest.mark.parametrize("endpoint", ["related", "relationship"])
def test_relationship_endpoints_of_our_rows_show_only_our_rows(
    client, acme, globex, resource_type, member, endpoint
):
    path = member if endpoint == "related" else f"relationships/{member}"
    for row in {"tracks": [acme.original, acme.remix]}.get(resource_type) or [
        acme.primary(resource_type)
    ]:
        response = client.get(f"/api/v1/{resource_type}/{row.pk}/{path}")
        assert response.status_code == 200, response.document
        shown = without_languages(keys_of(response.document))
        assert shown <= acme.resource_keys(), shown - acme.resource_keys()


def test_a_link_across_organizations_made_outside_the_api_stays_hidden(client, acme, globex):
    """Writes through the API cannot link organizations; should a link be made in the
    database anyway, to-many relationships of our rows still do not show their rows."""
    acme.remix.remix_of.add(globex.original)
    remix = f"/api/v1/tracks/{acme.remix.pk}"
    expected = [identifier("tracks", acme.original)]
    assert client.get(f"{remix}/relationships/remix-of").document["data"] == expected
    related = client.get(f"{remix}/remix-of").document
    assert [(row["type"], row["id"]) for row in related["data"]] == [("tracks", expected[0]["id"])]
    assert related["meta"]["page"]["total"] == 1
    included = client.get(remix, {"include": "remix-of"}).document
    assert included["data"]["relationships"]["remix-of"]["data"] == expected
    assert [row["id"] for row in included["included"]] == [expected[0]["id"]]


# --- 4. Includes and sparse fieldsets ---------------------------------------------------

INCLUDES = [
    ("/api/v1/labels", {"include": "products.tracks"}),
    ("/api/v1/labels", {"include": "organization,products.tracks"}),
    ("/api/v1/products", {"include": "label.organization,language,tracks.records"}),
    ("/api/v1/tracks", {"include": "product.label,remix-of,stem-of,records,label"}),
    ("/api/v1/tracks", {"include": "remix-of.product.tracks"}),
    ("/api/v1/records", {"include": "track.product.label"}),
    ("/api/v1/records", {"include": "track.remix-of.records"}),
    ("/api/v1/organizations", {"include": "labels.products"}),
    ("/api/v1/organizations", {"include": "labels.products", "fields[products]": "tracks"}),
    (
        "/api/v1/tracks",
        {"include": "remix-of,records", "fields[tracks]": "title,remix-of,records"},
    ),
    ("/api/v1/labels", {"include": "products", "fields[labels]": "products"}),
    ("/api/v1/tracks", {"fields[tracks]": "label,stem-of,product", "include": "label"}),
]


def include_paths(parameters):
    return [path.split(".") for path in parameters.get("include", "").split(",") if path]


@pytest.mark.parametrize(("url", "parameters"), INCLUDES, ids=[f"{u[8:]}?{p}" for u, p in INCLUDES])
def test_includes_and_sparse_fieldsets_show_only_our_rows(
    client, make_token, admin_user, acme, globex, url, parameters
):
    response = client.get(url, parameters)
    assert response.status_code == 200, response.document
    shown = without_languages(keys_of(response.document))
    assert shown <= acme.resource_keys(), shown - acme.resource_keys()
    assert response.document["included"], "the include names rows of ours"
    # The same request by a superuser acting in every organization does show Globex's
    # rows: the check above can tell them apart.
    everyone = JsonApiClient(make_token(admin_user, "read", organization=None))
    assert keys_of(everyone.get(url, parameters).document) & globex.resource_keys()


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("labels/{label}", {"include": "products.tracks"}),
        ("organizations/{organization}", {"include": "labels.products"}),
        ("labels/{label}/products", {"include": "tracks.remix-of"}),
        ("products/{product}/tracks", {"include": "records,stem-of"}),
        ("tracks/{remix}/stem-of", {"include": "records,product.label"}),
        ("organizations/{organization}/labels", {"include": "products.tracks"}),
    ],
)
def test_includes_of_single_resources_and_related_endpoints_show_only_our_rows(
    client, acme, globex, path, parameters
):
    rows = {name: getattr(acme, name).pk for name in ("label", "organization", "product", "remix")}
    response = client.get(f"/api/v1/{path.format(**rows)}", parameters)
    assert response.status_code == 200, response.document
    shown = without_languages(keys_of(response.document))
    assert shown <= acme.resource_keys(), shown - acme.resource_keys()
    assert response.document["included"]


# --- 5. Writes naming another organization's rows: exactly like an unknown id -----------

# The status of a relationship naming a resource that does not exist: JSON:API's 404, as
# README's table of statuses and tests/products/test_products.py say (code does_not_exist).
RELATED_NOT_FOUND = 404


def create_product(catalog, label):
    return (
        "POST",
        "/api/v1/products",
        {
            "data": {
                "type": "products",
                "attributes": {"name": "New"},
                "relationships": {
                    "label": {"data": label},
                    "language": {"data": {"type": "languages", "id": "en"}},
                },
            }
        },
    )


def update_track(catalog, relationships, **attributes):
    pk = str(catalog.remix.pk)
    return (
        "PATCH",
        f"/api/v1/tracks/{pk}",
        {
            "data": {
                "type": "tracks",
                "id": pk,
                "attributes": attributes,
                "relationships": relationships,
            }
        },
    )


def create_track(catalog, relationships, **attributes):
    document = track_document(catalog.product, **attributes)
    document["data"]["relationships"].update(relationships)
    return "POST", "/api/v1/tracks", document


# Each builds a write of ``ours`` (Acme's catalog) naming ``target``, a resource identifier.
CROSS_WRITES = {
    "create product with label": lambda ours, target: create_product(
        ours, target("labels", "label")
    ),
    "update product label": lambda ours, target: (
        "PATCH",
        f"/api/v1/products/{ours.product.pk}",
        {
            "data": {
                "type": "products",
                "id": str(ours.product.pk),
                "relationships": {"label": {"data": target("labels", "label")}},
            }
        },
    ),
    "product label relationship": lambda ours, target: (
        "PATCH",
        f"/api/v1/products/{ours.product.pk}/relationships/label",
        {"data": target("labels", "label")},
    ),
    "create track in product": lambda ours, target: create_track(
        ours, {"product": {"data": target("products", "product")}}
    ),
    "create track remix-of": lambda ours, target: create_track(
        ours, {"remix-of": {"data": [target("tracks", "original")]}}
    ),
    "create track stem-of": lambda ours, target: create_track(
        ours, {"stem-of": {"data": target("tracks", "original")}}, **{"stem-category": "bass"}
    ),
    "update track product": lambda ours, target: update_track(
        ours, {"product": {"data": target("products", "product")}}
    ),
    "update track remix-of": lambda ours, target: update_track(
        ours, {"remix-of": {"data": [target("tracks", "original")]}}
    ),
    "update track remix-of, one of ours and one not": lambda ours, target: update_track(
        ours,
        {"remix-of": {"data": [identifier("tracks", ours.original), target("tracks", "original")]}},
    ),
    "update track stem-of": lambda ours, target: update_track(
        ours, {"stem-of": {"data": target("tracks", "original")}}, **{"stem-category": "kick"}
    ),
    "track product relationship": lambda ours, target: (
        "PATCH",
        f"/api/v1/tracks/{ours.remix.pk}/relationships/product",
        {"data": target("products", "product")},
    ),
    "track stem-of relationship": lambda ours, target: (
        "PATCH",
        f"/api/v1/tracks/{ours.remix.pk}/relationships/stem-of",
        {"data": target("tracks", "original")},
    ),
    "create record of track": lambda ours, target: (
        "POST",
        "/api/v1/records",
        {
            "data": {
                **record_document(ours.original, audio_file(seconds=0.1))["data"],
                "relationships": {"track": {"data": target("tracks", "original")}},
            }
        },
    ),
}


def send(api, method, url, document, **headers):
    if method == "POST":
        return api.post_doc(url, document, **headers)
    return api.patch_doc(url, document, **headers)


@pytest.mark.parametrize("write", CROSS_WRITES)
def test_a_write_naming_another_organizations_row_fails_like_an_unknown_id(
    client, acme, globex, media, write
):
    build = CROSS_WRITES[write]
    method, url, document = build(acme, lambda t, name: identifier(t, getattr(globex, name)))
    nobodys = build(acme, lambda t, name: identifier(t, UNKNOWN_ID))
    before = snapshot()
    files = sorted(path for path in media.rglob("*") if path.is_file())
    response, unknown = send(client, method, url, document), send(client, *nobodys)
    assert response.status_code == RELATED_NOT_FOUND, response.document
    assert unknown.status_code == RELATED_NOT_FOUND, unknown.document
    for error in response.document["errors"]:
        assert error["code"] == "does_not_exist"
        pointer = error["source"]["pointer"]
        if "/relationships/" in url:  # a relationship endpoint's document is the linkage
            assert pointer == "/data"
        else:
            assert pointer.startswith("/data/relationships/")
    their_ids = {getattr(globex, name).pk for name in ("label", "product", "original")}
    assert comparable(response, *their_ids) == comparable(unknown, UNKNOWN_ID)
    assert snapshot() == before
    assert sorted(path for path in media.rglob("*") if path.is_file()) == files
    # The same write naming our own row instead is accepted: the 422 is about whose row.
    accepted = send(client, *build(acme, lambda t, name: identifier(t, getattr(acme, name))))
    assert accepted.status_code in (200, 201), accepted.document


# --- 6. Labels belong to the organization they are created in ---------------------------


def label_document(name):
    return {"data": {"type": "labels", "attributes": {"name": name}}}


def test_a_new_label_belongs_to_the_acting_organization(client, acme, globex):
    response = client.post_doc("/api/v1/labels", label_document("Fresh"))
    assert response.status_code == 201, response.document
    data = response.document["data"]
    assert data["relationships"]["organization"]["data"] == identifier(
        "organizations", acme.organization
    )
    assert Label.objects.get(pk=data["id"]).organization == acme.organization
    related = client.get(f"/api/v1/labels/{data['id']}/organization").document["data"]
    assert related["id"] == str(acme.organization.pk)


def test_label_names_are_unique_per_organization(client, acme, globex, make_token):
    globex_only = Label.objects.create(organization=globex.organization, name="Globex Only")
    response = client.post_doc("/api/v1/labels", label_document(globex_only.name))
    assert response.status_code == 201, response.document
    assert Label.objects.filter(name=globex_only.name).count() == 2
    before = snapshot()
    again = client.post_doc("/api/v1/labels", label_document(globex_only.name))
    assert again.status_code == 409, again.document
    [error] = again.document["errors"]
    assert error["source"] == {"pointer": "/data/attributes/name"}
    assert snapshot() == before
    # Renaming our label to a name only Globex uses is allowed as well.
    document = {
        "data": {"type": "labels", "id": str(acme.label.pk), "attributes": {"name": "Globex 2"}}
    }
    Label.objects.create(organization=globex.organization, name="Globex 2")
    assert client.patch_doc(f"/api/v1/labels/{acme.label.pk}", document).status_code == 200


def test_a_labels_organization_cannot_be_chosen_or_changed(client, acme, globex):
    theirs = {"data": identifier("organizations", globex.organization)}
    create = label_document("Moving")
    create["data"]["relationships"] = {"organization": theirs}
    label = f"/api/v1/labels/{acme.label.pk}"
    update = {
        "data": {
            "type": "labels",
            "id": str(acme.label.pk),
            "relationships": {"organization": theirs},
        }
    }
    before = snapshot()
    for response in (client.post_doc("/api/v1/labels", create), client.patch_doc(label, update)):
        assert response.status_code == 422, response.document
        [error] = response.document["errors"]
        assert (error["code"], error["source"]) == (
            "read_only",
            {"pointer": "/data/relationships/organization"},
        )
    response = client.patch_doc(f"{label}/relationships/organization", theirs)
    assert response.status_code == 403, response.document
    assert snapshot() == before


def test_a_upc_is_unique_across_organizations_as_documented(client, acme, globex):
    """README: a GS1 code names one product in the world, so Globex's UPC is a 409 in Acme
    too, pointing at the attribute like a clash within Acme."""
    before = snapshot()
    for upc in (globex.product.upc_code, acme.product.upc_code):
        _, url, document = create_product(acme, identifier("labels", acme.label))
        document["data"]["attributes"]["upc-code"] = upc
        response = client.post_doc(url, document)
        assert response.status_code == 409, response.document
        [error] = response.document["errors"]
        assert (error["code"], error["source"]) == (
            "unique",
            {"pointer": "/data/attributes/upc-code"},
        )
    assert snapshot() == before


# --- 7. Organizations -------------------------------------------------------------------


def test_organizations_list_only_the_acting_one(client, acme, globex):
    response = client.get("/api/v1/organizations")
    assert [row["id"] for row in response.document["data"]] == [str(acme.organization.pk)]
    assert response.document["meta"]["page"]["total"] == 1
    assert client.get(f"/api/v1/organizations/{acme.organization.pk}").status_code == 200
    assert client.get(f"/api/v1/organizations/{globex.organization.pk}").status_code == 404


@pytest.mark.parametrize("whose", ["acme", "globex"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", ""),
        ("PATCH", "/{pk}"),
        ("DELETE", "/{pk}"),
        ("PATCH", "/{pk}/relationships/labels"),
    ],
)
def test_organizations_cannot_be_written(
    client, make_token, admin_user, acme, globex, whose, method, path
):
    pk = {"acme": acme, "globex": globex}[whose].organization.pk
    document = {"data": {"type": "organizations", "id": str(pk), "attributes": {"name": "X"}}}
    if method == "POST":
        document["data"].pop("id")
    url, before = f"/api/v1/organizations{path.format(pk=pk)}", snapshot()
    # The method itself is refused, for Globex's id as for Acme's, whoever asks: a superuser
    # holding every model permission, or Acme's editor holding none on organizations.
    superuser = JsonApiClient(make_token(admin_user))
    for caller in (superuser, client):
        response = caller.send(method, url, document)
        assert response.status_code == 405, response.document
    assert JsonApiClient().send(method, url, document).status_code == 401
    assert snapshot() == before


# --- 8. Which organization a request acts in ---------------------------------------------


def label_ids(response):
    assert response.status_code == 200, response.document
    return [row["id"] for row in response.document["data"]]


def assert_organization_forbidden(response, code):
    assert response.status_code == 403, response.document
    [error] = response.document["errors"]
    assert error["code"] == code
    assert error["source"] == {"header": "X-Organization"}
    return error


@pytest.fixture
def both(acme, globex):
    """Editor in Acme, viewer in Globex."""
    return make_user("both", [(acme.organization, "editor"), (globex.organization, "viewer")])


def test_a_member_of_two_organizations_must_name_one(both, make_token, acme, globex):
    api = JsonApiClient(make_token(both, organization=None))
    assert_organization_forbidden(api.get("/api/v1/labels"), "organization_required")
    acme_ids = label_ids(api.get("/api/v1/labels", HTTP_X_ORGANIZATION="acme"))
    globex_ids = label_ids(api.get("/api/v1/labels", HTTP_X_ORGANIZATION="globex"))
    assert (acme_ids, globex_ids) == (acme.ids("labels"), globex.ids("labels"))
    response = api.get(f"/api/v1/tracks/{globex.original.pk}", HTTP_X_ORGANIZATION="acme")
    assert response.status_code == 404


def test_a_header_naming_an_organization_one_is_not_in_or_none_is_403(
    make_token, editor, acme, globex
):
    api = JsonApiClient(make_token(editor, organization=None))
    assert label_ids(api.get("/api/v1/labels")) == acme.ids("labels")  # its only organization
    assert label_ids(api.get("/api/v1/labels", HTTP_X_ORGANIZATION="acme")) == acme.ids("labels")
    not_member = api.get("/api/v1/labels", HTTP_X_ORGANIZATION="globex")
    unknown = api.get("/api/v1/labels", HTTP_X_ORGANIZATION="no-such-org")
    assert_organization_forbidden(not_member, "organization_forbidden")
    assert_organization_forbidden(unknown, "organization_forbidden")
    assert comparable(not_member) == comparable(unknown)  # no hint that Globex exists


def test_the_organization_is_refused_before_the_model_permissions_are_asked(
    make_token, viewer, acme, globex
):
    """A write naming an organization one is not in says so, whatever one's permissions."""
    api = JsonApiClient(make_token(viewer, organization=None))
    response = api.post_doc(
        "/api/v1/labels", label_document("Elsewhere"), HTTP_X_ORGANIZATION="globex"
    )
    assert_organization_forbidden(response, "organization_forbidden")


def test_a_token_of_an_organizations_application_acts_in_it_only(client, acme):
    assert label_ids(client.get("/api/v1/labels", HTTP_X_ORGANIZATION="acme")) == acme.ids("labels")
    before = snapshot()
    for response in (
        client.get("/api/v1/labels", HTTP_X_ORGANIZATION="globex"),
        client.post_doc(
            "/api/v1/labels", label_document("Elsewhere"), HTTP_X_ORGANIZATION="globex"
        ),
    ):
        assert_organization_forbidden(response, "organization_forbidden")
    assert snapshot() == before


def test_a_token_of_an_organization_its_user_is_not_a_member_of_is_403(make_token, acme, globex):
    outsider = make_user("outsider", [(acme.organization, "editor")])
    api = JsonApiClient(make_token(outsider, organization=globex.organization))
    assert_organization_forbidden(api.get("/api/v1/labels"), "organization_forbidden")


def test_a_user_in_no_organization_is_403(make_token, acme):
    nobody = make_user("nobody")
    api = JsonApiClient(make_token(nobody, organization=None))
    assert_organization_forbidden(api.get("/api/v1/labels"), "organization_required")
    before = snapshot()
    response = api.post_doc("/api/v1/labels", label_document("Mine"))
    assert_organization_forbidden(response, "organization_required")
    assert snapshot() == before


def test_a_superuser_reads_every_organization_and_writes_in_the_one_named(
    make_token, admin_user, acme, globex
):
    api = JsonApiClient(make_token(admin_user, organization=None))
    both_ids = sorted(acme.ids("tracks") + globex.ids("tracks"))
    response = api.get("/api/v1/tracks")
    assert sorted(row["id"] for row in response.document["data"]) == both_ids
    assert response.document["meta"]["page"]["total"] == 4
    assert api.get(f"/api/v1/tracks/{globex.original.pk}").status_code == 200

    before = snapshot()
    refused = api.post_doc("/api/v1/labels", label_document("Central"))
    assert refused.status_code == 403, refused.document
    assert refused.document["errors"][0]["code"] == "organization_required"
    assert api.delete(f"/api/v1/records/{globex.record.pk}").status_code == 403
    assert snapshot() == before

    # Named, an organization is one the superuser acts in, member or not.
    response = api.post_doc(
        "/api/v1/labels", label_document("Central"), HTTP_X_ORGANIZATION="globex"
    )
    assert response.status_code == 201, response.document
    assert Label.objects.get(pk=response.document["data"]["id"]).organization == globex.organization
    listed = api.get("/api/v1/tracks", HTTP_X_ORGANIZATION="globex")
    assert sorted(row["id"] for row in listed.document["data"]) == globex.ids("tracks")
    hidden = api.get(f"/api/v1/tracks/{acme.original.pk}", HTTP_X_ORGANIZATION="globex")
    assert hidden.status_code == 404


# --- 9. Roles ---------------------------------------------------------------------------

# Each builds a write in ``catalog`` and says which row it adds, changes or removes.
WRITES = {
    "create label": lambda c: ("POST", "/api/v1/labels", label_document("Brand New")),
    "create product": lambda c: create_product(c, identifier("labels", c.label)),
    "create track": lambda c: ("POST", "/api/v1/tracks", track_document(c.product)),
    "create record": lambda c: (
        "POST",
        "/api/v1/records",
        record_document(c.remix, audio_file(seconds=0.1)),
    ),
    "update label": lambda c: (
        "PATCH",
        f"/api/v1/labels/{c.label.pk}",
        update_document("labels", c.label.pk),
    ),
    "update product": lambda c: (
        "PATCH",
        f"/api/v1/products/{c.product.pk}",
        update_document("products", c.product.pk),
    ),
    "update track": lambda c: (
        "PATCH",
        f"/api/v1/tracks/{c.remix.pk}",
        update_document("tracks", c.remix.pk),
    ),
    "product language relationship": lambda c: (
        "PATCH",
        f"/api/v1/products/{c.product.pk}/relationships/language",
        {"data": {"type": "languages", "id": "es"}},
    ),
    "delete record": lambda c: ("DELETE", f"/api/v1/records/{c.record.pk}", None),
    "delete track": lambda c: ("DELETE", f"/api/v1/tracks/{c.remix.pk}", None),
}
STATUS = {"POST": 201, "PATCH": 200, "DELETE": 204}


def write(api, method, url, document, **headers):
    if method == "DELETE":
        return api.delete(url, **headers)
    return send(api, method, url, document, **headers)


@pytest.mark.parametrize("name", WRITES)
def test_a_viewer_with_every_model_permission_cannot_write(make_token, acme, globex, name):
    viewer = make_user("all-perms-viewer", [(acme.organization, "viewer")])
    api = JsonApiClient(make_token(viewer))
    assert label_ids(api.get("/api/v1/labels")) == acme.ids("labels")  # reads
    before = snapshot()
    response = write(api, *WRITES[name](acme))
    assert response.status_code == 403, response.document
    assert response.document["errors"][0]["code"] == "role_forbidden"
    assert snapshot() == before


@pytest.mark.parametrize("role", ["editor", "admin"])
@pytest.mark.parametrize("name", WRITES)
def test_editors_and_admins_write(make_token, acme, globex, role, name):
    user = make_user(f"an-{role}", [(acme.organization, role)])
    method, url, document = WRITES[name](acme)
    before = snapshot()
    response = write(JsonApiClient(make_token(user)), method, url, document)
    assert response.status_code == STATUS[method], response.document
    after = snapshot()
    assert after != before
    for model in ("Organization", "Membership"):
        assert after[model] == before[model]
    # Globex's rows are as they were.
    assert snapshot_of(globex, after) == snapshot_of(globex, before)


def snapshot_of(catalog, rows):
    """The rows of ``catalog``'s organization within a snapshot."""
    keys = catalog.resource_keys()
    wanted = {"Label": "labels", "Product": "products", "Track": "tracks", "Record": "records"}
    return {
        model: [row for row in rows[model] if (resource_type, str(row["id"])) in keys]
        for model, resource_type in wanted.items()
    }


def test_an_editor_without_model_permissions_or_write_scope_cannot_write(make_token, acme, globex):
    bare = make_user("bare-editor", [(acme.organization, "editor")], permissions=False)
    full = make_user("full-editor", [(acme.organization, "editor")])
    before = snapshot()
    for api in (JsonApiClient(make_token(bare)), JsonApiClient(make_token(full, "read"))):
        response = api.post_doc("/api/v1/labels", label_document("Not Yet"))
        assert response.status_code == 403, response.document
    assert snapshot() == before


@pytest.mark.parametrize("name", ["create label", "update product", "delete record"])
def test_an_editor_in_one_organization_and_viewer_in_another_writes_only_in_the_first(
    make_token, both, acme, globex, name
):
    api = JsonApiClient(make_token(both, organization=None))
    before = snapshot()
    method, url, document = WRITES[name](globex)
    refused = write(api, method, url, document, HTTP_X_ORGANIZATION="globex")
    assert refused.status_code == 403, refused.document
    assert refused.document["errors"][0]["code"] == "role_forbidden"
    bound = JsonApiClient(make_token(both, organization=globex.organization))
    assert write(bound, method, url, document).status_code == 403
    assert snapshot() == before

    method, url, document = WRITES[name](acme)
    response = write(api, method, url, document, HTTP_X_ORGANIZATION="acme")
    assert response.status_code == STATUS[method], response.document
    assert snapshot_of(globex, snapshot()) == snapshot_of(globex, before)
