"""The OpenAPI description: served without a token, valid, and saying what goes over the
wire for each operation (the schemathesis test checks the rest against the live API)."""

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from config.jsonapi.schema import registered_schemas

pytestmark = pytest.mark.django_db


@pytest.fixture
def description(client):
    """Read with a plain client and no token: the description is not a JSON:API document."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def operation(description, path, method):
    return description["paths"][f"/api/v1/{path}"][method]


def parameter(op, name):
    [found] = [p for p in op["parameters"] if p["name"] == name]
    return found


def test_description_is_valid_openapi(description):
    validate_schema(description)
    assert description["openapi"] == "3.0.3"


def test_yaml_is_the_same_description(client, description):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == description


def test_every_resource_has_its_collection_and_item_operations(description):
    for schema in registered_schemas():
        collection = description["paths"][f"/api/v1/{schema.path}"]
        assert "get" in collection
        for member in schema.relationships:
            assert any(path.endswith(f"/relationships/{member}") for path in description["paths"])


def test_query_parameters_are_named_one_by_one(description):
    op = operation(description, "tracks", "get")
    names = {p["name"] for p in op["parameters"]}
    assert {"filter[title]", "filter[bpm.gte]", "page[number]", "page[size]"} <= names
    assert {"fields[tracks]", "fields[products]", "fields[labels]", "fields[languages]"} <= names
    sort = parameter(op, "sort")
    assert (sort["style"], sort["explode"]) == ("form", False)
    assert {"title", "-title", "createdAt", "-createdAt"} <= set(sort["schema"]["items"]["enum"])
    include = parameter(op, "include")["schema"]["items"]["enum"]
    assert {"product", "product.label", "records", "remix-of"} <= set(include)
    assert "products.tracks.records" not in include  # three to-many hops
    assert parameter(op, "filter[bpm.gte]")["schema"]["type"] == "number"
    assert parameter(op, "page[size]")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
    }
    assert parameter(op, "filter[genre]")["schema"]["enum"][:2] == ["Electronic", "Rock"]


def test_a_to_one_related_endpoint_takes_no_page(description):
    names = {p["name"] for p in operation(description, "tracks/{id}/product", "get")["parameters"]}
    assert "include" in names and "page[size]" not in names


def test_error_responses_per_operation(description):
    create = operation(description, "tracks", "post")["responses"]
    assert set(create) == {"201", "400", "401", "403", "404", "406", "409", "415", "422", "429"}
    assert create["422"]["content"]["application/vnd.api+json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDocument"
    }
    assert "Location" in create["201"]["headers"]
    assert "Retry-After" in create["429"]["headers"]
    listing = operation(description, "tracks", "get")["responses"]
    assert set(listing) == {"200", "400", "401", "403", "406", "429"}
    assert "X-Request-ID" in listing["200"]["headers"]
    assert set(operation(description, "tracks/{id}", "delete")["responses"]) >= {"204", "409"}


def test_request_documents_describe_writable_members(description):
    schemas = description["components"]["schemas"]
    create = schemas["TracksCreateDocument"]["properties"]["data"]
    assert create["properties"]["type"] == {"type": "string", "enum": ["tracks"]}
    attributes = create["properties"]["attributes"]
    assert attributes["additionalProperties"] is False
    assert {"title", "isrc-code", "artist", "track-number"} <= set(attributes["required"])
    assert "length" not in attributes["properties"]  # read-only
    assert attributes["properties"]["isrc-code"]["format"] == "isrc"
    assert attributes["properties"]["artist"]["minItems"] == 1
    product = create["properties"]["relationships"]["properties"]["product"]
    assert product["properties"]["data"]["properties"]["type"]["enum"] == ["products"]
    update = schemas["TracksUpdateDocument"]["properties"]["data"]
    assert update["required"] == ["type", "id"]
    assert "required" not in update["properties"]["attributes"]


def test_response_documents_describe_every_member(description):
    schemas = description["components"]["schemas"]
    resource = schemas["TracksResource"]["properties"]
    assert resource["attributes"]["properties"]["length"]["readOnly"] is True
    assert resource["attributes"]["properties"]["createdAt"]["format"] == "date-time"
    collection = schemas["TracksCollectionDocument"]["properties"]
    assert collection["meta"]["properties"]["page"] == {"$ref": "#/components/schemas/PageMeta"}
    included = {ref["$ref"].rsplit("/", 1)[1] for ref in collection["included"]["items"]["oneOf"]}
    assert included == {f"{t.title()}Resource" for t in ("tracks", "products", "labels")} | {
        "LanguagesResource",
        "RecordsResource",
        "OrganizationsResource",  # tracks -> label -> organization
    }


def test_oauth2_security_scheme(description):
    scheme = description["components"]["securitySchemes"]["oauth2"]
    assert set(scheme["flows"]) == {"clientCredentials", "password"}
    assert scheme["flows"]["password"]["tokenUrl"] == "/oauth/token"
    assert set(scheme["flows"]["password"]["scopes"]) == {"read", "write"}
    assert operation(description, "tracks", "get")["security"] == [{"oauth2": ["read"]}]
    assert operation(description, "tracks", "post")["security"] == [{"oauth2": ["write"]}]


def test_creates_link_to_the_operations_on_the_new_resource(description):
    links = operation(description, "products", "post")["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get-products",
        "update-products",
        "delete-products",
    }
    records = operation(description, "records", "post")["responses"]["201"]["links"]
    assert "update-records" not in {link["operationId"] for link in records.values()}


def test_source_url_follows_the_settings(client, settings):
    def source_url():
        response = client.get("/api/v1/openapi.json")
        create = response.json()["components"]["schemas"]["RecordsCreateDocument"]
        return create["properties"]["data"]["properties"]["attributes"]["properties"][
            "original-url"
        ]

    settings.RECORD_SOURCE_HOSTS = []
    assert source_url()["not"] == {}
    settings.RECORD_SOURCE_HOSTS = ["media.example.com"]
    assert source_url()["pattern"] == r"^https?://(media\.example\.com)(:[0-9]+)?(/|$)"


def test_api_index_names_every_collection(anonymous):
    response = anonymous.get("/api/v1/")
    assert response.status_code == 200
    collections = response.document["meta"]["collections"]
    assert collections == {
        schema.type: f"http://testserver/api/v1/{schema.path}" for schema in registered_schemas()
    }
    assert response.document["links"]["describedby"] == "http://testserver/api/v1/openapi.json"


def test_api_index_negotiates(anonymous):
    assert anonymous.get("/api/v1/", HTTP_ACCEPT="text/html").status_code == 406


def test_root_leads_to_the_api_docs(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


def test_every_resource_operation_takes_the_organization_header(description):
    for path, item in description["paths"].items():
        if path in ("/api/v1/", "/api/v1/uploads/{token}"):
            continue  # the index, and uploads (their signed URL names what they are for)
        for method, op in item.items():
            if method not in ("get", "post", "patch", "delete"):
                continue
            header = parameter(op, "X-Organization")
            assert header["in"] == "header" and not header.get("required"), (path, method)
            assert "403" in op["responses"], (path, method)
    organizations = description["paths"]["/api/v1/organizations"]
    assert set(organizations) - {"parameters"} == {"get"}  # read-only through the API
