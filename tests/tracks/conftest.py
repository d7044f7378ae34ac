import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files go to a fresh folder that the test can list."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class SourceHandler(BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        status, body, headers = self.routes.get(self.path, (404, b"", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def source(settings):
    """A real HTTP server on 127.0.0.1 serving master files; 127.0.0.1 is allow-listed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SourceHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.RECORD_SOURCE_HOSTS = ["127.0.0.1"]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, SourceHandler.routes
    server.shutdown()
    SourceHandler.routes.clear()
