"""Which organization a request acts in, and which rows it may therefore see.

Every model served as a resource declares ``organization_path``: the ORM path from its
rows to their organization (``"organization"`` for a label, ``"label__organization"`` for
a product), or ``None`` for reference data every organization shares (languages). A model
that declares nothing cannot be served: ``organization_path()`` refuses it, so a new
resource cannot forget its scope.

The scope is applied here, once: to a viewset's base queryset (lists, single resources,
filters, counts, relationship and related endpoints), to to-many includes, and to the
querysets relationship fields resolve a request's identifiers against.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from rest_framework import exceptions

from organizations.models import WRITER_ROLES, Membership, Organization, Role

ORGANIZATION_HEADER = "X-Organization"


class OrganizationForbidden(exceptions.PermissionDenied):
    """403: the request names, or leaves unclear, an organization it may not act in."""

    header = ORGANIZATION_HEADER


def organization_path(model):
    try:
        return model.organization_path
    except AttributeError:
        raise ImproperlyConfigured(
            f"{model.__name__} declares no organization_path: say which organization its "
            "rows belong to, or None for reference data every organization shares."
        ) from None


def scoped(queryset, organization):
    """``queryset`` narrowed to ``organization``'s rows; ``None`` acts in every one."""
    path = organization_path(queryset.model)
    if organization is None or path is None:
        return queryset
    return queryset.filter(**{path: organization.pk})


def within(queryset, organizations):
    """``queryset`` narrowed to the rows of any of ``organizations`` (a queryset of them);
    for the admin, where a member of several sees all of theirs."""
    path = organization_path(queryset.model)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": organizations.values("pk")})


def organization_id_of(instance):
    """The id of the organization ``instance`` belongs to (None for shared reference data
    or a row not yet attached to one)."""
    path = organization_path(type(instance))
    if path is None:
        return None
    if path == "pk":
        return instance.pk
    *hops, last = path.split("__")
    for hop in hops:
        instance = getattr(instance, hop, None)
        if instance is None:
            return None
    return getattr(instance, f"{last}_id")


def request_organization(request):
    """The organization ``request`` acts in, resolved once per request (None: a superuser
    acting in every organization). Raises ``OrganizationForbidden`` when it has none.

    The token's application decides when it belongs to an organization; otherwise the
    ``X-Organization`` header (a slug) names one the user is a member of; otherwise a
    superuser acts in all of them and anybody else in their only one.
    """
    if not hasattr(request, "_organization"):
        request._organization, request._role = _resolve(request)
    return request._organization


def request_role(request):
    """The user's role in the organization the request acts in."""
    request_organization(request)
    return request._role


def may_write(request):
    """A write acts in exactly one organization, with an editor's or admin's role there."""
    return request_organization(request) is not None and request_role(request) in WRITER_ROLES


def context_organization(context):
    """The organization a serializer's ``context`` acts in: the one it names (an importer
    acting for an organization), else its request's; with neither nothing is narrowed."""
    if "organization" in context:
        return context["organization"]
    request = context.get("request")
    return None if request is None else request_organization(request)


def _resolve(request):
    user, token = request.user, request.auth
    superuser = user is not None and user.is_superuser

    def organizations():  # with the user's role in each; built only when a branch needs it
        return _with_role(Organization.objects.all(), user)

    named = request.headers.get(ORGANIZATION_HEADER)
    bound = _bound_organization(token, organizations)
    if bound is not None:
        organization = bound
        if named is not None and named != organization.slug:
            raise OrganizationForbidden(
                f"This token acts in the organization '{organization.slug}' only.",
                "organization_forbidden",
            )
    elif named is not None:
        organization = organizations().filter(slug=named).first()
        if organization is None or not (superuser or organization.role):
            raise OrganizationForbidden(
                f"{ORGANIZATION_HEADER} names no organization you are a member of.",
                "organization_forbidden",
            )
    elif superuser:
        return None, Role.ADMIN
    else:
        own = list(organizations().filter(memberships__user=user)[:2])
        if len(own) != 1:
            detail = (
                f"You are a member of several organizations: name one with {ORGANIZATION_HEADER}."
                if own
                else "You are not a member of any organization."
            )
            raise OrganizationForbidden(detail, "organization_required")
        organization = own[0]
    role = Role.ADMIN if superuser else organization.role
    if role is None:
        raise OrganizationForbidden(
            "The token's application belongs to an organization its owner is not a member of.",
            "organization_forbidden",
        )
    return organization, role


def with_bound_organization(tokens):
    """Access ``tokens`` loaded with the organization their application is bound to and
    the role of the user they act as there (``bound_role``): a request authenticated by
    one then resolves its organization without a query of its own."""
    organization = OuterRef("application__organization_binding__organization_id")
    acting_user = Coalesce(OuterRef("user_id"), OuterRef("application__user_id"))
    return tokens.select_related("application__organization_binding__organization").annotate(
        bound_role=_role(organization, acting_user)
    )


def _bound_organization(token, organizations):
    """The organization ``token``'s application is bound to, with the acting user's role
    (None for an application of no organization); ``organizations()`` gives them all with
    that role, for a token not loaded by ``with_bound_organization``."""
    if getattr(token, "application_id", None) is None:
        return None
    if not hasattr(token, "bound_role"):  # not loaded by with_bound_organization
        return organizations().filter(applications__application_id=token.application_id).first()
    binding = getattr(token.application, "organization_binding", None)
    if binding is None:
        return None
    binding.organization.role = token.bound_role
    return binding.organization


def _with_role(organizations, user):
    """Organizations annotated with ``user``'s role in each (None where not a member)."""
    return organizations.annotate(role=_role(OuterRef("pk"), user))


def _role(organization, user):
    """The role of ``user`` in ``organization`` (ids, or expressions of the outer query):
    a subquery, None where they are not a member."""
    memberships = Membership.objects.filter(organization=organization, user=user)
    # One membership at most ((organization, user) is unique): no ordering, and so no join
    # for Membership's default one.
    return Subquery(memberships.order_by().values("role")[:1])
