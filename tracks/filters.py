import django_filters

from config.jsonapi.filters import NumberInFilter

from .models import Record, Track
from .validators import normalize_isrc


class TrackFilter(django_filters.FilterSet):
    id = NumberInFilter(field_name="id")
    isrc_code = django_filters.CharFilter(method="filter_isrc")
    product_id = django_filters.NumberFilter(field_name="product_id")

    class Meta:
        model = Track
        fields = {"title": ["exact", "icontains"], "track_number": ["exact"]}

    def filter_isrc(self, queryset, name, value):
        return queryset.filter(isrc_code=normalize_isrc(value))


class RecordFilter(django_filters.FilterSet):
    id = NumberInFilter(field_name="id")
    track_id = django_filters.NumberFilter(field_name="track_id")

    class Meta:
        model = Record
        fields = []
