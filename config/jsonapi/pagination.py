"""Page-number pagination with the distribution seed's ``meta.page`` block, and AudioDN's
offset pagination beside it for the resources that come from there.

``page[size]`` above the maximum is refused (400) rather than silently capped, and a page
past the end is an empty ``data`` array with correct meta, not an error.
"""

import math
import re
from urllib.parse import urlencode

from config.compiled import STATEMENTS

from .exceptions import InvalidQueryParameter

NUMBER, SIZE = "page[number]", "page[size]"
OFFSET, LIMIT = "page[offset]", "page[limit]"
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


class JsonApiPagination:
    default_page_size = 20
    max_page_size = 100
    page_names = {"number", "size"}
    meta_component = "PageMeta"  # its description (config/jsonapi/openapi.py)

    def _positive_int(self, params, name, parameter, default):
        raw = params.get(name)
        if raw is None:
            return default
        if not PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise InvalidQueryParameter(parameter, f"{parameter} must be a positive integer.")
        return int(raw)

    def paginate_queryset(self, queryset, request, query, read=list):
        """The page's rows: ``read`` of the page's slice of ``queryset`` (model instances by
        default; rows of columns for the compiled read path, documents.collection_reading)."""
        for name in sorted(set(query.page) - self.page_names):
            parameter = f"page[{name}]"
            raise InvalidQueryParameter(parameter, f"{parameter} is not supported here.")
        self.request = request
        self.size = self._positive_int(query.page, "size", SIZE, self.default_page_size)
        if self.size > self.max_page_size:
            raise InvalidQueryParameter(SIZE, f"{SIZE} may be at most {self.max_page_size}.")
        self.number = self._positive_int(query.page, "number", NUMBER, 1)
        return self._window(queryset, (self.number - 1) * self.size, self.size, read)

    def _window(self, queryset, start, size, read):
        """``read`` of at most ``size`` rows from ``start``; sets ``total``. A first page is
        read before anything is counted: when it is not full it is the whole collection,
        and no COUNT is needed. A later page is counted first, so that a page past the end
        skips its query."""
        if start == 0:
            rows = read(queryset[:size])
            self.total = len(rows) if len(rows) < size else STATEMENTS.count(queryset)
            return rows
        self.total = STATEMENTS.count(queryset)
        return read(queryset[start : start + size]) if start < self.total else []

    def get_schema_operation_parameters(self, view):
        """``page[number]`` and ``page[size]`` as OpenAPI parameters (DRF's schema hook)."""
        return [
            {
                "name": NUMBER,
                "in": "query",
                "required": False,
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 10**9 - 1},
            },
            {
                "name": SIZE,
                "in": "query",
                "required": False,
                "description": f"Page size (default {self.default_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def paginate(self, document, count):
        """Add ``meta.page`` and pagination links to a collection document of ``count`` rows."""
        last_page = max(1, math.ceil(self.total / self.size))
        first_row = (self.number - 1) * self.size + 1
        document["meta"] = {
            "page": {
                "currentPage": self.number,
                "from": first_row if count else None,
                "lastPage": last_page,
                "perPage": self.size,
                "to": first_row + count - 1 if count else None,
                "total": self.total,
            }
        }
        links = {"self": self._link(self.number), "first": self._link(1)}
        links["last"] = self._link(last_page)
        if self.number > 1:
            links["prev"] = self._link(self.number - 1)
        if self.number < last_page:
            links["next"] = self._link(self.number + 1)
        document["links"] = links
        return document

    def _link(self, number):
        return self._link_to({NUMBER: number, SIZE: self.size})

    def _link_to(self, page):
        """This request's URL with ``page`` as its only page parameters."""
        url, params = self._unpaged_url()
        return f"{url}?{urlencode([*params, *page.items()], safe=',')}"

    def _unpaged_url(self):
        """This request's absolute URL without its query, and its query parameters other
        than the page's: worked out once for the links of its document."""
        request = self.request
        if getattr(self, "_unpaged_for", None) is not request:
            params = [
                (k, v)
                for k, v in request.query_params.items()
                if k not in {NUMBER, SIZE, OFFSET, LIMIT}
            ]
            self._unpaged = request.build_absolute_uri(request.path), params
            self._unpaged_for = request
        return self._unpaged


class OffsetOrPageNumberPagination(JsonApiPagination):
    """AudioDN's ``page[offset]``/``page[limit]`` (limit 1 to 200, default 50), or pages by
    number as everywhere else. Offset pages answer ``meta.page`` as ``{offset, limit,
    total}``; the two styles cannot be mixed in one request."""

    default_page_size = 50
    max_page_size = 200
    page_names = {"number", "size", "offset", "limit"}
    meta_component = "OffsetOrPageMeta"

    def paginate_queryset(self, queryset, request, query, read=list):
        self.offset = None
        if not {"offset", "limit"} & set(query.page):
            return super().paginate_queryset(queryset, request, query, read)
        if {"number", "size"} & set(query.page):
            sent = OFFSET if "offset" in query.page else LIMIT
            raise InvalidQueryParameter(
                sent, "Use page[offset]/page[limit] or page[number]/page[size], not both."
            )
        self.request = request
        self.limit = self._whole(query.page, "limit", LIMIT, self.default_page_size, 1)
        if self.limit > self.max_page_size:
            raise InvalidQueryParameter(LIMIT, f"{LIMIT} may be at most {self.max_page_size}.")
        self.offset = self._whole(query.page, "offset", OFFSET, 0, 0)
        return self._window(queryset, self.offset, self.limit, read)

    def _whole(self, params, name, parameter, default, minimum):
        raw = params.get(name)
        if raw is None:
            return default
        if not PAGE_NUMBER.fullmatch(raw) or int(raw) < minimum:
            kind = "positive" if minimum else "non-negative"
            raise InvalidQueryParameter(parameter, f"{parameter} must be a {kind} integer.")
        return int(raw)

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": OFFSET,
                "in": "query",
                "required": False,
                "description": "Rows to skip (default 0); not with page[number]/page[size].",
                "schema": {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
            },
            {
                "name": LIMIT,
                "in": "query",
                "required": False,
                "description": f"Rows to return (default {self.default_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def paginate(self, document, count):
        if self.offset is None:
            return super().paginate(document, count)
        document["meta"] = {
            "page": {"offset": self.offset, "limit": self.limit, "total": self.total}
        }
        last = max(0, (self.total - 1) // self.limit * self.limit)
        links = {"self": self._offset_link(self.offset), "first": self._offset_link(0)}
        links["last"] = self._offset_link(last)
        if self.offset > 0:
            links["prev"] = self._offset_link(max(0, self.offset - self.limit))
        if self.offset + self.limit < self.total:
            links["next"] = self._offset_link(self.offset + self.limit)
        document["links"] = links
        return document

    def _offset_link(self, offset):
        return self._link_to({OFFSET: offset, LIMIT: self.limit})
