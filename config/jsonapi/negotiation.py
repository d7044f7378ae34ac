"""Content negotiation by the rules of JSON:API 1.1, on headers parsed strictly.

A request body must be ``application/vnd.api+json`` whose only parameters are ``ext`` and
``profile`` (415 otherwise), and an ``Accept`` header that names the JSON:API media type
only with parameters we cannot honour is refused with 406.

``Content-Type`` and ``Accept`` are parsed here by the grammar of RFC 9110 (media types,
parameters, quoted strings, weights) with the names of RFC 6838; a value outside it is a
400 naming the header. DRF and Django parse these headers too, with a lenient parser that
raises on some values (RFC 2231 parameters with an unknown charset): checking both headers
first, when DRF starts negotiating, means they only ever see values that parse.
"""

import re
from typing import NamedTuple

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation

from . import JSONAPI_MEDIA_TYPE
from .exceptions import MalformedHeader

ALLOWED_PARAMETERS = {"ext", "profile"}
# No JSON:API extension is implemented yet; an `ext` naming one we lack is refused.
SUPPORTED_EXTENSIONS = frozenset()

_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"  # RFC 6838 restricted-name
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x20-\x7e\x80-\xff])*"'
_MEDIA_RANGE = re.compile(rf"(?:({_NAME})/({_NAME})|({_NAME})/\*|\*/\*)")
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*(?:({_NAME})=({_TOKEN}|{_QUOTED}))?")
_QUOTED_PAIR = re.compile(r"\\(.)")
_WEIGHT = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_OWS = re.compile(r"[ \t]*")


class MediaType(NamedTuple):
    """One media type (or, in Accept, media range) with its parameters, ``q`` apart."""

    type: str  # lower case, "*" where a range leaves it open
    subtype: str
    params: dict
    q: float = 1.0

    @property
    def specificity(self):
        return (self.type != "*") + (self.subtype != "*") + bool(self.params)

    def matches(self, media_type):
        """True when this range admits ``media_type`` (a renderer's or a parser's)."""
        main, _, sub = media_type.partition(";")[0].strip().lower().partition("/")
        return self.type in ("*", main) and self.subtype in ("*", sub)


def parse_media_types(value, header, many=False):
    """The media types in a header value: one for Content-Type, a list for Accept.

    Raises MalformedHeader for anything outside the grammar, repeated parameters included.
    """
    found, pos = [], _OWS.match(value).end()
    while pos < len(value):
        if many and value[pos] == ",":  # lists may hold empty elements (RFC 9110, 5.6.1)
            pos = _OWS.match(value, pos + 1).end()
            continue
        media_range = _MEDIA_RANGE.match(value, pos)
        if media_range is None or (not many and "*" in media_range[0]):
            raise MalformedHeader(header, f"The {header} header is not a valid media type.")
        params, pos = {}, media_range.end()
        while parameter := _PARAMETER.match(value, pos):
            pos = parameter.end()
            if parameter[1] is None:
                continue
            name = parameter[1].lower()
            if name in params:
                raise MalformedHeader(
                    header, f"The {header} header repeats the '{name}' parameter."
                )
            params[name] = _unquote(parameter[2])
        pos = _OWS.match(value, pos).end()
        if pos < len(value) and not (many and value[pos] == ","):
            raise MalformedHeader(header, f"The {header} header is not a valid media type.")
        main, _, sub = media_range[0].lower().partition("/")
        found.append(MediaType(main, sub, params, _weight(params, header) if many else 1.0))
    return found


def _unquote(value):
    if value.startswith('"'):
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


def _weight(params, header):
    q = params.pop("q", "1")
    if not _WEIGHT.fullmatch(q):
        raise MalformedHeader(header, f"The {header} header has an invalid weight 'q={q}'.")
    return float(q)


def content_type(request):
    """The request's media type, or None when it names none."""
    media_types = parse_media_types(request.META.get("CONTENT_TYPE", ""), "Content-Type")
    return media_types[0] if media_types else None


def accepted_ranges(request):
    """The media ranges of ``Accept``; a missing or empty header accepts anything."""
    ranges = parse_media_types(request.META.get("HTTP_ACCEPT", ""), "Accept", many=True)
    return ranges or [MediaType("*", "*", {})]


def is_acceptable(params):
    """True when JSON:API media-type parameters ask for nothing we lack."""
    if set(params) - ALLOWED_PARAMETERS:
        return False
    extensions = params.get("ext", "").split()
    return all(uri in SUPPORTED_EXTENSIONS for uri in extensions)


def _is_jsonapi(media_type):
    return f"{media_type.type}/{media_type.subtype}" == JSONAPI_MEDIA_TYPE


class JsonApiContentNegotiation(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        media_type = content_type(request)
        if media_type is None or (_is_jsonapi(media_type) and not is_acceptable(media_type.params)):
            return None  # DRF answers 415 Unsupported Media Type
        return next((parser for parser in parsers if media_type.matches(parser.media_type)), None)

    def select_renderer(self, request, renderers, format_suffix=None):
        """Checks both headers (the first thing DRF does with a request), then picks the
        renderer the client prefers: each is weighed by the most specific range that admits
        it (RFC 9110, 12.5.1), the first renderer winning a tie."""
        ranges = accepted_ranges(request)
        content_type(request)
        usable = [r for r in ranges if not _is_jsonapi(r) or is_acceptable(r.params)]
        if any(_is_jsonapi(r) for r in ranges) and not any(_is_jsonapi(r) for r in usable):
            raise exceptions.NotAcceptable(
                "Every JSON:API media type in Accept carries parameters this server "
                "does not support."
            )
        format_query = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if format_query:
            renderers = self.filter_renderers(renderers, format_query)
        weights = [_quality(usable, renderer.media_type) for renderer in renderers]
        if not weights or max(weights) == 0:
            raise exceptions.NotAcceptable(available_renderers=renderers)
        renderer = renderers[weights.index(max(weights))]
        return renderer, renderer.media_type


def _quality(ranges, media_type):
    matching = [media_range for media_range in ranges if media_range.matches(media_type)]
    return max(matching, key=lambda r: r.specificity).q if matching else 0
