"""One POST to a webhook endpoint, safely.

The host is resolved once; every address it resolves to must be public (not loopback,
private, link-local, multicast, reserved or unspecified) unless WEBHOOK_ALLOWED_HOSTS lists
the host, and the connection goes to the address checked, never through a second lookup
(DNS rebinding). Redirects are not followed (a 3xx is a failed attempt), every socket
operation times out after WEBHOOK_TIMEOUT_SECONDS and at most 64 KiB of the answer is read.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .validators import allowed_hosts, is_public_address, literal_address

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "tracks-webhooks/1"


class Refused(Exception):
    """The URL leads to an address webhooks are not sent to."""


@dataclass
class Outcome:
    succeeded: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0


def resolve(host, port):
    """The address to connect to for ``host``: every address it resolves to is checked."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"Cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OSError(f"{host} resolves to no address.")
    if host.lower() not in allowed_hosts():
        for address in addresses:
            parsed = literal_address(address.split("%", 1)[0])
            if parsed is None or not is_public_address(parsed):
                raise Refused(f"{host} resolves to {address}, an address webhooks are not sent to.")
    return addresses[0]


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address``; the Host header still names the URL's host."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to ``address``; TLS verifies the certificate for the URL's host (SNI)."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, headers, body):
    """POST ``body`` to ``url``: an ``Outcome``, never an exception."""
    started = time.monotonic()
    outcome = _post(url, headers, body)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _post(url, headers, body):
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        address = resolve(host, port)
    except Refused as exc:
        return Outcome(False, error=str(exc))
    except OSError as exc:
        return Outcome(False, error=str(exc))
    connection_class = PinnedHTTPSConnection if https else PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers={**headers, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        code = response.status
    except TimeoutError:
        return Outcome(False, error=f"Timed out after {timeout} s.")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, error=f"Connection failed: {exc or type(exc).__name__}")
    finally:
        connection.close()
    if 200 <= code < 300:
        return Outcome(True, code)
    if 300 <= code < 400:
        return Outcome(False, code, "A redirect: not followed; point the endpoint at the target.")
    return Outcome(False, code, f"The endpoint answered {code}.")
