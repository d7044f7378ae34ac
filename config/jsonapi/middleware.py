"""Request ids: every response carries ``X-Request-ID``, every log line and error object too."""

import contextvars
import logging
import re
import time
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is reused only when it is short and plain, so it is safe in logs and headers.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

_request_id = contextvars.ContextVar("request_id", default="-")
logger = logging.getLogger("tracks.requests")


def current_request_id():
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record):
        record.request_id = current_request_id()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if SANE_REQUEST_ID.match(offered) else str(uuid.uuid4())
        token = _request_id.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.get_full_path(),
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            return response
        finally:
            _request_id.reset(token)
