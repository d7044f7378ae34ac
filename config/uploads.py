"""Signed upload targets: the one way a resource takes a large file.

A resource issues a target (``issue``): a URL signed for one purpose and one object, valid
for ``UPLOAD_TTL_SECONDS``. The URL authorises the upload by itself, without a Bearer
token, like the signed URLs of AudioDN's seed. ``UploadView`` receives the bytes: it checks
the signature and the expiry when the upload starts (a long upload is not cut off), claims
the target once (a second upload, even a concurrent one, is a ``409``), streams the body
to a temporary file in chunks (memory stays flat whatever the size), and hands the file to
the purpose's ``receive``, which validates it and stores it through the models.

A purpose is registered by the app that owns the resource::

    uploads.register(uploads.Purpose("records", receive=..., max_bytes=...))
"""

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import IntegrityError, transaction
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config import storage
from config.jsonapi.documents import DocumentBuilder
from config.jsonapi.negotiation import content_type
from config.jsonapi.openapi import Document, JsonApiDocumentSchema, error_responses
from config.jsonapi.query import QueryParameters

SALT = "config.uploads"
CHUNK_SIZE = 1024 * 1024
_purposes = {}


@dataclass(frozen=True)
class Purpose:
    name: str
    receive: Callable  # (key, options, file, request) -> Response; ValidationError if bad
    max_bytes: Callable = lambda: settings.UPLOAD_MAX_BYTES
    method: str = "PUT"


def register(purpose):
    _purposes[purpose.name] = purpose


class UploadRefused(exceptions.PermissionDenied):
    """403: the target's signature is not ours, has expired, or is used for what it is not."""


class AlreadyReceived(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This upload target has already received its file."
    default_code = "already_received"


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Send the file with a Content-Length header."
    default_code = "length_required"


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"


class NoFile(exceptions.ValidationError):
    """422: a form upload without its file."""


class Incomplete(exceptions.ParseError):
    default_detail = "The body ended before Content-Length bytes arrived."
    default_code = "incomplete_body"


def issue(request, purpose, key, **options):
    """A new target for uploading ``purpose``'s file of object ``key``, as a JSON object;
    ``options`` (signed with it) reach the purpose's ``receive``."""
    ttl = settings.UPLOAD_TTL_SECONDS
    method = _purposes[purpose].method
    # The expiry is signed into the target: what the answer says is what the upload meets.
    expires = int(time.time()) + ttl
    payload = {"p": purpose, "k": str(key), "n": secrets.token_hex(16), "m": method}
    token = signing.dumps({**payload, "e": expires, "o": options}, salt=SALT, compress=True)
    return {
        "method": method,
        "upload-url": request.build_absolute_uri(reverse("upload", args=[token])),
        "ttl": ttl,
        "expires-at": datetime.fromtimestamp(expires, UTC).isoformat(),
    }


def verify(token, method):
    """The purpose and payload a token holds; ``UploadRefused`` unless it is valid now."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        payload = None
    shape = {"p": str, "k": str, "n": str, "m": str, "e": int, "o": dict}
    valid = isinstance(payload, dict) and all(
        isinstance(payload.get(name), kind) for name, kind in shape.items()
    )
    purpose = _purposes.get(payload["p"]) if valid else None
    if purpose is None:
        raise UploadRefused("This is not a valid upload target.", "invalid_signature")
    if time.time() > payload["e"]:
        raise UploadRefused("This upload target has expired: ask for a new one.", "expired")
    if method != payload["m"]:
        raise UploadRefused(f"This upload target takes {payload['m']}.", "wrong_method")
    return purpose, payload


def claim(nonce, purpose):
    """Claim the target for this upload, committed at once so that a concurrent upload to
    the same target sees it; ``AlreadyReceived`` when another upload has it."""
    from .models import UploadReceipt

    try:
        with transaction.atomic():
            UploadReceipt.objects.create(nonce=nonce, purpose=purpose.name)
    except IntegrityError:
        raise AlreadyReceived() from None


def release(nonce):
    """Give a target back after a failed upload, so that the client may try again."""
    from .models import UploadReceipt

    UploadReceipt.objects.filter(nonce=nonce).delete()


def receive_body(request, max_bytes):
    """The request body, streamed to a temporary file in CHUNK_SIZE pieces."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if not re.fullmatch(r"[0-9]{1,19}", length):
        raise LengthRequired()
    length = int(length)
    if length > max_bytes:
        raise TooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    # Closed by the caller (``with file``), or below when the body does not arrive whole.
    # A file-system storage moves it into place instead of copying it (its
    # ``temporary_file_path``), and closing it then is fine.
    file = TemporaryUploadedFile("upload", "application/octet-stream", length, None)
    received = 0
    try:
        while received < length:
            chunk = request.stream.read(min(CHUNK_SIZE, length - received))
            if not chunk:
                raise Incomplete()
            received += len(chunk)
            file.write(chunk)
        file.flush()
        file.seek(0)
        return file
    except BaseException:
        file.close()
        raise


FORM_FIELD = "file"
FORM_OVERHEAD = 64 * 1024  # room for the multipart boundaries and headers around the file


def receive_form_file(request, max_bytes):
    """The file of a ``multipart/form-data`` body's ``file`` field; Django's upload
    handlers keep a large one in a temporary file, not in memory."""
    media_type = content_type(request)
    if media_type is None or (media_type.type, media_type.subtype) != ("multipart", "form-data"):
        raise exceptions.UnsupportedMediaType(
            request.META.get("CONTENT_TYPE", ""),
            f"Send the file as multipart/form-data, in the field '{FORM_FIELD}'.",
        )
    length = request.META.get("CONTENT_LENGTH") or ""
    if not re.fullmatch(r"[0-9]{1,19}", length):
        raise LengthRequired()
    if int(length) > max_bytes + FORM_OVERHEAD:
        raise TooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    try:
        files = request._request.FILES
    except (MultiPartParserError, RequestDataTooBig, TooManyFilesSent) as exc:
        raise exceptions.ParseError(f"The multipart body is malformed: {exc}") from exc
    file = files.get(FORM_FIELD)
    if file is None:
        raise NoFile(f"Send the file in the multipart field '{FORM_FIELD}'.", "required")
    if file.size > max_bytes:
        file.close()
        raise TooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    return file


def release_on_failure(nonce, receive):
    """Run ``receive()`` in one transaction with the files it stores; when it fails or
    answers an error, roll it back and give the target back."""
    try:
        with storage.atomic():
            response = receive()
            if response.status_code >= 400:
                transaction.set_rollback(True)
    except BaseException:
        release(nonce)
        raise
    if response.status_code >= 400:
        release(nonce)
    return response


def created(request, serializer_class, instance):
    """201 with the resource's document, as its own endpoint renders it."""
    document = resource_document(request, serializer_class, instance)
    return Response(document, status=201, headers={"Location": document["links"]["self"]})


def received(request, serializer_class, instance):
    """200 with the document of the resource the file was for, as it now stands."""
    return Response(resource_document(request, serializer_class, instance))


def resource_document(request, serializer_class, instance):
    schema = serializer_class.schema()
    query = QueryParameters(request, schema, set())
    return DocumentBuilder(request, query, {"request": request}).single(schema, instance)


class UploadSchema(JsonApiDocumentSchema):
    """The upload endpoint: a PUT's body is the file itself, whatever its type; a POST's is
    a multipart form with the file in its ``file`` field."""

    def get_operation_id(self):
        return "upload-file" if self.method == "PUT" else "upload-form-file"

    def get_tags(self):
        return ["uploads"]

    def get_filter_backends(self):
        return []

    def get_summary(self):
        how = "the file as the body" if self.method == "PUT" else "a multipart form"
        return f"Upload the file of a signed upload target, {how} (the URL authorises)"

    def map_parsers(self):
        return ["application/octet-stream" if self.method == "PUT" else "multipart/form-data"]

    def get_request_serializer(self):
        if self.method == "PUT":
            return Document("UploadBody", lambda auto: {"type": "string", "format": "binary"})
        return Document(
            "UploadForm",
            lambda auto: {
                "type": "object",
                "required": [FORM_FIELD],
                "properties": {FORM_FIELD: {"type": "string", "format": "binary"}},
            },
        )

    def get_auth(self):
        return []

    def get_override_parameters(self):
        token = OpenApiParameter(
            "token",
            {"type": "string"},
            OpenApiParameter.PATH,
            required=True,
            description="The signed token of the target's upload-url.",
        )
        return [*super().get_override_parameters(), token]

    def get_response_serializers(self):
        document = Document(
            "UploadedResourceDocument",
            lambda auto: {
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"type": "object"}},
                "description": "The resource the file made or was for, as its own endpoint "
                "renders it.",
            },
        )
        responses = {200: OpenApiResponse(document, description="Received: the resource now.")}
        if self.method == "PUT":
            responses[201] = OpenApiResponse(document, description="Received: a new resource.")
        errors = [400, 403, 404, 406, 409, 411, 413, 422, 429]
        if self.method == "POST":
            errors.append(415)
        return {**responses, **error_responses(sorted(errors))}


class UploadView(APIView):
    """Receives the file of a signed upload target (``issue``)."""

    authentication_classes = []
    permission_classes = []
    parser_classes = []  # the body is the file, read as a stream
    schema = UploadSchema()
    http_method_names = ["put", "post"]  # as the target says: audio PUT, covers POST

    def put(self, request, token):
        return self._receive(request, token, receive_body)

    def post(self, request, token):
        return self._receive(request, token, receive_form_file)

    def _receive(self, request, token, read_file):
        purpose, payload = verify(token, request.method)
        nonce = payload["n"]
        claim(nonce, purpose)
        try:
            file = read_file(request, purpose.max_bytes())
        except BaseException:
            release(nonce)
            raise
        with file:
            return release_on_failure(
                nonce, lambda: purpose.receive(payload["k"], payload["o"], file, request)
            )

    def error_pointer(self, field_name):
        return None  # the body is a file, not a document: errors name no member
