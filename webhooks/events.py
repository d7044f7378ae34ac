"""From collections_app's signals to deliveries: for each active endpoint of the
organization subscribed to the event, one message (a delivery row, attempt 1) and a task
that sends it (webhooks/tasks.py).

The message's ``data`` is the resource object as the API renders it (the same
``DocumentBuilder``), with links built on WEBHOOK_BASE_URL.
"""

import json
import logging
import uuid
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from collections_app import signals
from collections_app.models import CollectionTrack, TrackVariant
from config.jsonapi.schema import registered_schemas
from config.jsonapi.tenancy import organization_id_of

from .models import Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


class BaseUrlRequest(HttpRequest):
    """A request standing for WEBHOOK_BASE_URL, to render documents outside a view."""

    def __init__(self, base_url):
        super().__init__()
        parts = urlsplit(base_url)
        self._scheme, self._host = parts.scheme or "https", parts.netloc
        self.method, self.path = "GET", "/"

    def _get_scheme(self):
        return self._scheme

    def get_host(self):
        return self._host


def base_url():
    if settings.WEBHOOK_BASE_URL:
        return settings.WEBHOOK_BASE_URL
    hosts = [host for host in settings.ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
    return f"{'http' if settings.DEBUG else 'https'}://{hosts[0] if hosts else 'localhost'}"


def schema_of(instance):
    import_module(settings.ROOT_URLCONF)  # every app's resources register their types
    for schema in registered_schemas():
        if schema.model is type(instance):
            return schema
    return None


def resource_data(instance):
    """``instance`` as the API renders it (a bare identifier for a type it does not serve)."""
    from config.uploads import resource_document

    schema = schema_of(instance)
    if schema is None:
        return {"type": instance._meta.model_name, "id": str(instance.pk)}
    request = Request(BaseUrlRequest(base_url()))
    return resource_document(request, schema.serializer_class, instance)["data"]


def message_body(event, instance):
    document = {
        "type": event,
        "timestamp": timezone.now().isoformat(),
        "data": resource_data(instance),
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"))


def publish(event, instance):
    """Create and enqueue the messages of ``event`` about ``instance``. The change it is
    about has committed already: a failure here is logged, never the sender's failure."""
    try:
        return _publish(event, instance)
    except Exception:
        logger.exception("Webhooks: the %s messages of %s were not created", event, instance.pk)
        return []


def _publish(event, instance):
    from .tasks import enqueue

    organization_id = organization_id_of(instance)
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id=organization_id, is_active=True
        )
        if event in endpoint.events
    ]
    if not endpoints:
        return []
    body = message_body(event, instance)
    deliveries = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, message_id=f"msg_{uuid.uuid4().hex}", body=body
            )
            enqueue(delivery)
            deliveries.append(delivery)
    return deliveries


@receiver(signals.track_status_changed, sender=CollectionTrack)
def track_status_changed(sender, track, **kwargs):
    publish(Event.TRACK_STATUS_CHANGED, track)


@receiver(signals.variant_created, sender=TrackVariant)
def variant_created(sender, variant, **kwargs):
    publish(Event.VARIANT_CREATED, variant)


@receiver(signals.variant_failed, sender=TrackVariant)
def variant_failed(sender, variant, **kwargs):
    publish(Event.VARIANT_FAILED, variant)
