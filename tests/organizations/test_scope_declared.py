"""Every resource type is scoped to organizations: a new type cannot slip through.

The first test reads the declarations (each served model says how its rows reach their
organization); the second proves, type by type, that a list in an organization without
rows shows none of another organization's. A new resource type fails both until it is
declared and given a row-maker here.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured

import config.urls  # noqa: F401  (imports every app's resources, registering their types)
from config.jsonapi.schema import registered_schemas
from config.jsonapi.tenancy import organization_path
from organizations.models import Organization
from tests.client import JsonApiClient
from tests.factories import (
    add_member,
    make_check,
    make_check_result,
    make_collection,
    make_collection_track,
    make_label,
    make_organization,
    make_product,
    make_soundcheck_track,
    make_track,
    make_track_variant,
    make_webhook_delivery,
    make_webhook_endpoint,
)
from tests.tracks.test_records import audio_file, record_document

pytestmark = pytest.mark.django_db

# Reference data every organization reads alike.
SHARED_TYPES = {"languages"}
SCHEMAS = registered_schemas()  # every type the URLconf (imported above) serves
OWNED = [schema for schema in SCHEMAS if schema.type not in SHARED_TYPES]


def make_record(api):
    response = api.post_doc("/api/v1/records", record_document(make_track(), audio_file()))
    assert response.status_code == 201, response.document


# One way to make a row of each organization-owned type, in the default organization.
ROW_MAKERS = {
    "organizations": lambda api: None,  # the default organization is one
    "labels": lambda api: make_label(),
    "products": lambda api: make_product(),
    "tracks": lambda api: make_track(),
    "records": make_record,
    "collections": lambda api: make_collection(),
    "collection-tracks": lambda api: make_collection_track(),
    "track-variants": lambda api: make_track_variant(),
    "webhook-endpoints": lambda api: make_webhook_endpoint(),
    "webhook-deliveries": lambda api: make_webhook_delivery(),
    "checks": lambda api: make_check(),
    "soundcheck-tracks": lambda api: make_soundcheck_track(),
    "check-results": lambda api: make_check_result(),
    "certifications": lambda api: make_check_result(entity_ref="component:default/payments"),
}
# Lists that need a filter to be asked at all.
LIST_QUERIES = {"certifications": "?filter[entity-ref]=component:default/payments"}


def organization_of(model, path):
    """The model ``path`` leads to from ``model``."""
    if path == "pk":
        return model
    for hop in path.split("__"):
        model = model._meta.get_field(hop).related_model
    return model


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.type)
def test_every_type_declares_how_its_rows_reach_an_organization(schema):
    path = organization_path(schema.model)
    if schema.type in SHARED_TYPES:
        assert path is None
    else:
        assert path is not None, f"{schema.type} must belong to organizations"
        assert organization_of(schema.model, path) is Organization


def test_a_model_without_a_declaration_cannot_be_scoped():
    undeclared = type("Undeclared", (), {})
    with pytest.raises(ImproperlyConfigured, match="organization_path"):
        organization_path(undeclared)


@pytest.mark.parametrize("schema", OWNED, ids=lambda schema: schema.type)
def test_every_type_lists_nothing_of_another_organization(
    schema, api, organization, make_token, django_user_model
):
    assert schema.type in ROW_MAKERS, f"add a row maker for {schema.type}"
    ROW_MAKERS[schema.type](api)
    url = f"/api/v1/{schema.path}{LIST_QUERIES.get(schema.type, '')}"
    assert api.get(url).document["meta"]["page"]["total"] >= 1

    empty = make_organization()
    user = django_user_model.objects.create_user("outsider")
    add_member(user, empty, "viewer")
    response = JsonApiClient(make_token(user, "read", organization=empty)).get(url)
    assert response.status_code == 200, response.document
    rows = [row for row in response.document["data"] if row["type"] != "organizations"]
    assert rows == []
    expected = 1 if schema.type == "organizations" else 0  # its own organization
    assert response.document["meta"]["page"]["total"] == expected
