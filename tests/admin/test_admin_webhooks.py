"""Webhook endpoints and their deliveries in the admin, in a real browser: an endpoint
added with the model's rules as errors at their fields, searched, filtered, its secret
shown read-only and rotated, deleted with its deliveries; deliveries read-only, filtered,
and delivered again unless their endpoint is inactive.
"""

import pytest
from django_tasks_db.models import DBTaskResult

from tests.factories import default_organization, make_organization
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

from .test_admin_tracks import rows

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ADMIN = "/admin/webhooks"


def run_action(page, row, action):
    page.check(f"#result_list tr:has(th a:text-is('{row}')) input.action-select")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")


def endpoint(organization, url, **fields):
    fields.setdefault("events", ["track.status-changed"])
    return WebhookEndpoint.objects.create(organization=organization, url=url, **fields)


def delivery(endpoint, message_id, **fields):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="track.status-changed",
        message_id=message_id,
        body='{"type": "track.status-changed"}',
        **fields,
    )


def test_endpoints_are_added_validated_searched_rotated_and_deleted(live_server, superuser_page):
    page = superuser_page
    acme = default_organization()
    theirs = make_organization(name="Theirs")
    endpoint(theirs, "https://theirs.example/hook")
    base = f"{live_server.url}{ADMIN}/webhookendpoint/"

    # Added: the model's rules (a public https URL, at least one event) at their fields.
    page.goto(f"{base}add/")
    page.select_option("#id_organization", label="Acme")
    page.fill("#id_url", "https://127.0.0.1/hook")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "not sent to localhost" in page.inner_text(".field-url .errorlist")
    assert page.inner_text(".field-events .errorlist") == "This field is required."
    assert not WebhookEndpoint.objects.filter(organization=acme).exists()

    page.fill("#id_url", "https://hooks.example.com/tracks")
    page.check("input[name=events][value='track-variant.created']")
    page.check("input[name=events][value='track-variant.failed']")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    ours = WebhookEndpoint.objects.get(organization=acme)
    assert (ours.url, ours.events, ours.is_active) == (
        "https://hooks.example.com/tracks",
        ["track-variant.created", "track-variant.failed"],
        True,
    )

    # Listed with its events, searched and filtered by organization.
    assert rows(page, "event_names") == {
        "https://theirs.example/hook": "track.status-changed",
        "https://hooks.example.com/tracks": "track-variant.created, track-variant.failed",
    }
    page.goto(f"{base}?q=hooks.example")
    assert rows(page, "organization") == {"https://hooks.example.com/tracks": "Acme"}
    page.goto(f"{base}?organization__id__exact={theirs.pk}")
    assert rows(page, "organization") == {"https://theirs.example/hook": "Theirs"}

    # The secret is shown, not edited; the action rotates it.
    delivery(ours, "msg_1")
    page.goto(f"{base}{ours.pk}/change/")
    assert page.locator(".field-secret .readonly").inner_text() == ours.secret
    assert page.locator("#id_secret").count() == 0
    assert page.locator(".field-deliveries .readonly").inner_text() == "1 delivery"
    with page.expect_navigation():
        page.click(".field-deliveries a")
    assert rows(page, "endpoint") == {
        "track.status-changed msg_1 #1": "https://hooks.example.com/tracks"
    }
    page.goto(base)
    run_action(page, "https://hooks.example.com/tracks", "rotate_secrets")
    assert page.locator(".messagelist li").all_inner_texts() == ["1 endpoint has a new secret."]
    secret = ours.secret
    ours.refresh_from_db()
    assert ours.secret != secret and ours.secret.startswith("whsec_")

    # Deleted, with the record of its deliveries.
    page.goto(f"{base}{ours.pk}/delete/")
    assert "Webhook delivery: track.status-changed msg_1 #1" in page.inner_text("#content")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert set(rows(page, "organization")) == {"https://theirs.example/hook"}
    assert not WebhookDelivery.objects.exists()


def test_deliveries_are_read_only_filtered_and_delivered_again(live_server, superuser_page):
    page = superuser_page
    acme = default_organization()
    active = endpoint(acme, "https://hooks.example.com/a")
    inactive = endpoint(acme, "https://hooks.example.com/b", is_active=False)
    failed = delivery(active, "msg_a", status=DeliveryStatus.FAILED, status_code=500)
    delivery(inactive, "msg_b", status=DeliveryStatus.FAILED, status_code=502)
    delivery(active, "msg_c", status=DeliveryStatus.SUCCEEDED, status_code=200)
    base = f"{live_server.url}{ADMIN}/webhookdelivery/"

    page.goto(f"{base}?status__exact=failed")
    assert rows(page, "status_code") == {
        "track.status-changed msg_a #1": "500",
        "track.status-changed msg_b #1": "502",
    }
    page.goto(f"{base}?q=msg_c")
    assert rows(page, "status") == {"track.status-changed msg_c #1": "Succeeded"}

    # Read-only: no form to save, none to add.
    page.goto(f"{base}{failed.pk}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator(".field-body .readonly").inner_text() == failed.body
    assert page.goto(f"{base}add/").status == 403

    # Delivered again: a new attempt of the message, queued; not to an inactive endpoint.
    page.goto(f"{base}?status__exact=failed")
    page.check("#result_list tr:has(th a:text-is('track.status-changed msg_a #1')) input")
    run_action(page, "track.status-changed msg_b #1", "deliver_again")
    assert page.locator(".messagelist li").all_inner_texts() == [
        "1 message is queued to be delivered again.",
        "1 delivery was skipped: its endpoint is not active.",
    ]
    again = WebhookDelivery.objects.get(message_id="msg_a", attempt=2)
    assert (again.endpoint, again.body, again.status) == (active, failed.body, "pending")
    assert not WebhookDelivery.objects.filter(message_id="msg_b", attempt=2).exists()
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [str(again.pk)]
