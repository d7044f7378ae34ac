"""Page-number pagination with the distribution seed's ``meta.page`` block.

``page[size]`` above the maximum is refused (400) rather than silently capped, and a page
past the end is an empty ``data`` array with correct meta, not an error.
"""

import math
import re
from urllib.parse import urlencode

from .exceptions import InvalidQueryParameter

NUMBER, SIZE = "page[number]", "page[size]"
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


class JsonApiPagination:
    default_page_size = 20
    max_page_size = 100

    def _positive_int(self, params, name, parameter, default):
        raw = params.get(name)
        if raw is None:
            return default
        if not PAGE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise InvalidQueryParameter(parameter, f"{parameter} must be a positive integer.")
        return int(raw)

    def paginate_queryset(self, queryset, request, query):
        self.request = request
        self.size = self._positive_int(query.page, "size", SIZE, self.default_page_size)
        if self.size > self.max_page_size:
            raise InvalidQueryParameter(SIZE, f"{SIZE} may be at most {self.max_page_size}.")
        self.number = self._positive_int(query.page, "number", NUMBER, 1)
        self.total = queryset.count()
        start = (self.number - 1) * self.size
        return list(queryset[start : start + self.size]) if start < self.total else []

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
        params = [(k, v) for k, v in self.request.query_params.items() if k not in {NUMBER, SIZE}]
        params += [(NUMBER, number), (SIZE, self.size)]
        query = urlencode(params, safe=",")
        return f"{self.request.build_absolute_uri(self.request.path)}?{query}"
