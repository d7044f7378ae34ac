from django.urls import path

from config.jsonapi.routes import resource_routes

from .views import WebhookDeliveryViewSet, WebhookEndpointViewSet

urlpatterns = [
    *resource_routes(WebhookEndpointViewSet),
    path(
        "webhook-endpoints/<rid:pk>/rotate-secret",
        WebhookEndpointViewSet.as_view({"post": "rotate_secret"}),
        name="webhook-endpoints-rotate-secret",
    ),
    *resource_routes(WebhookDeliveryViewSet, read_only=True),
    path(
        "webhook-deliveries/<rid:pk>/redeliver",
        WebhookDeliveryViewSet.as_view({"post": "redeliver"}),
        name="webhook-deliveries-redeliver",
    ),
]
