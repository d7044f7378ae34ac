"""Requests to a live server with header bytes exactly as given.

``http.client`` refuses nothing in a header value but line breaks, so the server sees the
bytes a hostile client would send (NUL, latin-1, raw UTF-8), not a test client's WSGI dict.
"""

import http.client
import json
import socket
import urllib.error
import urllib.request
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


def raw_put(url, content, timeout=60):
    """The status of a PUT of ``content`` to ``url`` (an upload target) on a connection of
    its own, without a token."""
    request = urllib.request.Request(
        url,
        data=content,
        method="PUT",
        headers={"Content-Type": "application/octet-stream", "Accept": JSONAPI_MEDIA_TYPE},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def cut_short_put(live_server, path, content, length, timeout=60):
    """(status, document) of a PUT announcing ``length`` bytes whose client goes away
    after ``content``."""
    server = urlsplit(live_server.url)
    with socket.create_connection((server.hostname, server.port), timeout=timeout) as client:
        client.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {server.netloc}\r\nContent-Length: {length}\r\n"
            f"Accept: {JSONAPI_MEDIA_TYPE}\r\nConnection: close\r\n\r\n".encode()
            + content
        )
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)
