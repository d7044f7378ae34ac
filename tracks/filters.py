import django_filters

from config.jsonapi.filters import IntegerFilter, IntegerInFilter

from .models import Record, Track
from .validators import normalize_isrc


class TrackFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")
    isrc_code = django_filters.CharFilter(method="filter_isrc")
    product_id = IntegerFilter(field_name="product_id")
    track_number = IntegerFilter(field_name="track_number")

    class Meta:
        model = Track
        fields = {"title": ["exact", "icontains"]}

    def filter_isrc(self, queryset, name, value):
        return queryset.filter(isrc_code=normalize_isrc(value))


class RecordFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")
    track_id = IntegerFilter(field_name="track_id")

    class Meta:
        model = Record
        fields = []
