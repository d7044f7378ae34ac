"""JSON:API error documents for every failure a request can meet.

Validation of a request body is 422 (409 where only uniqueness failed), problems with
query parameters are 400 with ``source.parameter``, and anything unexpected is a 500
document without internals. Every error object carries the request id as its ``id``.
"""

import logging
import re
from http import HTTPStatus

from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import integrity, middleware

logger = logging.getLogger("tracks.requests")

TITLES = {422: "Unprocessable Entity"}
# A uniqueness clash or a relationship naming the wrong type is a conflict (409), not a 422.
# So is a valid change that the resource's stored state or the catalog's graph forbids.
CONFLICT_CODES = {"unique", "type_conflict", "state_conflict", "cycle", "self_reference"}
# JSON:API: a request referencing a related resource that does not exist is a 404.
NOT_FOUND_CODES = {"does_not_exist"}


def title_for(status_code):
    return TITLES.get(status_code) or HTTPStatus(status_code).phrase


def error_object(status_code, detail, code=None, pointer=None, parameter=None, header=None):
    """One JSON:API error object; ``source`` names the member, parameter or header at fault."""
    error = {
        "id": middleware.current_request_id(),
        "status": str(status_code),
        "title": title_for(status_code),
        "detail": str(detail),
    }
    if code:
        error["code"] = str(code)
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    elif parameter is not None:
        error["source"] = {"parameter": parameter}
    elif header is not None:
        error["source"] = {"header": header}
    return error


def error_document(errors):
    return {"errors": errors}


class InvalidQueryParameter(exceptions.APIException):
    """A query parameter the resource does not understand or cannot accept (400)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_parameter"

    def __init__(self, parameter, detail, code=None):
        super().__init__(detail, code or self.default_code)
        self.parameter = parameter


class MalformedHeader(exceptions.ParseError):
    """A request header outside its grammar (400, ``source.header`` names it)."""

    default_code = "invalid_header"

    def __init__(self, header, detail, code=None):
        super().__init__(detail, code or self.default_code)
        self.header = header


class InvalidDocument(exceptions.ParseError):
    """A request document that is not a well-formed JSON:API document (400)."""

    default_code = "invalid_document"

    def __init__(self, detail, pointer=None, code=None):
        super().__init__(detail, code or self.default_code)
        self.pointer = pointer


class Conflict(exceptions.APIException):
    """The request contradicts the endpoint: wrong type, wrong id, a resource in use (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail, pointer=None, code=None):
        super().__init__(detail, code or self.default_code)
        self.pointer = pointer


class Forbidden(exceptions.PermissionDenied):
    def __init__(self, detail, pointer=None, code=None):
        super().__init__(detail, code)
        self.pointer = pointer


def validation_errors(detail, pointer_for):
    """Flatten DRF's nested error detail into (pointer, ErrorDetail) pairs."""
    for key, messages in _items(detail):
        yield from _flatten(messages, pointer_for(key))


# The sections of a resource object its members sit in, as pointers begin.
_MEMBER_SECTION = re.compile(r"^/data(?:/(?:attributes|relationships))?/?")


def member_errors(detail, schema):
    """(path among the resource's members, message) of a ``schema`` serializer's error
    detail, for code that validates a resource object inside something else (a level's
    inline checks, an importer's items): ``rule/all/0/value``, ``id``, "" for the whole."""
    for pointer, message in validation_errors(detail, schema.pointer):
        yield _MEMBER_SECTION.sub("", pointer, count=1), message


def _items(detail):
    if isinstance(detail, dict):
        return detail.items()
    return [(api_settings.NON_FIELD_ERRORS_KEY, detail)]


def _flatten(messages, pointer):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, f"{pointer}/{key}")
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            if isinstance(value, (dict, list)):
                yield from _flatten(value, f"{pointer}/{index}")
            else:
                yield pointer, value
    else:
        yield pointer, messages


def validation_response(exc, view):
    pointer_for = getattr(view, "error_pointer", None) or (lambda key: "/data")
    pairs = list(validation_errors(exc.detail, pointer_for))
    statuses = [validation_status(getattr(message, "code", None)) for _, message in pairs]
    errors = [
        error_object(code, message, getattr(message, "code", None), pointer=pointer)
        for code, (pointer, message) in zip(statuses, pairs, strict=True)
    ]
    response_status = combined_status(statuses)
    return Response(error_document(errors), status=response_status)


def combined_status(statuses):
    """One status for several errors: theirs when they agree; 422 when any value is invalid;
    else 409, as missing related resources (404) and clashes (409) both conflict with the
    server's current state rather than make the document invalid."""
    if len(set(statuses)) == 1:
        return statuses[0]
    return 422 if 422 in statuses else 409


def validation_status(code):
    if code in CONFLICT_CODES:
        return 409
    return 404 if code in NOT_FOUND_CODES else 422


def integrity_response(exc, view=None):
    """A database constraint refused a write that validation let through: validation left
    uniqueness to it (ResourceSerializer's ``unique_by_database``), or the request lost a
    race with a concurrent one, at a statement or at COMMIT. It gets the answer it would
    have had from validation a moment later: a duplicate gets the errors of the document
    validated completely (the 409 pointing at each rule's member), a reference to a row
    deleted meanwhile is the relationship's does-not-exist error, and a delete of a row
    referenced meanwhile is the in-use 409."""
    found = integrity.violation(exc)
    model = getattr(getattr(view, "resource_schema", None), "model", None)
    method = getattr(getattr(view, "request", None), "method", None)
    if found.kind == "foreign_key" and method == "DELETE":
        detail = "Other resources came to refer to this one while it was being deleted."
        return Response(error_document([error_object(409, detail, "in_use")]), status=409)
    if found.kind == "unique":
        saving = getattr(view, "saving", None)
        detail = saving.complete_errors() if saving is not None else None
        if detail:  # what validation says, now that the database has spoken
            return validation_response(exceptions.ValidationError(detail), view)
        fields = integrity.unique_fields(model, found) if model else None
        if fields:
            message = model().unique_error_message(model, fields).messages[0]
        else:
            message = "The resource conflicts with an existing one."
        key = fields[-1] if fields else api_settings.NON_FIELD_ERRORS_KEY
        return validation_response(
            exceptions.ValidationError({key: [ErrorDetail(message, "unique")]}), view
        )
    if found.kind == "foreign_key":
        field = integrity.referencing_field(model, found) if model else None
        message = ErrorDetail("A related resource was deleted meanwhile.", "does_not_exist")
        key = field or api_settings.NON_FIELD_ERRORS_KEY
        return validation_response(exceptions.ValidationError({key: [message]}), view)
    detail = "The resource breaks a data constraint."
    return Response(error_document([error_object(422, detail, "constraint")]), status=422)


def refused_request_error(exc):
    """The error object for a request Django itself refuses (a foreign Host, a body past
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many parameters, malformed percent-encoding), whether
    a DRF view or Django's handler400 meets it."""
    if isinstance(exc, DisallowedHost):
        detail = "The Host header names a host this service does not serve."
        return error_object(400, detail, "disallowed_host", header="Host")
    if isinstance(exc, RequestDataTooBig):
        return error_object(
            413, "The request body is larger than this service accepts.", "too_large"
        )
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        detail = "The request has more parameters or files than this service accepts."
        return error_object(400, detail, "too_many_fields")
    return error_object(400, "The request is malformed.", "bad_request")


def exception_handler(exc, context):
    """DRF exception handler producing JSON:API error documents."""
    view = context.get("view")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return validation_response(exc, view)
    if isinstance(exc, IntegrityError):
        return integrity_response(exc, view)
    if isinstance(exc, DatabaseError) and integrity.is_concurrency_failure(exc):
        detail = "The request met a concurrent change to the same resources; send it again."
        return Response(error_document([error_object(409, detail, "concurrent_update")]), 409)
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        error = refused_request_error(exc)
        return Response(error_document([error]), status=int(error["status"]))
    if isinstance(exc, DataError):
        # Validation should have caught it; the value came from the client all the same.
        logger.warning("Database refused a value: %s", exc)
        detail = "The request holds a value the database cannot store."
        return Response(error_document([error_object(400, detail, "invalid_value")]), status=400)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error", exc_info=exc)
        return server_error_response()

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    error = error_object(
        exc.status_code,
        exc.detail,
        getattr(exc.detail, "code", None),
        pointer=getattr(exc, "pointer", None),
        parameter=getattr(exc, "parameter", None),
        header=getattr(exc, "header", None),
    )
    return Response(error_document([error]), status=exc.status_code, headers=headers)


def server_error_response():
    detail = "The server met an unexpected condition; the request id identifies it in our logs."
    return Response(error_document([error_object(500, detail, "server_error")]), status=500)
