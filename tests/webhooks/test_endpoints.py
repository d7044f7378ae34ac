"""The webhook-endpoints and webhook-deliveries resources: validation, the secret shown
once, rotation, organization isolation, read-only deliveries."""

import json

import pytest
from django.contrib.auth import get_user_model

from tests.assertions import errors_by_pointer, the_error
from tests.client import JsonApiClient
from tests.factories import (
    add_member,
    make_organization,
    make_webhook_delivery,
    make_webhook_endpoint,
)
from webhooks.models import WebhookEndpoint

from .conftest import DELIVERIES, ENDPOINTS, create_endpoint, endpoint_document

pytestmark = pytest.mark.django_db
URL_POINTER = "/data/attributes/url"
EVENTS_POINTER = "/data/attributes/events"


def test_create_answers_the_secret_once_and_reads_never(client):
    response = client.post_doc(
        ENDPOINTS,
        endpoint_document("https://hooks.example.com/in", ["track.status-changed"]),
    )
    assert response.status_code == 201, response.document
    secret = response.document["meta"]["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 6 + 32
    attributes = response.document["data"]["attributes"]
    assert attributes == {
        "url": "https://hooks.example.com/in",
        "events": ["track.status-changed"],
        "is-active": True,
        "failing-since": None,
        "createdAt": attributes["createdAt"],
        "updatedAt": attributes["updatedAt"],
    }
    assert response["Location"] == response.document["links"]["self"]
    endpoint_id = response.document["data"]["id"]
    for url in (f"{ENDPOINTS}/{endpoint_id}", ENDPOINTS):
        read = client.get(url)
        assert read.status_code == 200
        assert secret not in read.content.decode()
        assert "meta" not in read.document or "secret" not in read.document["meta"]
    assert WebhookEndpoint.objects.get(pk=endpoint_id).secret == secret


def test_rotating_the_secret_answers_the_new_one_once(client):
    endpoint_id, secret = create_endpoint(client, "https://hooks.example.com/in")
    response = client.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret")
    assert response.status_code == 200, response.document
    new = response.document["meta"]["secret"]
    assert new.startswith("whsec_") and new != secret
    assert WebhookEndpoint.objects.get(pk=endpoint_id).secret == new
    assert new not in client.get(f"{ENDPOINTS}/{endpoint_id}").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/in",
        "http://hooks.example.com/in",  # http only for allow-listed hosts
        "not a url",
        "https://10.0.0.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://127.0.0.1:8443/in",
        "https://0.0.0.0/in",
        "https://localhost/in",
        "https://api.localhost/in",
        "https://224.0.0.1/in",
        "https://[::ffff:10.0.0.1]/in",
    ],
)
def test_urls_refused(client, url):
    response = client.post_doc(ENDPOINTS, endpoint_document(url))
    errors = errors_by_pointer(response, 422)
    assert set(errors) == {URL_POINTER}
    assert not WebhookEndpoint.objects.exists()


def test_allow_listed_hosts_may_be_private_and_http(client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    create_endpoint(client, "http://127.0.0.1:9/in")


@pytest.mark.parametrize(
    "events",
    [
        [],
        ["track.deleted"],
        ["track.status-changed", "track.status-changed"],
        "track.status-changed",
        [1],
        None,
    ],
)
def test_events_refused(client, events):
    document = endpoint_document("https://hooks.example.com/in")
    document["data"]["attributes"]["events"] = events
    errors = errors_by_pointer(client.post_doc(ENDPOINTS, document), 422)
    assert set(errors) == {EVENTS_POINTER}


def test_several_problems_are_reported_together(client):
    response = client.post_doc(ENDPOINTS, endpoint_document("https://10.0.0.1/", events=[]))
    assert set(errors_by_pointer(response, 422)) == {URL_POINTER, EVENTS_POINTER}


def test_secret_and_failing_since_are_read_only(client):
    for member in ("secret", "failing-since"):
        document = endpoint_document("https://hooks.example.com/in")
        document["data"]["attributes"][member] = None
        errors = errors_by_pointer(client.post_doc(ENDPOINTS, document), 422)
        assert set(errors) == {f"/data/attributes/{member}"}


def test_update(client):
    endpoint_id, _ = create_endpoint(client, "https://hooks.example.com/in")
    document = {
        "data": {
            "type": "webhook-endpoints",
            "id": endpoint_id,
            "attributes": {"is-active": False, "events": ["track-variant.failed"]},
        }
    }
    response = client.patch_doc(f"{ENDPOINTS}/{endpoint_id}", document)
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"]["is-active"] is False
    document["data"]["attributes"] = {"url": "https://192.168.1.1/"}
    response = client.patch_doc(f"{ENDPOINTS}/{endpoint_id}", document)
    assert set(errors_by_pointer(response, 422)) == {URL_POINTER}


def test_the_model_applies_the_rules_too(settings):
    """The admin and importers run full_clean: the same rules."""
    from django.core.exceptions import ValidationError

    endpoint = WebhookEndpoint(
        organization=make_organization(), url="https://localhost/", events=["x"]
    )
    with pytest.raises(ValidationError) as caught:
        endpoint.full_clean()
    assert set(caught.value.error_dict) == {"url", "events"}


def test_deliveries_are_read_only(client):
    delivery = make_webhook_delivery()
    url = f"{DELIVERIES}/{delivery.pk}"
    assert client.get(url).status_code == 200
    document = {"data": {"type": "webhook-deliveries", "attributes": {"event": "x"}}}
    assert the_error(client.post_doc(DELIVERIES, document), 405)
    document["data"]["id"] = str(delivery.pk)
    assert the_error(client.patch_doc(url, document), 405)
    assert the_error(client.delete(url), 405)


def test_delivery_resource(client):
    delivery = make_webhook_delivery(status_code=500, status="failed", error="The endpoint...")
    response = client.get(f"{DELIVERIES}/{delivery.pk}?include=endpoint")
    assert response.status_code == 200, response.document
    data = response.document["data"]
    assert data["attributes"] == {
        "event": "track.status-changed",
        "message-id": delivery.message_id,
        "attempt": 1,
        "status": "failed",
        "status-code": 500,
        "duration-ms": None,
        "error": "The endpoint...",
        "next-retry-at": None,
        "createdAt": data["attributes"]["createdAt"],
    }
    assert data["relationships"]["endpoint"]["data"] == {
        "type": "webhook-endpoints",
        "id": str(delivery.endpoint_id),
    }
    assert [r["type"] for r in response.document["included"]] == ["webhook-endpoints"]
    assert "body" not in json.dumps(data["attributes"])


def test_delivery_filters(client):
    first = make_webhook_delivery()
    make_webhook_delivery(event="track-variant.created", status="succeeded")
    listed = client.get(f"{DELIVERIES}?filter[endpoint-id]={first.endpoint_id}").document
    assert [row["id"] for row in listed["data"]] == [str(first.pk)]
    listed = client.get(f"{DELIVERIES}?filter[event]=track-variant.created").document
    assert len(listed["data"]) == 1
    listed = client.get(f"{DELIVERIES}?filter[status]=pending").document
    assert [row["id"] for row in listed["data"]] == [str(first.pk)]
    assert client.get(f"{DELIVERIES}?filter[status]=lost").status_code == 400


def test_another_organizations_endpoints_and_deliveries_do_not_exist(client, make_token):
    other = make_organization()
    endpoint = make_webhook_endpoint(organization=other)
    delivery = make_webhook_delivery(endpoint=endpoint)
    mine = make_webhook_delivery()
    assert client.get(f"{ENDPOINTS}/{endpoint.pk}").status_code == 404
    assert client.get(f"{DELIVERIES}/{delivery.pk}").status_code == 404
    assert client.post(f"{ENDPOINTS}/{endpoint.pk}/rotate-secret").status_code == 404
    assert client.post(f"{DELIVERIES}/{delivery.pk}/redeliver").status_code == 404
    listed = client.get(DELIVERIES).document
    assert [row["id"] for row in listed["data"]] == [str(mine.pk)]
    assert [row["id"] for row in client.get(ENDPOINTS).document["data"]] == [str(mine.endpoint_id)]
    # A member of the other organization sees its own only.
    user = get_user_model().objects.create_user("other-editor")
    add_member(user, other, "editor")
    theirs = JsonApiClient(make_token(user, organization=other))
    assert [row["id"] for row in theirs.get(DELIVERIES).document["data"]] == [str(delivery.pk)]


def test_a_viewer_may_read_but_not_write(organization, viewer, make_token):
    delivery = make_webhook_delivery()
    client = JsonApiClient(make_token(viewer))
    assert client.get(ENDPOINTS).status_code == 200
    assert the_error(client.post_doc(ENDPOINTS, endpoint_document("https://a.example/")), 403)
    assert the_error(client.post(f"{DELIVERIES}/{delivery.pk}/redeliver"), 403)
    assert the_error(client.post(f"{ENDPOINTS}/{delivery.endpoint_id}/rotate-secret"), 403)
