"""Sending deliveries in the background, at least once.

Each attempt is a ``WebhookDelivery`` row. A failed attempt (an answer other than 2xx, a
redirect, a timeout, a connection error, a refused address) schedules the next one after
WEBHOOK_RETRY_DELAYS (5 s, 30 s, 2 min, 10 min, 1 h), up to WEBHOOK_MAX_ATTEMPTS attempts;
then the endpoint is failing (``failing_since``) until a delivery to it succeeds. An
attempt whose worker died before it recorded the outcome is made again
(``recover_lost_attempts``): the receiver may then see a message twice, never not at all.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from config import recovery

from . import delivery as http
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .signing import headers

logger = logging.getLogger(__name__)


def enqueue(delivery, run_after=None):
    """Enqueue ``delivery``'s attempt, in the transaction that created it: the database
    backend writes the task as a row, so the attempt and its task commit together."""
    sender = send_delivery if run_after is None else send_delivery.using(run_after=run_after)
    sender.enqueue(str(delivery.pk))


def retry_delay(run_attempt):
    delays = settings.WEBHOOK_RETRY_DELAYS
    return timedelta(seconds=delays[min(run_attempt, len(delays)) - 1]) if delays else timedelta()


@task()
def send_delivery(delivery_id):
    """Make the attempt ``delivery_id`` and record its outcome."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return "gone"  # its endpoint was deleted, or the attempt was made already
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        outcome = http.Outcome(False, error="The endpoint is not active.")
    else:
        body = delivery.body.encode()
        timestamp = int(timezone.now().timestamp())
        try:
            signed = headers(endpoint.secret, delivery.message_id, timestamp, body)
            outcome = http.post(endpoint.url, signed, body)
        except Exception:  # a bug, not the endpoint's fault: recorded, retried, logged
            logger.exception("Webhook delivery %s failed unexpectedly", delivery.pk)
            outcome = http.Outcome(False, error="The attempt failed unexpectedly.")
    record(delivery, outcome, retry=endpoint.is_active)
    return "succeeded" if outcome.succeeded else "failed"


def record(delivery, outcome, retry=True):
    now = timezone.now()
    with transaction.atomic():
        delivery.status = DeliveryStatus.SUCCEEDED if outcome.succeeded else DeliveryStatus.FAILED
        delivery.status_code = outcome.status_code
        delivery.duration_ms = outcome.duration_ms
        delivery.error = outcome.error
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if outcome.succeeded:
            endpoints.exclude(failing_since=None).update(failing_since=None)
        elif retry and delivery.run_attempt < settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.next_retry_at = now + retry_delay(delivery.run_attempt)
            following = WebhookDelivery.objects.create(
                endpoint_id=delivery.endpoint_id,
                event=delivery.event,
                message_id=delivery.message_id,
                attempt=delivery.attempt + 1,
                run_attempt=delivery.run_attempt + 1,
                body=delivery.body,
            )
            enqueue(following, run_after=delivery.next_retry_at)
        else:
            endpoints.filter(failing_since=None).update(failing_since=now)
        delivery.save()


def redeliver(delivery):
    """A new attempt of ``delivery``'s message, same id and body, with retries of its own."""
    last = (
        WebhookDelivery.objects.filter(message_id=delivery.message_id)
        .order_by("-attempt")
        .values_list("attempt", flat=True)
        .first()
    )
    again = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id,
        event=delivery.event,
        message_id=delivery.message_id,
        attempt=(last or delivery.attempt) + 1,
        run_attempt=1,
        body=delivery.body,
    )
    enqueue(again)
    return again


@recovery.register
def recover_lost_attempts():
    """Attempts whose worker died mid-request (their task "running" for longer than an
    attempt can take) are enqueued again; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=max(60, 4 * settings.WEBHOOK_TIMEOUT_SECONDS))
    with transaction.atomic():
        lost = list(
            DBTaskResult.objects.running()
            .select_for_update(skip_locked=True)
            .filter(task_path=send_delivery.module_path, started_at__lt=cutoff)
        )
        for result in lost:
            result.status = TaskResultStatus.FAILED
            result.finished_at = timezone.now()
            result.exception_class_path = "webhooks.tasks.WorkerLost"
            result.traceback = "The worker sending this attempt stopped before it finished."
            result.save(
                update_fields=["status", "finished_at", "exception_class_path", "traceback"]
            )
            pending = WebhookDelivery.objects.filter(
                pk=result.args_kwargs["args"][0], status=DeliveryStatus.PENDING
            ).first()
            if pending is not None:
                logger.warning("Webhook attempt %s lost its worker: sending again", pending.pk)
                enqueue(pending)
    return len(lost)
