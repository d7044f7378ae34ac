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


def resource_routes(viewset, *, read_only=False, updatable=True, deletable=True):
    """Routes of a resource; ``read_only`` drops every write, ``updatable=False`` PATCH,
    ``deletable=False`` DELETE.

    Each relationship gets routes of its own (``/tracks/<pk>/relationships/product``), so
    that an unknown member is the API's ordinary 404 and the description names every one.
    """
    schema = viewset.serializer_class.schema()
    prefix = schema.path
    writes, updates = not read_only, not read_only and updatable
    collection = {"get": "list", **({"post": "create"} if writes else {})}
    item = {
        "get": "retrieve",
        **({"patch": "partial_update"} if updates else {}),
        **({"delete": "destroy"} if writes and deletable else {}),
    }
    relationship = {"get": "relationship", **({"patch": "update_relationship"} if updates else {})}
    name = prefix.replace("/", "-")
    routes = [
        path(prefix, viewset.as_view(collection), name=f"{name}-list"),
        path(f"{prefix}/<rid:pk>", viewset.as_view(item), name=f"{name}-detail"),
    ]
    if writes and viewset.upload_purposes:
        routes.append(
            path(
                f"{prefix}/<rid:pk>/upload-targets",
                viewset.as_view({"post": "upload_targets"}),
                name=f"{name}-upload-targets",
            )
        )
    for member in schema.relationships:
        routes += [
            path(
                f"{prefix}/<rid:pk>/relationships/{member}",
                viewset.as_view(relationship),
                {"member": member},
                name=f"{name}-{member}-relationship",
            ),
            path(
                f"{prefix}/<rid:pk>/{member}",
                viewset.as_view({"get": "related"}),
                {"member": member},
                name=f"{name}-{member}-related",
            ),
        ]
    return routes
