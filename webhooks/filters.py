import django_filters

from config.jsonapi.filters import StrictBooleanFilter, UUIDInFilter

from .models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilter(django_filters.FilterSet):
    id = UUIDInFilter(field_name="id")
    is_active = StrictBooleanFilter()

    class Meta:
        model = WebhookEndpoint
        fields = []


class WebhookDeliveryFilter(django_filters.FilterSet):
    id = UUIDInFilter(field_name="id")
    endpoint_id = django_filters.UUIDFilter()
    event = django_filters.ChoiceFilter(choices=Event.choices)
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    message_id = django_filters.CharFilter()

    class Meta:
        model = WebhookDelivery
        fields = []
