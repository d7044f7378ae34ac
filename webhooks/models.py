"""Webhook endpoints (where an organization wants to hear about its tracks) and the record
of every delivery attempt made to them (webhooks/delivery.py sends them)."""

import base64
import secrets
import uuid

from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel
from organizations.models import Organization

from .validators import EVENTS, URL_MAX_LENGTH, validate_events, validate_webhook_url

SECRET_PREFIX = "whsec_"


def new_secret():
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class Event(models.TextChoices):
    TRACK_STATUS_CHANGED = EVENTS[0]
    VARIANT_CREATED = EVENTS[1]
    VARIANT_FAILED = EVENTS[2]


class WebhookEndpoint(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=URL_MAX_LENGTH, validators=[validate_webhook_url])
    events = models.JSONField(validators=[validate_events])
    is_active = models.BooleanField(default=True)
    # Set when a message exhausted its attempts; a later successful delivery clears it.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)

    organization_path = "organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.url

    def rotate_secret(self):
        self.secret = new_secret()
        self.save(update_fields=["secret", "updated_at"])
        return self.secret


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One attempt to deliver one message. Retries and redeliveries are new rows with the
    same ``message_id`` and ``body`` and the next ``attempt`` number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", editable=False
    )
    event = models.CharField(max_length=40, choices=Event.choices, editable=False)
    message_id = models.CharField(max_length=40, editable=False)
    attempt = models.PositiveSmallIntegerField(default=1, editable=False)
    # The attempt's place in its run of automatic retries (a redelivery starts a new run).
    run_attempt = models.PositiveSmallIntegerField(default=1, editable=False)
    body = models.TextField(editable=False)  # the JSON sent, signed byte for byte
    status = models.CharField(
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        editable=False,
    )
    status_code = models.PositiveSmallIntegerField(null=True, editable=False)
    duration_ms = models.PositiveIntegerField(null=True, editable=False)
    error = models.TextField(null=True, editable=False)
    next_retry_at = models.DateTimeField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    organization_path = "endpoint__organization"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
            models.UniqueConstraint(
                fields=["message_id", "attempt"], name="webhook_delivery_unique_attempt"
            ),
        ]

    def __str__(self):
        return f"{self.event} {self.message_id} #{self.attempt}"
