"""Request body parsing: JSON:API media type, decoded with orjson.

Only the JSON is decoded here; the document's structure is checked by
``config.jsonapi.documents.resource_object`` where the endpoint's type and id are known.
"""

import orjson
from rest_framework.parsers import BaseParser

from . import JSONAPI_MEDIA_TYPE
from .exceptions import InvalidDocument


class JsonApiParser(BaseParser):
    media_type = JSONAPI_MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise InvalidDocument(f"The request body is not valid JSON: {exc}") from exc
