"""A real HTTP receiver on 127.0.0.1 for the webhook tests, and their helpers."""

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest

from tests.client import JsonApiClient
from tests.collections.test_uploads import run_worker  # noqa: F401  (re-exported for the tests)

ENDPOINTS = "/api/v1/webhook-endpoints"
DELIVERIES = "/api/v1/webhook-deliveries"


def verify(secret, headers, body, tolerance=300):
    """Standard Webhooks verification, written from the specification and independent of
    webhooks/signing.py: the key is the base64 after ``whsec_``; the signed content is
    ``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature`` holds space-separated
    ``v1,<base64 HMAC-SHA256>`` entries, one of which must match; the timestamp must be
    recent."""
    key = base64.b64decode(secret.split("_", 1)[1])
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    content = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    for entry in headers["webhook-signature"].split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


class Receiver:
    """An HTTP server in a thread that records every request. ``answers`` is consumed one
    status per request (then ``default``); ``delay`` seconds are slept before answering."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.default = 204
        self.delay = 0
        self.location = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else receiver.default
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages(self):
        return [json.loads(request["body"]) for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_DELAYS = [0]  # retries run at once (batch workers skip future ones)
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_BASE_URL = "http://testserver"
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def client(editor, make_token):
    """An editor's read+write client in the default organization."""
    return JsonApiClient(make_token(editor))


def endpoint_document(url, events=("track.status-changed",), **attributes):
    return {
        "data": {
            "type": "webhook-endpoints",
            "attributes": {"url": url, "events": list(events), **attributes},
        }
    }


def create_endpoint(client, url, events=("track.status-changed",), **attributes):
    """POST an endpoint: (its id, its secret)."""
    response = client.post_doc(ENDPOINTS, endpoint_document(url, events, **attributes))
    assert response.status_code == 201, response.document
    return response.document["data"]["id"], response.document["meta"]["secret"]


def deliveries(client, **filters):
    query = "&".join(f"filter[{name}]={value}" for name, value in filters.items())
    response = client.get(f"{DELIVERIES}?sort=createdAt,attempt&page[size]=100&{query}")
    assert response.status_code == 200, response.document
    return response.document["data"]
