"""The query parameters of a request, checked up front against what the endpoint accepts.

Anything a resource does not understand is a 400 naming the parameter, never silently
ignored: a typo in ``filter[titel]`` must not return the whole catalog.
"""

import re

from .exceptions import InvalidQueryParameter
from .schema import MAX_INCLUDE_DEPTH, MAX_TO_MANY_HOPS, known_types, schema_for_type

PARAMETER = re.compile(r"^(?P<family>[a-z]+(?:-[a-z]+)*)(?:\[(?P<name>[^\[\]]*)\])?$")
FAMILIES_WITH_NAME = {"filter", "fields", "page"}
PAGE_NAMES = {"number", "size", "offset", "limit"}  # the paginator says which it takes


class QueryParameters:
    """Parsed ``include``, ``fields``, ``sort``, ``filter`` and ``page`` parameters."""

    def __init__(self, request, schema, allowed):
        self.include = {}
        self.fields = {}
        self.sort = []
        self.filters = {}
        self.page = {}
        self.options = {}
        params = request.query_params
        for key in params:
            family, name = self._split(key, allowed)
            values = params.getlist(key)
            if len(values) > 1:
                raise InvalidQueryParameter(key, f"The parameter '{key}' may be given only once.")
            value = values[0]
            if family == "include":
                self.include = self._parse_include(value, schema, key)
            elif family == "fields":
                self.fields[name] = self._parse_fields(name, value, key)
            elif family == "sort":
                self.sort = self._parse_sort(value, key)
            elif family == "filter":
                self.filters[name] = value
            elif family == "page":
                self.page[name] = value
            else:  # a parameter of the resource's own (``cascade`` of a delete)
                self.options[family] = value

    def flag(self, name):
        """A true/false option of the resource's own (``?cascade=true``); absent: false."""
        value = self.options.get(name, "false")
        if value not in ("true", "false"):
            raise InvalidQueryParameter(name, f"{name} is true or false.")
        return value == "true"

    @staticmethod
    def _split(key, allowed):
        match = PARAMETER.match(key)
        family = match and match["family"]
        if not match or family not in allowed:
            raise InvalidQueryParameter(key, f"The parameter '{key}' is not supported here.")
        name = match["name"]
        if (name is None) == (family in FAMILIES_WITH_NAME) or (
            family == "page" and name not in PAGE_NAMES
        ):
            raise InvalidQueryParameter(key, f"The parameter '{key}' is not supported here.")
        if name == "":
            raise InvalidQueryParameter(key, f"The parameter '{key}' needs a name in brackets.")
        return family, name

    @staticmethod
    def _parse_include(value, schema, key):
        tree = {}
        for path in value.split(","):
            if path not in schema.include_paths:
                raise InvalidQueryParameter(
                    key,
                    f"'{path}' is not an include path of {schema.type} (relationship names, "
                    f"at most {MAX_INCLUDE_DEPTH} deep, crossing at most {MAX_TO_MANY_HOPS} "
                    "to-many relationships).",
                )
            node = tree
            for member in path.split("."):
                node = node.setdefault(member, {})
        return tree

    @staticmethod
    def _parse_fields(resource_type, value, key):
        schema = schema_for_type(resource_type)
        if schema is None:
            known = ", ".join(sorted(known_types()))
            raise InvalidQueryParameter(
                key, f"'{resource_type}' is not a resource type (known: {known})."
            )
        members = {member for member in value.split(",") if member}
        unknown = sorted(members - schema.members)
        if unknown:
            raise InvalidQueryParameter(
                key, f"{', '.join(unknown)}: not a member of {resource_type}."
            )
        return members

    @staticmethod
    def _parse_sort(value, key):
        terms = value.split(",")
        keys = [term.removeprefix("-") for term in terms]
        if not all(keys):
            raise InvalidQueryParameter(key, "Sort fields must be non-empty.")
        return [(term.startswith("-"), k) for term, k in zip(terms, keys, strict=True)]
