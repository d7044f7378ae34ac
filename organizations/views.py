from config.jsonapi.views import ResourceViewSet

from .filters import OrganizationFilter
from .models import Organization
from .serializers import OrganizationSerializer


class OrganizationViewSet(ResourceViewSet):
    """The organization the request acts in (every one, for a superuser acting in all)."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    sort_fields = ("name", "createdAt")
