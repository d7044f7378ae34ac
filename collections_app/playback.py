"""Playback: play sessions and the signed, expiring media URLs they hand out.

``POST /api/v1/play-sessions`` takes a resource document naming one collection track or
one collection (exactly one, in the organization the request acts in) and answers a
``play-sessions`` resource: per playable track (``ready`` or ``incomplete``) its title,
duration, waveform ``levels`` and every ready variant with two URLs, one to play
(``inline``) and one to download (``attachment``). Nothing is stored: the session is its
signatures. Each URL holds the variant id, its expiry and the download flag signed with
``django.core.signing`` under a salt of its own (the style of ``config/uploads.py``); it
authorises by itself, without a Bearer token, until ``MEDIA_URL_TTL_SECONDS``.

``GET``/``HEAD /api/v1/media/<token>`` (``MediaView``) serves the bytes: single HTTP
ranges (206), ``ETag``/``If-None-Match`` (304), ``If-Range``, a ``Cache-Control`` as long
as the URL lives, streamed from storage in chunks (memory stays flat). A storage without
local paths (an S3-compatible bucket) is answered with a redirect to the storage's own URL
(django-storages: a presigned one). Errors are JSON:API documents.
"""

import hashlib
import math
import re
import time
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from oauth2_provider.contrib.rest_framework import TokenHasScope
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jsonapi import JSONAPI_MEDIA_TYPE, openapi, tenancy
from config.jsonapi.documents import resource_object
from config.jsonapi.exceptions import Conflict, error_document, error_object
from config.jsonapi.openapi import (
    ID_PATTERN,
    Document,
    JsonApiDocumentSchema,
    error_responses,
    obj,
    register,
    register_shared,
)
from config.jsonapi.relations import Relationship
from config.jsonapi.renderers import JsonApiRenderer

from .models import (
    Codec,
    Collection,
    CollectionTrack,
    Status,
    TrackVariant,
    VariantStatus,
    VariantType,
)
from .serializers import levels_schema

SALT = "collections_app.playback"
TYPE = "play-sessions"
CHUNK_SIZE = 64 * 1024
PLAYABLE = (Status.READY, Status.INCOMPLETE)
EXTENSIONS = {Codec.MP3: "mp3", Codec.OGG: "ogg", Codec.OPUS: "opus", Codec.AAC: "m4a"}


# --- Signed media URLs --------------------------------------------------------------------


def media_token(variant_id, expires, download=False):
    """The signed token of a media URL: the variant, the expiry (Unix time), the flag."""
    payload = {"v": str(variant_id), "e": int(expires), "d": int(bool(download))}
    return signing.dumps(payload, salt=SALT)


def media_url(request, variant_id, expires, download=False):
    token = media_token(variant_id, expires, download)
    return request.build_absolute_uri(reverse("playback-media", args=[token]))


class MediaRefused(exceptions.PermissionDenied):
    """403: the URL's signature is not ours, or it has expired."""


def verify(token):
    """The payload of a media token; ``MediaRefused`` unless it is ours and valid now."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        payload = None
    shape = {"v": str, "e": int, "d": int}
    if not (
        isinstance(payload, dict)
        and all(type(payload.get(name)) is kind for name, kind in shape.items())
    ):
        raise MediaRefused("This is not a valid media URL.", "invalid_signature")
    if time.time() > payload["e"]:
        raise MediaRefused("This media URL has expired: start a new play session.", "expired")
    return payload


# --- Play sessions ------------------------------------------------------------------------


class ReadScope(TokenHasScope):
    """A play session creates nothing that lasts: the ``read`` scope and an organization to
    act in are enough (no role, no model permission)."""

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        tenancy.request_organization(request)  # 403 when it acts in none
        return True


class PlaySessionRequest(serializers.Serializer):
    """What a play session is for: exactly one of a collection track or a collection, each
    resolved in the organization the request acts in (another organization's is the same
    404 as an unknown id)."""

    track = Relationship("collection-tracks", queryset=CollectionTrack.objects.all())
    collection = Relationship("collections", queryset=Collection.objects.all())

    RELATIONSHIPS = ("track", "collection")

    def to_internal_value(self, data):
        errors = {}
        for member in data["attributes"]:
            errors[f"/data/attributes/{member}"] = [
                serializers.ErrorDetail(f"'{member}' is not a member of {TYPE}.", "unknown_member")
            ]
        named = [m for m in data["relationships"] if m in self.RELATIONSHIPS]
        for member in data["relationships"]:
            if member not in self.RELATIONSHIPS:
                errors[f"/data/relationships/{member}"] = [
                    serializers.ErrorDetail(
                        f"'{member}' is not a member of {TYPE}.", "unknown_member"
                    )
                ]
        if len(named) != 1 and not errors:
            detail = "Name exactly one of the relationships 'track' and 'collection'."
            errors["/data/relationships"] = [serializers.ErrorDetail(detail, "required")]
        if errors:
            raise serializers.ValidationError(errors)
        member = named[0]
        field = self.fields[member]
        try:
            value = field.run_validation(data["relationships"][member])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({member: exc.detail}) from exc
        return {member: value}


def session_tracks(request, target, expires):
    """The playable tracks of ``target`` (a track or a collection), each with its ready
    variants and their URLs."""
    variants = Prefetch(
        "variants",
        queryset=TrackVariant.objects.filter(status=VariantStatus.READY)
        .exclude(file="")
        .exclude(file__isnull=True)
        .order_by("variant_type", "codec", "-bitrate", "created_at", "id"),
        to_attr="ready_variants",
    )
    if isinstance(target, CollectionTrack):
        tracks = CollectionTrack.objects.filter(pk=target.pk)
    else:
        tracks = target.tracks.filter(status__in=PLAYABLE)
    return [
        {
            "id": str(track.pk),
            "title": track.title,
            "duration": track.duration,
            "levels": track.levels,
            "variants": [
                {
                    "id": str(variant.pk),
                    "variant-type": variant.variant_type,
                    "codec": variant.codec,
                    "bitrate": variant.bitrate,
                    "mime-type": variant.mime_type,
                    "duration": variant.duration,
                    "url": media_url(request, variant.pk, expires),
                    "download-url": media_url(request, variant.pk, expires, download=True),
                }
                for variant in track.ready_variants
            ],
        }
        for track in tracks.prefetch_related(variants)
    ]


class PlaySessionSchema(JsonApiDocumentSchema):
    """``POST /play-sessions``: the request names a track or a collection; the answer is a
    ``play-sessions`` resource with expiring media URLs."""

    def get_operation_id(self):
        return "create-play-session"

    def get_tags(self):
        return [TYPE]

    def get_summary(self):
        return "Start a play session: signed, expiring media URLs of a track or a collection"

    def get_description(self):
        return (
            "Answers 201 with a new play-sessions resource (it is not stored, so it has no "
            "URL of its own and no Location): per playable track (status ready or "
            "incomplete; for a collection, its playable tracks in order) its ready variants, "
            "each with a URL to play and one to download. The URLs need no token and "
            "expire at expires-at. A track that is not playable yet is a 409."
        )

    def get_auth(self):
        return [{"oauth2": ["read"]}]  # it creates nothing that lasts: read is enough

    def get_override_parameters(self):
        parameters = [p for p in super().get_override_parameters() if p.name != "Location"]
        parameters.append(
            OpenApiParameter(
                tenancy.ORGANIZATION_HEADER,
                {"type": "string"},
                OpenApiParameter.HEADER,
                description="The slug of the organization to act in, for a user in several. "
                "Another organization's tracks and collections do not exist for the request.",
            )
        )
        return parameters

    def get_request_serializer(self):
        return Document("PlaySessionsCreateDocument", lambda auto: play_session_request())

    def get_response_serializers(self):
        document = Document("PlaySessionsDocument", play_session_document)
        created = OpenApiResponse(document, description="A new play session.")
        return {201: created, **error_responses([400, 401, 403, 404, 406, 409, 415, 422, 429])}


def linkage(resource_type):
    identifier = obj(
        {
            "type": {"type": "string", "enum": [resource_type]},
            "id": {"type": "string", "pattern": ID_PATTERN},
        },
        ["type", "id"],
    )
    return obj({"data": identifier}, ["data"])


def play_session_request():
    relationships = obj(
        {"track": linkage("collection-tracks"), "collection": linkage("collections")},
        additionalProperties=False,
        minProperties=1,
        maxProperties=1,
        description="Exactly one: a collection track, or a collection (its playable tracks).",
    )
    data = obj(
        {
            "type": {"type": "string", "enum": [TYPE]},
            "attributes": obj({}, additionalProperties=False),
            "relationships": relationships,
        },
        ["type", "relationships"],
    )
    return obj({"data": data}, ["data"])


def play_session_document(auto):
    nullable_number = {"type": "number", "minimum": 0, "nullable": True}
    variant = obj(
        {
            "id": {"type": "string", "format": "uuid"},
            "variant-type": {"type": "string", "enum": VariantType.values},
            "codec": {"type": "string", "enum": Codec.values},
            "bitrate": {"type": "integer", "description": "kbit/s"},
            "mime-type": {"type": "string", "nullable": True},
            "duration": nullable_number,
            "url": {
                "type": "string",
                "format": "uri",
                "description": "Plays the variant (inline), without a token, until expires-at.",
            },
            "download-url": {
                "type": "string",
                "format": "uri",
                "description": "The same bytes as an attachment named after the track.",
            },
        },
        ["id", "variant-type", "codec", "bitrate", "mime-type", "duration", "url", "download-url"],
    )
    track = obj(
        {
            "id": {"type": "string", "format": "uuid"},
            "title": {"type": "string"},
            "duration": nullable_number,
            "levels": levels_schema.openapi_schema,
            "variants": {
                "type": "array",
                "items": register(auto, "PlaySessionVariant", lambda: variant),
            },
        },
        ["id", "title", "duration", "levels", "variants"],
    )
    resource = obj(
        {
            "type": {"type": "string", "enum": [TYPE]},
            "id": {"type": "string", "format": "uuid"},
            "attributes": obj(
                {
                    "expires-at": {"type": "string", "format": "date-time"},
                    "tracks": {
                        "type": "array",
                        "items": register(auto, "PlaySessionTrack", lambda: track),
                    },
                },
                ["expires-at", "tracks"],
            ),
        },
        ["type", "id", "attributes"],
    )
    return obj(
        {
            "jsonapi": register_shared(auto, "JsonApi"),
            "data": register(auto, "PlaySessionsResource", lambda: resource),
        },
        ["jsonapi", "data"],
    )


class PlaySessionView(APIView):
    """``POST /api/v1/play-sessions``."""

    permission_classes = [ReadScope]
    required_scopes = ["read"]
    metadata_class = None
    http_method_names = ["post"]
    schema = PlaySessionSchema()

    def post(self, request):
        resource = resource_object(request.data, TYPE)
        request_serializer = PlaySessionRequest(data=resource, context={"request": request})
        request_serializer.is_valid(raise_exception=True)
        target = next(iter(request_serializer.validated_data.values()))
        if isinstance(target, CollectionTrack) and target.status not in PLAYABLE:
            raise Conflict(
                f"This track is not playable yet (its status is {target.status}).",
                "/data/relationships/track",
                "not_ready",
            )
        expires = int(time.time()) + settings.MEDIA_URL_TTL_SECONDS
        attributes = {
            "expires-at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "tracks": session_tracks(request, target, expires),
        }
        data = {"type": TYPE, "id": str(uuid.uuid4()), "attributes": attributes}
        return Response({"data": data}, status=201)

    def error_pointer(self, field_name):
        if field_name.startswith("/"):
            return field_name
        if field_name in PlaySessionRequest.RELATIONSHIPS:
            return f"/data/relationships/{field_name}"
        return "/data"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, (tenancy.ORGANIZATION_HEADER,))
        return response


# --- The media view -----------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(.*)", re.IGNORECASE | re.DOTALL)
_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")
_ENTITY_TAG = re.compile(r'[ \t]*(W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,|$)')


def _number(digits):
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 30 else math.inf  # past any file size


def parse_range(value, size):
    """The byte range a ``Range`` header asks of a ``size``-byte representation.

    ``None``: the header is to be ignored (malformed, another unit, or several ranges:
    RFC 9110 lets a server answer the whole representation); ``()``: unsatisfiable (416);
    else ``(first, last)``, both inclusive.
    """
    match = _RANGE.fullmatch(value)
    if match is None:
        return None
    specs = [spec.strip(" \t") for spec in match[1].split(",")]
    specs = [spec for spec in specs if spec]  # a list may hold empty elements
    if len(specs) != 1:
        return None
    spec = specs[0]
    if found := _INT_RANGE.fullmatch(spec):
        first = _number(found[1])
        last = _number(found[2]) if found[2] else math.inf
        if last < first:
            return None  # an invalid range-spec: the header is malformed
        if first >= size:
            return ()
        return first, min(last, size - 1)
    if found := _SUFFIX_RANGE.fullmatch(spec):
        length = _number(found[1])
        if length == 0 or size == 0:
            return ()
        return max(0, size - length), size - 1
    return None


def _entity_tags(value):
    """The entity tags of an If-None-Match or If-Range value, ``["*"]`` for a star, or
    ``None`` when it is not a list of them."""
    if value.strip(" \t") == "*":
        return ["*"]
    tags, pos = [], 0
    while pos < len(value):
        match = _ENTITY_TAG.match(value, pos)
        if match is None:
            return None
        tags.append((bool(match[1]), match[2]))
        pos = match.end()
    return tags


def none_match(value, etag):
    """If-None-Match (weak comparison): True when the client has this representation."""
    tags = _entity_tags(value)
    if tags == ["*"]:
        return True
    return bool(tags) and any(tag == etag for _, tag in tags)


def if_range_holds(value, etag):
    """If-Range: only a strong entity tag equal to ours keeps the Range; a date (we send
    no Last-Modified) or anything else answers the whole representation."""
    tags = _entity_tags(value)
    return bool(tags) and tags != ["*"] and len(tags) == 1 and tags[0] == (False, etag)


def content_disposition(disposition, title, extension):
    """RFC 6266: an ASCII ``filename`` always, and ``filename*`` (RFC 8187, UTF-8) when the
    name is not ASCII."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", title).strip() or "audio"
    name = f"{name}.{extension}" if extension else name
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["%]', "_", ascii_name).strip() or f"audio.{extension}"
    header = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def extension_of(variant):
    suffix = PurePosixPath(variant.file.name).suffix.lstrip(".")
    return suffix or EXTENSIONS.get(variant.codec, "")


class RangeIterator:
    """``length`` bytes of an open file from ``start``, in chunks; closes the file when
    the response is closed."""

    def __init__(self, file, start, length):
        self.file, self.start, self.length = file, start, length

    def __iter__(self):
        self.file.seek(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = self.file.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def close(self):
        self.file.close()


class AnyAccept(BaseContentNegotiation):
    """The media view answers audio whatever ``Accept`` says (a browser's ``<audio>``
    sends ``*/*``); its errors are JSON:API documents."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def not_found():
    return exceptions.NotFound("This media no longer exists: start a new play session.")


class MediaSchema(JsonApiDocumentSchema):
    """``GET /media/{token}``: audio bytes on success, JSON:API documents for errors."""

    def get_operation_id(self):
        return "get-media"

    def get_tags(self):
        return [TYPE]

    def get_summary(self):
        return "The audio of a play session's media URL (the URL authorises)"

    def get_description(self):
        return (
            "Answers the variant's audio. A single Range (bytes=a-b, bytes=a-, bytes=-n) is "
            "a 206 with Content-Range; several ranges in one header, a malformed Range or "
            "one in another unit are ignored (200, the whole file); an unsatisfiable range "
            "is a 416 with Content-Range: bytes */size. If-None-Match matching the ETag is "
            "a 304; If-Range keeps the Range only when it is the current ETag. A storage "
            "without local files (an S3-compatible bucket) answers 302 to the storage's own "
            "(presigned) URL. HEAD answers the headers of the whole file."
        )

    def get_auth(self):
        return []

    def get_filter_backends(self):
        return []

    def map_renderers(self, attribute):
        return [JSONAPI_MEDIA_TYPE]

    def get_override_parameters(self):
        token = OpenApiParameter(
            "token",
            {"type": "string"},
            OpenApiParameter.PATH,
            required=True,
            description="The signed token of a play session's url or download-url.",
        )

        def header(name, schema, responses, description, required=True):
            return OpenApiParameter(
                name,
                schema,
                OpenApiParameter.HEADER,
                response=responses,
                required=required,
                description=description,
            )

        string = {"type": "string"}
        return [
            *[p for p in super().get_override_parameters() if p.name != "Location"],
            OpenApiParameter(
                tenancy.ORGANIZATION_HEADER,
                string,
                OpenApiParameter.HEADER,
                description="Ignored: the signed URL alone says what it serves.",
            ),
            OpenApiParameter(
                "Range",
                string,
                OpenApiParameter.HEADER,
                description="One byte range (bytes=a-b, bytes=a-, bytes=-n); anything else "
                "is ignored.",
            ),
            OpenApiParameter(
                "If-None-Match", string, OpenApiParameter.HEADER, description="ETags: 304."
            ),
            OpenApiParameter(
                "If-Range",
                string,
                OpenApiParameter.HEADER,
                description="The ETag the Range is for; otherwise the whole file.",
            ),
            token,
            header("Accept-Ranges", {"type": "string", "enum": ["bytes"]}, [200, 206], ""),
            header("ETag", string, [200, 206, 304], "Strong: the variant's file as it is now."),
            header(
                "Cache-Control",
                string,
                [200, 206, 304],
                "private, max-age=<seconds the URL has left>",
            ),
            header("Content-Length", {"type": "integer", "minimum": 0}, [200, 206], ""),
            header(
                "Content-Disposition",
                string,
                [200, 206],
                "inline for a url, attachment for a download-url; filename from the track's "
                'title (filename* for non-ASCII, RFC 6266), e.g. attachment; filename="Song.mp3"',
            ),
            header(
                "Content-Range",
                string,
                [206, 416],
                "bytes first-last/size (206) or bytes */size (416).",
            ),
            header("Location", {"type": "string", "format": "uri"}, [302], "The storage's URL."),
        ]

    def get_response_serializers(self):
        audio = Document("MediaBody", lambda auto: {"type": "string", "format": "binary"})
        return {
            (200, "audio/*"): OpenApiResponse(audio, description="The whole file."),
            (206, "audio/*"): OpenApiResponse(audio, description="The range asked for."),
            302: OpenApiResponse(description="The file is in an object store: fetch it there."),
            304: OpenApiResponse(description="Not modified: the ETag matches If-None-Match."),
            **error_responses([403, 404]),
            416: OpenApiResponse(
                Document("ErrorDocument", openapi.error_document),
                "No byte of the range is in the file (Content-Range: bytes */size).",
            ),
        }


class MediaView(APIView):
    """``GET``/``HEAD /api/v1/media/<token>``: the bytes of a signed media URL."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # a player issues a request per seek; sessions are throttled
    renderer_classes = [JsonApiRenderer]
    parser_classes = []
    content_negotiation_class = AnyAccept
    metadata_class = None
    http_method_names = ["get", "head"]
    schema = MediaSchema()

    def get(self, request, token):
        return self.serve(request, token)

    def head(self, request, token):
        return self.serve(request, token)

    def serve(self, request, token):
        payload = verify(token)
        variant = (
            TrackVariant.objects.select_related("track")
            .filter(pk=payload["v"], status=VariantStatus.READY)
            .first()
        )
        if variant is None or not variant.file:
            raise not_found()
        remaining = max(0, payload["e"] - int(time.time()))
        storage, name = variant.file.storage, variant.file.name
        try:
            storage.path(name)
        except NotImplementedError:
            # An object store: its own URL (django-storages' S3: presigned) serves the bytes.
            response = HttpResponse(status=302)
            response["Location"] = storage.url(name)
            response["Cache-Control"] = "private, no-store"
            return response
        try:
            size = storage.size(name)
        except OSError:
            raise not_found() from None
        etag = '"{}"'.format(
            hashlib.sha256(
                f"{variant.pk}:{size}:{variant.updated_at.isoformat()}:{name}".encode()
            ).hexdigest()[:32]
        )
        headers = {"ETag": etag, "Cache-Control": f"private, max-age={remaining}"}
        if none_match(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponseNotModified()
            for key, value in headers.items():
                response[key] = value
            return response
        headers["Accept-Ranges"] = "bytes"
        disposition = "attachment" if payload["d"] else "inline"
        headers["Content-Disposition"] = content_disposition(
            disposition, variant.track.title, extension_of(variant)
        )
        first, last, status = 0, size - 1, 200
        wanted = request.headers.get("Range") if request.method == "GET" else None
        chosen = None if wanted is None else parse_range(wanted, size)
        if chosen is not None and (
            "If-Range" not in request.headers or if_range_holds(request.headers["If-Range"], etag)
        ):
            if chosen == ():
                detail = f"The range is outside the file's {size} bytes."
                document = error_document([error_object(416, detail, "range_not_satisfiable")])
                return Response(
                    document,
                    status=416,
                    headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
                )
            (first, last), status = chosen, 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        length = last - first + 1 if size else 0
        content_type = variant.mime_type or "application/octet-stream"
        if request.method == "HEAD":
            response = HttpResponse(status=status, content_type=content_type)
        else:
            try:
                file = storage.open(name, "rb")
            except OSError:
                raise not_found() from None
            response = StreamingHttpResponse(
                RangeIterator(file, first, length), status=status, content_type=content_type
            )
        for key, value in headers.items():
            response[key] = value
        response["Content-Length"] = str(length)
        return response
