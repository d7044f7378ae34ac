"""``filter[...]`` and ``sort`` applied from a resource's declarations.

A viewset names its ``filterset_class`` (django-filter) and its ``sort_fields`` (member
names); public names are dasherized (``filter[product-id]``, ``filter[title.icontains]``)
and map to the filterset's ``product_id`` / ``title__icontains``.
"""

import django_filters
from django import forms

from .exceptions import InvalidQueryParameter


def filter_queryset(queryset, filters, filterset_class, request, resource_type):
    if not filters:
        return queryset
    data, parameters = {}, {}
    for public, value in filters.items():
        internal = public.replace(".", "__").replace("-", "_")
        parameter = f"filter[{public}]"
        known = filterset_class is not None and internal in filterset_class.base_filters
        if not known or "_" in public:  # public names are dasherized: no underscore aliases
            raise InvalidQueryParameter(
                parameter, f"'{public}' is not a filter of {resource_type}."
            )
        if not value:  # django-filter would skip it and answer the whole collection
            raise InvalidQueryParameter(parameter, f"{parameter} needs a value.")
        listed = isinstance(filterset_class.base_filters[internal], django_filters.BaseInFilter)
        if listed and "" in value.split(","):
            raise InvalidQueryParameter(parameter, f"{parameter} takes values, none empty.")
        data[internal], parameters[internal] = value, parameter
    filterset = filterset_class(data=data, queryset=queryset, request=request)
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise InvalidQueryParameter(parameters.get(name, "filter"), " ".join(messages))
    return filterset.qs


def sort_queryset(queryset, sort, sort_fields, schema):
    """``queryset`` in the order ``sort`` asks for, else in the type's own order
    (``schema.ordering``); ties go by primary key, so pages never overlap."""
    if not sort:
        return queryset.order_by(*schema.ordering, "pk")
    ordering = []
    for descending, member in sort:
        if member not in sort_fields:
            allowed = ", ".join(sort_fields) or "none"
            raise InvalidQueryParameter("sort", f"Cannot sort by '{member}' (allowed: {allowed}).")
        path = schema.orm_paths[member]
        ordering.append(f"-{path}" if descending else path)
    return queryset.order_by(*ordering, "pk")


class IntegerFilter(django_filters.NumberFilter):
    """A whole number within the range of a database integer: ``1.9`` or 30 digits are 400s."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IntegerInFilter(django_filters.BaseInFilter, IntegerFilter):
    """``filter[id]=1,2,3``: a comma-separated list of numeric ids."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``filter[id]=en,es``: a comma-separated list of string ids."""


class UUIDInFilter(django_filters.BaseInFilter, django_filters.UUIDFilter):
    """``filter[id]=<uuid>,<uuid>``: a comma-separated list of UUID ids."""


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true`` or ``false`` only: anything else is a 400, not a silently ignored filter."""

    def __init__(self, *args, **kwargs):
        kwargs["choices"] = [("true", "true"), ("false", "false")]
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        return super().filter(queryset, {"true": True, "false": False}.get(value, value))
