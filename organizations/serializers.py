from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer

from .models import Organization


class OrganizationSerializer(ResourceSerializer):
    """The organization a request acts in: read-only here, managed in the admin."""

    labels = Relationship("labels", many=True, read_only=True)

    class Meta:
        model = Organization
        resource_name = "organizations"
        fields = ["name", "slug", "created_at", "updated_at", "labels"]
        read_only_fields = ["name", "slug"]
