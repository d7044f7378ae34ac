"""Content negotiation by the rules of JSON:API 1.1.

A request body must be ``application/vnd.api+json`` whose only parameters are ``ext`` and
``profile`` (415 otherwise), and an ``Accept`` header that names the JSON:API media type
only with parameters we cannot honour is refused with 406.
"""

import re

from django.utils.http import parse_header_parameters
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation

from . import JSONAPI_MEDIA_TYPE

ALLOWED_PARAMETERS = {"ext", "profile"}
# No JSON:API extension is implemented yet; an `ext` naming one we lack is refused.
SUPPORTED_EXTENSIONS = frozenset()
_SPLIT_ACCEPT = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')


def is_acceptable(params):
    """True when JSON:API media-type parameters ask for nothing we lack."""
    if set(params) - ALLOWED_PARAMETERS:
        return False
    extensions = params.get("ext", "").split()
    return all(uri in SUPPORTED_EXTENSIONS for uri in extensions)


def jsonapi_instances(header):
    """The parameters of each JSON:API media type named in a header value."""
    instances = []
    for item in _SPLIT_ACCEPT.split(header):
        media_type, params = parse_header_parameters(item.strip())
        if media_type.lower() == JSONAPI_MEDIA_TYPE:
            instances.append({k.lower(): v for k, v in params.items() if k.lower() != "q"})
    return instances


class JsonApiContentNegotiation(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        instances = jsonapi_instances(request.content_type or "")
        if instances and not is_acceptable(instances[0]):
            return None  # DRF answers 415 Unsupported Media Type
        return super().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        instances = jsonapi_instances(request.META.get("HTTP_ACCEPT", ""))
        if instances and not any(is_acceptable(params) for params in instances):
            raise exceptions.NotAcceptable(
                "Every JSON:API media type in Accept carries parameters this server "
                "does not support."
            )
        return super().select_renderer(request, renderers, format_suffix)
