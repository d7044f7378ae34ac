"""``filter[...]`` and ``sort`` applied from a resource's declarations.

A viewset names its ``filterset_class`` (django-filter) and its ``sort_fields`` (member
names); public names are dasherized (``filter[product-id]``, ``filter[title.icontains]``)
and map to the filterset's ``product_id`` / ``title__icontains``.
"""

import django_filters

from .exceptions import InvalidQueryParameter


def filter_queryset(queryset, filters, filterset_class, request, resource_type):
    if not filters:
        return queryset
    data, parameters = {}, {}
    for public, value in filters.items():
        internal = public.replace(".", "__").replace("-", "_")
        parameter = f"filter[{public}]"
        if filterset_class is None or internal not in filterset_class.base_filters:
            raise InvalidQueryParameter(
                parameter, f"'{public}' is not a filter of {resource_type}."
            )
        data[internal], parameters[internal] = value, parameter
    filterset = filterset_class(data=data, queryset=queryset, request=request)
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise InvalidQueryParameter(parameters.get(name, "filter"), " ".join(messages))
    return filterset.qs


def sort_queryset(queryset, sort, sort_fields, schema):
    ordering = []
    for descending, member in sort:
        if member not in sort_fields:
            allowed = ", ".join(sort_fields) or "none"
            raise InvalidQueryParameter("sort", f"Cannot sort by '{member}' (allowed: {allowed}).")
        path = schema.orm_paths[member]
        ordering.append(f"-{path}" if descending else path)
    return queryset.order_by(*ordering, "pk")


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """``filter[id]=1,2,3``: a comma-separated list of numeric ids."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``filter[id]=en,es``: a comma-separated list of string ids."""
