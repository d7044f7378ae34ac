"""Who may do what: the token's scope, then the user's Django model permissions."""

from oauth2_provider.contrib.rest_framework import TokenHasReadWriteScope
from rest_framework.permissions import DjangoModelPermissions


class ScopedModelPermissions(DjangoModelPermissions):
    """Reads need the ``read`` scope; writes need ``write`` and the add/change/delete permission.

    A relationship PATCH changes its resource, so it needs the change permission.
    """

    def has_permission(self, request, view):
        return TokenHasReadWriteScope().has_permission(request, view) and super().has_permission(
            request, view
        )
