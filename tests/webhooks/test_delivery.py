"""Deliveries through the real worker loop to a real HTTP receiver on 127.0.0.1:
signatures, retries, failing endpoints, redelivery, SSRF refusals, redirects, timeouts,
and the status changes of an uploaded track."""

import inspect
import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from collections_app import processing
from collections_app.models import CollectionTrack, TrackVariant
from collections_app.signals import track_status_changed, variant_created, variant_failed
from config.recovery import recover_all
from tests.factories import make_collection_track, make_organization, make_webhook_endpoint
from webhooks import tasks
from webhooks.models import WebhookEndpoint

from .conftest import DELIVERIES, ENDPOINTS, create_endpoint, deliveries, run_worker, verify

pytestmark = pytest.mark.django_db(transaction=True)


def status_changed(track):
    track_status_changed.send(sender=CollectionTrack, track=track)


def test_a_status_change_is_delivered_signed_with_the_resource(client, receiver):
    endpoint_id, secret = create_endpoint(client, receiver.url)
    track = make_collection_track()
    status_changed(track)
    run_worker()

    [request] = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks"
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_")
    assert verify(secret, headers, request["body"])
    message = json.loads(request["body"])
    assert message["type"] == "track.status-changed"
    assert message["timestamp"].endswith("+00:00")
    # The data is the resource object as the API renders it.
    assert message["data"] == client.get(f"/api/v1/collection-tracks/{track.pk}").document["data"]

    [delivery] = deliveries(client)
    attributes = delivery["attributes"]
    assert attributes["status"] == "succeeded"
    assert attributes["status-code"] == 204
    assert attributes["attempt"] == 1
    assert attributes["message-id"] == headers["webhook-id"]
    assert attributes["duration-ms"] >= 0
    assert attributes["error"] is None and attributes["next-retry-at"] is None
    assert delivery["relationships"]["endpoint"]["data"]["id"] == endpoint_id
    # A changed body, or another endpoint's secret, does not verify.
    assert not verify(secret, headers, request["body"] + b" ")
    _, other = create_endpoint(client, receiver.url)
    assert not verify(other, headers, request["body"])


def test_only_subscribed_active_endpoints_of_the_tracks_organization_receive(client, receiver):
    create_endpoint(client, receiver.url + "/status")
    create_endpoint(client, receiver.url + "/variants", events=["track-variant.created"])
    create_endpoint(client, receiver.url + "/inactive", **{"is-active": False})
    make_webhook_endpoint(organization=make_organization(), url=receiver.url + "/other")
    deleted_id, _ = create_endpoint(client, receiver.url + "/deleted")
    status_changed(make_collection_track())
    # Deleted after its message was created: the message goes with it.
    assert client.delete(f"{ENDPOINTS}/{deleted_id}").status_code == 204
    run_worker()
    assert [request["path"] for request in receiver.requests] == ["/hooks/status"]


def test_variant_events(client, receiver):
    create_endpoint(client, receiver.url, events=["track-variant.created", "track-variant.failed"])
    track = make_collection_track()
    variant = TrackVariant.objects.create(track=track, codec="mp3")
    variant_created.send(sender=TrackVariant, variant=variant)
    variant_failed.send(sender=TrackVariant, variant=variant)
    run_worker()
    messages = sorted(receiver.messages(), key=lambda message: message["type"])
    assert [message["type"] for message in messages] == [
        "track-variant.created",
        "track-variant.failed",
    ]
    assert {message["data"]["id"] for message in messages} == {str(variant.pk)}


def test_an_attempt_whose_worker_died_is_sent_again(client, receiver):
    """A worker took the attempt's task and died before recording it: the task stays
    "running" until a worker's recovery (config/recovery.py) enqueues the attempt again."""
    create_endpoint(client, receiver.url)
    status_changed(make_collection_track())
    [task] = DBTaskResult.objects.filter(task_path=tasks.send_delivery.module_path)
    task.claim("killed-worker")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(hours=1))
    run_worker()
    assert receiver.requests == []  # nothing is ready to run: the attempt is lost

    recover_all()
    run_worker()

    [request] = receiver.requests
    [delivery] = deliveries(client)
    assert delivery["attributes"]["status"] == "succeeded"
    assert delivery["attributes"]["message-id"] == request["headers"]["webhook-id"]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "webhooks.tasks.WorkerLost"


def test_failures_are_retried_with_the_same_message_id(client, receiver):
    endpoint_id, secret = create_endpoint(client, receiver.url)
    receiver.answers = [500, 503]  # then the default, 204
    status_changed(make_collection_track())
    run_worker()

    assert len(receiver.requests) == 3
    assert len({request["headers"]["webhook-id"] for request in receiver.requests}) == 1
    assert len({request["body"] for request in receiver.requests}) == 1
    assert all(verify(secret, r["headers"], r["body"]) for r in receiver.requests)
    attempts = [row["attributes"] for row in deliveries(client)]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert [a["status-code"] for a in attempts] == [500, 503, 204]
    assert attempts[0]["next-retry-at"] is not None and attempts[2]["next-retry-at"] is None
    assert "500" in attempts[0]["error"]
    endpoint = client.get(f"{ENDPOINTS}/{endpoint_id}").document["data"]
    assert endpoint["attributes"]["failing-since"] is None


def test_an_endpoint_that_always_fails_is_marked_failing_then_redelivery_clears_it(
    client, receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    endpoint_id, secret = create_endpoint(client, receiver.url)
    receiver.default = 500
    status_changed(make_collection_track())
    run_worker()

    assert len(receiver.requests) == 3
    attempts = deliveries(client)
    assert [row["attributes"]["status"] for row in attempts] == ["failed"] * 3
    assert attempts[-1]["attributes"]["next-retry-at"] is None
    endpoint = client.get(f"{ENDPOINTS}/{endpoint_id}").document["data"]
    assert endpoint["attributes"]["failing-since"] is not None

    # The receiver is fixed: a redelivery of the last attempt succeeds and clears it.
    receiver.default = 200
    response = client.post(f"{DELIVERIES}/{attempts[-1]['id']}/redeliver")
    assert response.status_code == 202, response.document
    again = response.document["data"]
    assert again["attributes"]["attempt"] == 4
    assert again["attributes"]["status"] == "pending"
    assert again["attributes"]["message-id"] == attempts[0]["attributes"]["message-id"]
    assert response["Location"] == again["links"]["self"]
    run_worker()
    assert len(receiver.requests) == 4
    assert receiver.requests[3]["body"] == receiver.requests[0]["body"]
    assert receiver.requests[3]["headers"]["webhook-id"] == attempts[0]["attributes"]["message-id"]
    assert verify(secret, receiver.requests[3]["headers"], receiver.requests[3]["body"])
    assert (
        client.get(f"{DELIVERIES}/{again['id']}").document["data"]["attributes"]["status"]
        == "succeeded"
    )
    endpoint = client.get(f"{ENDPOINTS}/{endpoint_id}").document["data"]
    assert endpoint["attributes"]["failing-since"] is None

    # An inactive endpoint's message is not sent again: a conflict.
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(is_active=False)
    response = client.post(f"{DELIVERIES}/{again['id']}/redeliver")
    assert response.status_code == 409, response.document
    assert len(deliveries(client)) == 4


def test_a_rotated_secret_signs_and_the_old_one_no_longer_verifies(client, receiver):
    endpoint_id, old = create_endpoint(client, receiver.url)
    new = client.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret").document["meta"]["secret"]
    status_changed(make_collection_track())
    run_worker()
    [request] = receiver.requests
    assert verify(new, request["headers"], request["body"])
    assert not verify(old, request["headers"], request["body"])


def test_a_host_resolving_to_a_private_address_is_not_connected_to(
    client, receiver, settings, monkeypatch
):
    """A host name that resolves to 127.0.0.1 (the resolver is told so here; the check and
    the refusal are the real ones) is refused when the delivery is made: the receiver
    listening there sees no request."""
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "hooks.rebind.test":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    create_endpoint(client, f"http://127.0.0.1:{receiver.port}/allowed")  # allow-listed: sent
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "hooks.rebind.test"]
    create_endpoint(client, f"http://hooks.rebind.test:{receiver.port}/x")  # http: allow-listed
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # no longer allow-listed
    status_changed(make_collection_track())
    run_worker()
    assert [request["path"] for request in receiver.requests] == ["/allowed"]
    refused = [row for row in deliveries(client) if row["attributes"]["status"] == "failed"]
    assert len(refused) == 1
    assert "resolves to 127.0.0.1" in refused[0]["attributes"]["error"]
    assert refused[0]["attributes"]["status-code"] is None


def test_a_refused_https_host_is_retried_then_failing(client, receiver, settings, monkeypatch):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("10.0.0.1" if host == "internal.example.com" else host, *a, **k),
    )
    endpoint_id, _ = create_endpoint(client, "https://internal.example.com/in")
    status_changed(make_collection_track())
    run_worker()
    attempts = [row["attributes"] for row in deliveries(client)]
    assert [a["status"] for a in attempts] == ["failed", "failed"]
    assert all("10.0.0.1" in a["error"] for a in attempts)
    assert WebhookEndpoint.objects.get(pk=endpoint_id).failing_since is not None
    assert receiver.requests == []


def test_redirects_are_not_followed(client, receiver):
    create_endpoint(client, receiver.url)
    receiver.answers = [302]
    receiver.location = f"http://127.0.0.1:{receiver.port}/elsewhere"
    status_changed(make_collection_track())
    run_worker()
    # The 302 failed its attempt; the retry (to the endpoint again) succeeded.
    assert [request["path"] for request in receiver.requests] == ["/hooks", "/hooks"]
    first, second = (row["attributes"] for row in deliveries(client))
    assert (first["status"], first["status-code"]) == ("failed", 302)
    assert "redirect" in first["error"].lower()
    assert second["status"] == "succeeded"


def test_a_slow_receiver_times_out_and_an_unreachable_one_fails(client, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    endpoint_id, _ = create_endpoint(client, receiver.url)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    unreachable_id, _ = create_endpoint(client, f"http://127.0.0.1:{port}/in")
    receiver.delay = 1.5
    status_changed(make_collection_track())
    run_worker()
    [slow] = deliveries(client, **{"endpoint-id": endpoint_id})
    assert slow["attributes"]["status"] == "failed"
    assert "timed out" in slow["attributes"]["error"].lower()
    assert slow["attributes"]["duration-ms"] < 1500
    assert WebhookEndpoint.objects.get(pk=endpoint_id).failing_since is not None
    [refused] = deliveries(client, **{"endpoint-id": unreachable_id})
    assert refused["attributes"]["status"] == "failed"
    assert "connection" in refused["attributes"]["error"].lower()


SENDS_STATUS_CHANGES = "track_status_changed" in inspect.getsource(processing)


@pytest.mark.skipif(
    not SENDS_STATUS_CHANGES,
    reason="collections_app/processing.py does not send track_status_changed yet",
)
def test_every_status_change_of_an_uploaded_track_is_delivered(client, receiver, tmp_path):
    from tests.collections.test_uploads import audio_bytes, create_track, upload_audio

    _, secret = create_endpoint(client, receiver.url)
    track_id, _ = create_track(client)
    upload_audio(CollectionTrack.objects.get(pk=track_id), audio_bytes(tmp_path))
    run_worker()
    assert all(verify(secret, r["headers"], r["body"]) for r in receiver.requests)
    statuses = [
        message["data"]["attributes"]["status"]
        for message in receiver.messages()
        if message["data"]["id"] == track_id
    ]
    assert statuses[:1] == ["processing"] and statuses[-1] == "ready"
    assert all(row["attributes"]["status"] == "succeeded" for row in deliveries(client))
