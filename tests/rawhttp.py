"""Requests to a live server with header bytes exactly as given.

``http.client`` refuses nothing in a header value but line breaks, so the server sees the
bytes a hostile client would send (NUL, latin-1, raw UTF-8), not a test client's WSGI dict.
"""

import http.client
import json
from urllib.parse import urlsplit

from config.jsonapi import JSONAPI_MEDIA_TYPE

from .schema import assert_valid_document


def raw_request(live_server, method, path, headers=(), body=b""):
    """(status, headers, JSON:API document or None) of one request on its own connection."""
    url = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    names = {name.lower() for name, _ in headers}
    try:
        connection.putrequest(method, path, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        connection.endheaders(body)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    document = None
    if content:
        assert response.headers["Content-Type"] == JSONAPI_MEDIA_TYPE, content[:300]
        document = json.loads(content)
        assert_valid_document(document)
    return response.status, response.headers, document
