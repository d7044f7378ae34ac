from rest_framework import serializers

from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer

from .models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(ResourceSerializer):
    """The signing secret is answered once, in the create's top-level meta.secret (and by
    POST .../rotate-secret), never in reads."""

    class Meta:
        model = WebhookEndpoint
        resource_name = "webhook-endpoints"
        fields = ["url", "events", "is_active", "failing_since", "created_at", "updated_at"]
        ordering = ["created_at"]


class WebhookDeliverySerializer(ResourceSerializer):
    endpoint = Relationship("webhook-endpoints", read_only=True)
    event = serializers.ChoiceField(Event.choices, read_only=True)
    status = serializers.ChoiceField(DeliveryStatus.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        resource_name = "webhook-deliveries"
        fields = [
            "event",
            "message_id",
            "attempt",
            "status",
            "status_code",
            "duration_ms",
            "error",
            "next_retry_at",
            "created_at",
            "endpoint",
        ]
        ordering = ["created_at"]
