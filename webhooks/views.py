from rest_framework import status
from rest_framework.response import Response

from config.jsonapi.exceptions import Conflict
from config.jsonapi.views import ResourceViewSet

from . import tasks
from .filters import WebhookDeliveryFilter, WebhookEndpointFilter
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import WebhookDeliverySerializer, WebhookEndpointSerializer

SECRET = {
    "type": "string",
    "pattern": "^whsec_[A-Za-z0-9+/]{32,}={0,2}$",
    "description": "The signing secret (Standard Webhooks: whsec_ and base64 of 24 random "
    "bytes). Shown only here: store it now.",
}


class WebhookEndpointViewSet(ResourceViewSet):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilter
    sort_fields = ("createdAt",)
    # The create answers the signing secret once, in the top-level meta.
    created_meta = {"secret": SECRET}
    # Custom actions, described by config/jsonapi/openapi.py.
    action_descriptions = {
        "rotate_secret": {
            "operation_id": "rotate-{type}-secret",
            "summary": "Replace the signing secret of a {type} resource",
            "status": 200,
            "description": "The new secret, shown only here; the old one signs no more.",
            "meta": {"secret": SECRET},
        }
    }

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data["meta"] = {"secret": self._created.secret}
        return response

    def perform_create(self, serializer):
        self._created = serializer.save()
        return self._created

    def rotate_secret(self, request, *args, **kwargs):
        return Response({"meta": {"secret": self.get_object().rotate_secret()}})


class WebhookDeliveryViewSet(ResourceViewSet):
    """Every delivery attempt, read-only; POST .../redeliver sends a message again."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    sort_fields = ("createdAt", "attempt")
    action_descriptions = {
        "redeliver": {
            "operation_id": "redeliver-{type}",
            "summary": "Send the message of a {type} resource again",
            "status": 202,
            "description": "Accepted: the new attempt (same message id and body), queued.",
            "resource": True,
        }
    }

    def redeliver(self, request, *args, **kwargs):
        delivery = self.get_object()
        if not delivery.endpoint.is_active:
            raise Conflict(
                "The endpoint is not active: activate it before redelivering.",
                code="state_conflict",
            )
        again = self._written(tasks.redeliver(delivery))
        document = self.documents.single(self.resource_schema, again)
        headers = {"Location": document["links"]["self"]}
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=headers)
