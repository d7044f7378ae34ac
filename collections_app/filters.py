import django_filters

from config.jsonapi.filters import UUIDInFilter

from .models import (
    Codec,
    Collection,
    CollectionTrack,
    Status,
    TrackVariant,
    VariantStatus,
    VariantType,
)


class CollectionFilter(django_filters.FilterSet):
    id = UUIDInFilter(field_name="id")
    creator_id = django_filters.UUIDFilter()
    organization_index = django_filters.CharFilter()

    class Meta:
        model = Collection
        fields = {"title": ["exact", "icontains"]}


class CollectionTrackFilter(django_filters.FilterSet):
    id = UUIDInFilter(field_name="id")
    collection_id = django_filters.UUIDFilter()
    creator_id = django_filters.UUIDFilter()
    organization_index = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=Status.choices)
    file_name = django_filters.CharFilter()

    class Meta:
        model = CollectionTrack
        fields = {"title": ["exact", "icontains"]}


class TrackVariantFilter(django_filters.FilterSet):
    id = UUIDInFilter(field_name="id")
    track_id = django_filters.UUIDFilter()
    status = django_filters.ChoiceFilter(choices=VariantStatus.choices)
    codec = django_filters.ChoiceFilter(choices=Codec.choices)
    variant_type = django_filters.ChoiceFilter(choices=VariantType.choices)

    class Meta:
        model = TrackVariant
        fields = []
