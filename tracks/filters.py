import re

import django_filters
from django.core.validators import RegexValidator

from config.jsonapi.filters import IntegerFilter, IntegerInFilter, StrictBooleanFilter

from . import audius
from .models import Record, Track
from .validators import normalize_isrc


class TrackFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")
    isrc_code = django_filters.CharFilter(method="filter_isrc")
    product_id = IntegerFilter(field_name="product_id")
    track_number = IntegerFilter(field_name="track_number")
    genre = django_filters.ChoiceFilter(choices=audius.choices(audius.GENRES))
    mood = django_filters.ChoiceFilter(choices=audius.choices(audius.MOODS))
    musical_key = django_filters.ChoiceFilter(choices=audius.choices(audius.MUSICAL_KEYS))
    is_unlisted = StrictBooleanFilter()
    tag = django_filters.CharFilter(method="filter_tag")
    territory = django_filters.CharFilter(
        method="filter_territory",
        validators=[RegexValidator(r"^[A-Z]{2}$", "An ISO 3166-1 alpha-2 code, such as US.")],
    )

    class Meta:
        model = Track
        fields = {"title": ["exact", "icontains"], "bpm": ["gte", "lte"]}

    def filter_tag(self, queryset, name, value):
        """Tracks whose normalised tag list holds exactly ``value``."""
        return queryset.filter(tags__regex=rf"(^|,){re.escape(value.strip())}(,|$)")

    def filter_territory(self, queryset, name, value):
        # Codes are validated upper-case pairs, so the quoted code matches one whole item.
        return queryset.filter(territory_codes__icontains=f'"{value}"')

    def filter_isrc(self, queryset, name, value):
        return queryset.filter(isrc_code=normalize_isrc(value))


class RecordFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")
    track_id = IntegerFilter(field_name="track_id")

    class Meta:
        model = Record
        fields = []
