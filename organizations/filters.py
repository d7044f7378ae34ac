import django_filters

from config.jsonapi.filters import IntegerInFilter

from .models import Organization


class OrganizationFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")

    class Meta:
        model = Organization
        fields = {"slug": ["exact"], "name": ["exact", "icontains"]}
