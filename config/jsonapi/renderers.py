"""Serialise JSON:API documents: adds the ``jsonapi`` member and encodes with orjson
(config.jsoncodec, for integers beyond 64 bits)."""

from django.http import HttpResponse
from django.utils.encoding import force_str
from rest_framework.renderers import BaseRenderer

from config import jsoncodec

from . import JSONAPI_MEDIA_TYPE, JSONAPI_VERSION

JSONAPI_OBJECT = {"version": JSONAPI_VERSION}


def _default(value):
    # Lazy translation strings and Decimals are the only non-native values documents hold.
    return force_str(value)


def encode_document(document):
    # Compact and in insertion order, as plans.EncodedRelationships pre-encodes its
    # fragments: an option that changes the output (indenting, sorted keys) must not be added.
    return jsoncodec.dumps({"jsonapi": JSONAPI_OBJECT, **document}, default=_default)


class JsonApiRenderer(BaseRenderer):
    """Renders the complete documents that views and the exception handler build."""

    media_type = JSONAPI_MEDIA_TYPE
    format = "vnd.api+json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return encode_document(data)


def document_response(document, status):
    """A JSON:API response outside DRF (URL-level 404s, 500s from Django itself)."""
    return HttpResponse(encode_document(document), status=status, content_type=JSONAPI_MEDIA_TYPE)
