"""Request body parsing: JSON:API media type, decoded exactly (config.jsoncodec).

Only the JSON is decoded here; the document's structure is checked by
``config.jsonapi.documents.resource_object`` where the endpoint's type and id are known.
"""

from rest_framework.parsers import BaseParser

from config import jsoncodec

from . import JSONAPI_MEDIA_TYPE
from .exceptions import InvalidDocument


class JsonApiParser(BaseParser):
    media_type = JSONAPI_MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = jsoncodec.loads(stream.read())
        except ValueError as exc:
            raise InvalidDocument(f"The request body is not valid JSON: {exc}") from exc
        check_document(document)
        return document


MAX_DEPTH = 64
ATTRIBUTE_DEPTH = 3  # an attribute's value in a document: data, attributes, the member


def check_document(document, depth=0):
    """Refuse what no resource needs and the stack below us cannot take: NUL characters
    (PostgreSQL cannot store them) and nesting deeper than MAX_DEPTH (repr and json
    recurse). Walks with an explicit stack, so the check itself cannot overflow.
    ``depth``: that of ``document`` in a request's (``ATTRIBUTE_DEPTH`` for a value an
    importer reads as an attribute's)."""
    pending = [(document, "", depth)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidDocument(f"The document is nested deeper than {MAX_DEPTH} levels.", where)
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidDocument("Strings may not contain NUL (U+0000) characters.", where)
        elif isinstance(value, dict):
            for key, item in value.items():
                pending.append((key, where, depth))
                pending.append((item, f"{where}/{key}", depth + 1))
        elif isinstance(value, list):
            pending.extend(
                (item, f"{where}/{index}", depth + 1) for index, item in enumerate(value)
            )
