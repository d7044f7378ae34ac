"""Webhook endpoints and their deliveries in the admin, scoped to the user's organizations.

An endpoint is added and changed as through the API: the model's rules (an https URL, no
private or loopback host, known events) are errors at their fields. Its signing secret is
shown, never typed: "Rotate secret" replaces it. Deliveries are the record of what was
sent, read-only; "Deliver again" sends a message once more, as the API's redeliver does.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import ngettext

from organizations.admin import OrganizationScopedAdmin, StoredFieldsForm

from . import tasks
from .models import Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(StoredFieldsForm):
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "events", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "organization", "event_names", "is_active", "failing_since"]
    list_filter = ["is_active", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url"]
    list_select_related = ["organization"]
    readonly_fields = ["secret", "failing_since", "deliveries", "created_at", "updated_at"]
    actions = ["rotate_secrets"]

    @admin.display(description="events")
    def event_names(self, obj):
        events = obj.events if isinstance(obj.events, list) else []
        return ", ".join(map(str, events))

    @admin.display(description="deliveries")
    def deliveries(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:webhooks_webhookdelivery_changelist")
        count = obj.deliveries.count()
        label = ngettext("%(count)d delivery", "%(count)d deliveries", count) % {"count": count}
        return format_html(
            '<a href="{}?{}">{}</a>', url, urlencode({"endpoint__id__exact": obj.pk}), label
        )

    @admin.action(description="Rotate secret", permissions=["change"])
    def rotate_secrets(self, request, queryset):
        """A new signing secret for each selected endpoint; deliveries from now on are
        signed with it."""
        endpoints = list(self.writable(request, queryset))
        for endpoint in endpoints:
            endpoint.rotate_secret()
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint has a new secret.",
                "%(count)d endpoints have a new secret.",
                len(endpoints),
            )
            % {"count": len(endpoints)},
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizationScopedAdmin):
    list_display = [
        "__str__",
        "endpoint",
        "status",
        "status_code",
        "duration_ms",
        "next_retry_at",
        "created_at",
    ]
    list_filter = ["status", "event", ("endpoint", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["message_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "endpoint",
        "event",
        "message_id",
        "attempt",
        "run_attempt",
        "status",
        "status_code",
        "duration_ms",
        "error",
        "next_retry_at",
        "created_at",
        "body",
    ]
    actions = ["deliver_again"]

    def has_add_permission(self, request):
        return False  # deliveries are made by events, not by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_deliver_permission(self, request):
        return super().has_change_permission(request)

    @admin.action(description="Deliver again", permissions=["deliver"])
    def deliver_again(self, request, queryset):
        """Each selected delivery's message sent once more (a new attempt, with its own
        retries), as the API's redeliver does; not to an endpoint that is inactive."""
        selected = list(self.writable(request, queryset).select_related("endpoint"))
        inactive = [delivery for delivery in selected if not delivery.endpoint.is_active]
        with transaction.atomic():
            for delivery in selected:
                if delivery.endpoint.is_active:
                    tasks.redeliver(delivery)
        sent = len(selected) - len(inactive)
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message is queued to be delivered again.",
                    "%(count)d messages are queued to be delivered again.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
        if inactive:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery was skipped: its endpoint is not active.",
                    "%(count)d deliveries were skipped: their endpoint is not active.",
                    len(inactive),
                )
                % {"count": len(inactive)},
                messages.WARNING,
            )
