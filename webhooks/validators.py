"""The rules of a webhook endpoint's members, shared by the API and the admin (the model
runs them in ``full_clean``)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

EVENTS = ["track.status-changed", "track-variant.created", "track-variant.failed"]
URL_MAX_LENGTH = 2000


def allowed_hosts():
    return {host.lower() for host in settings.WEBHOOK_ALLOWED_HOSTS}


def is_public_address(address):
    """May a delivery connect to ``address`` (an ``ipaddress`` address)?"""
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def literal_address(host):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def url_schema():
    """What ``validate_webhook_url`` accepts, for the description (config/jsonapi/openapi.py);
    a callable, so that it follows WEBHOOK_ALLOWED_HOSTS."""
    hosts = sorted(allowed_hosts())
    http = f" (http also for {', '.join(hosts)})" if hosts else ""
    return {
        "type": "string",
        "format": "webhook-url",
        "maxLength": URL_MAX_LENGTH,
        "description": f"Where deliveries are POSTed: an https URL{http}. Not localhost, and "
        "not a literal loopback, private, link-local, multicast, reserved or unspecified IP "
        "address (a 422); a host name resolving to one is refused when a delivery is sent.",
    }


def validate_webhook_url(value):
    URLValidator(schemes=["http", "https"])(value)
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if host in allowed_hosts():
        return
    if parts.scheme != "https":
        raise ValidationError(
            "Use an https URL (http only for the hosts WEBHOOK_ALLOWED_HOSTS lists).",
            code="insecure_scheme",
        )
    address = literal_address(host)
    if (
        host == "localhost"
        or host.endswith(".localhost")
        or (address is not None and not is_public_address(address))
    ):
        raise ValidationError(
            "Webhooks are not sent to localhost or to loopback, private, link-local, "
            "multicast, reserved or unspecified addresses.",
            code="forbidden_host",
        )


validate_webhook_url.openapi_schema = url_schema


def validate_events(value):
    if not isinstance(value, list) or not value:
        raise ValidationError("Name at least one event, in a list.", code="invalid")
    for event in value:
        if event not in EVENTS:
            raise ValidationError(
                "Unknown event %(event)s (known: %(known)s).",
                code="invalid_choice",
                params={"event": str(event)[:100], "known": ", ".join(EVENTS)},
            )
    if len(set(value)) != len(value):
        raise ValidationError("Each event is named once.", code="duplicate")


validate_events.openapi_schema = {
    "type": "array",
    "items": {"type": "string", "enum": EVENTS},
    "minItems": 1,
    "uniqueItems": True,
    "description": "The events this endpoint receives.",
}
