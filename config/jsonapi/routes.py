"""URL patterns for a resource: collection, resource, relationship and related endpoints."""

from django.urls import path, register_converter

from .relations import RESOURCE_ID


class ResourceIdConverter:
    """A resource id in a URL: unreserved ASCII only (no NUL, no non-ASCII digits)."""

    regex = RESOURCE_ID.pattern

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(ResourceIdConverter, "rid")


def resource_routes(viewset, *, read_only=False, updatable=True):
    """Routes of a resource; ``read_only`` drops every write, ``updatable=False`` PATCH."""
    prefix = viewset.serializer_class.schema().path
    writes, updates = not read_only, not read_only and updatable
    collection = {"get": "list", **({"post": "create"} if writes else {})}
    item = {
        "get": "retrieve",
        **({"patch": "partial_update"} if updates else {}),
        **({"delete": "destroy"} if writes else {}),
    }
    relationship = {"get": "relationship", **({"patch": "update_relationship"} if updates else {})}
    name = prefix.replace("/", "-")
    return [
        path(prefix, viewset.as_view(collection), name=f"{name}-list"),
        path(f"{prefix}/<rid:pk>", viewset.as_view(item), name=f"{name}-detail"),
        path(
            f"{prefix}/<rid:pk>/relationships/<rid:member>",
            viewset.as_view(relationship),
            name=f"{name}-relationships",
        ),
        path(
            f"{prefix}/<rid:pk>/<rid:member>",
            viewset.as_view({"get": "related"}),
            name=f"{name}-related",
        ),
    ]
