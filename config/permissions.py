"""Who may do what: the token's scope, the user's role in the organization the request acts
in, then the user's Django model permissions."""

from oauth2_provider.contrib.rest_framework import TokenHasReadWriteScope
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions

from config.jsonapi import tenancy


class ScopedModelPermissions(DjangoModelPermissions):
    """Reads need the ``read`` scope and an organization to act in; writes need ``write``,
    an ``editor`` or ``admin`` role there, and the add/change/delete permission.

    A relationship PATCH changes its resource, so it needs the change permission.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        if not (
            TokenHasReadWriteScope().has_permission(request, view)
            and super().has_permission(request, view)
        ):
            return False
        tenancy.request_organization(request)  # 403 when it acts in none
        if request.method in SAFE_METHODS or tenancy.may_write(request):
            return True
        if tenancy.request_organization(request) is None:
            self.message = (
                "A write acts in one organization: name it with the X-Organization header."
            )
            self.code = "organization_required"
        else:
            self.message = "Your role in this organization allows reading only."
            self.code = "role_forbidden"
        return False

    def _queryset(self, view):
        """The model whose permissions apply. DRF asks the view's ``get_queryset()`` for it,
        which would build the request's whole scoped query a second time; the organization
        that query resolves first (403 when the request may act in none) is resolved here
        alike, so that it is still refused before the model permissions are asked."""
        tenancy.request_organization(view.request)
        return view.queryset if view.queryset is not None else super()._queryset(view)
