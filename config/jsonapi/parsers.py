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
            document = orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise InvalidDocument(f"The request body is not valid JSON: {exc}") from exc
        reject_nul_characters(document, "")
        return document


def reject_nul_characters(value, pointer):
    """NUL characters cannot be stored by PostgreSQL; refuse them where they appear."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidDocument("Strings may not contain NUL (U+0000) characters.", pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul_characters(key, pointer)
            reject_nul_characters(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_nul_characters(item, f"{pointer}/{index}")
