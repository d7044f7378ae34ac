"""Middleware of the API: request ids on every response, log line and error object, and
JSON:API documents for every answer under /api/, whoever gave it."""

import contextvars
import logging
import re
import time
import uuid

from django.utils.cache import patch_vary_headers

from . import JSONAPI_MEDIA_TYPE, exceptions
from .renderers import document_response

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


def is_api_path(path_info):
    """True for the URLs the JSON:API owns: /api and everything under /api/."""
    return path_info == "/api" or path_info.startswith("/api/")


class ApiResponseMiddleware:
    """Every response under /api/ varies on ``Accept``, and every error there is a JSON:API
    document.

    The API's own views and Django's error handlers already answer with documents; this
    catches whatever else could answer (an empty 405 from a Django-level view, an HTML
    page from a third-party one) and gives the client the same status and headers with
    an error object instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not is_api_path(request.path_info):
            return response
        patch_vary_headers(response, ("Accept",))
        media_type = response.get("Content-Type", "").partition(";")[0].strip()
        if response.status_code < 400 or media_type == JSONAPI_MEDIA_TYPE:
            return response
        status, phrase = response.status_code, response.reason_phrase
        detail = f"{phrase}: {request.method} {request.path}."
        error = exceptions.error_object(status, detail, phrase.lower().replace(" ", "_"))
        document = document_response(exceptions.error_document([error]), status=status)
        for header, value in response.items():
            if header.lower() not in ("content-type", "content-length"):
                document[header] = value
        document.cookies = response.cookies
        return document
