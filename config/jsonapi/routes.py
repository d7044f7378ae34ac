"""URL patterns for a resource: collection, resource, relationship and related endpoints."""

from django.urls import path


def resource_routes(viewset, *, read_only=False):
    prefix = viewset.serializer_class.schema().path
    writes = not read_only
    collection = {"get": "list", **({"post": "create"} if writes else {})}
    item = {
        "get": "retrieve",
        **({"patch": "partial_update", "delete": "destroy"} if writes else {}),
    }
    relationship = {"get": "relationship", **({"patch": "update_relationship"} if writes else {})}
    name = prefix.replace("/", "-")
    return [
        path(prefix, viewset.as_view(collection), name=f"{name}-list"),
        path(f"{prefix}/<str:pk>", viewset.as_view(item), name=f"{name}-detail"),
        path(
            f"{prefix}/<str:pk>/relationships/<str:member>",
            viewset.as_view(relationship),
            name=f"{name}-relationships",
        ),
        path(
            f"{prefix}/<str:pk>/<str:member>",
            viewset.as_view({"get": "related"}),
            name=f"{name}-related",
        ),
    ]
