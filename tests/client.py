"""An HTTP test client that speaks JSON:API and checks every response it receives."""

import json

from django.test import Client

from config.jsonapi import JSONAPI_MEDIA_TYPE

from .schema import assert_valid_document


class JsonApiClient(Client):
    def __init__(self, token=None, **defaults):
        if token is not None:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        defaults.setdefault("HTTP_ACCEPT", JSONAPI_MEDIA_TYPE)
        super().__init__(**defaults)

    def request(self, **request):
        response = super().request(**request)
        response.document = None
        if response.content:
            assert response["Content-Type"] == JSONAPI_MEDIA_TYPE, response.content[:200]
            response.document = json.loads(response.content)
            assert_valid_document(response.document)
            assert response.document["jsonapi"] == {"version": "1.1"}
        assert response.has_header("X-Request-ID")
        return response

    def send(self, method, path, document, content_type=JSONAPI_MEDIA_TYPE, **extra):
        body = document if isinstance(document, (str, bytes)) else json.dumps(document)
        return self.generic(method, path, body, content_type=content_type, **extra)

    def post_doc(self, path, document, **extra):
        return self.send("POST", path, document, **extra)

    def patch_doc(self, path, document, **extra):
        return self.send("PATCH", path, document, **extra)
