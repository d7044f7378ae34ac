import django_filters

from config.jsonapi.filters import CharInFilter, StrictBooleanFilter

from .models import (
    Certification,
    Check,
    CheckKind,
    CheckResult,
    ResultState,
    SoundcheckTrack,
    TrackType,
)
from .validators import normalize_entity_ref


class EntityRefFilter(django_filters.CharFilter):
    """An entity reference, compared in its stored form (component:Payments matches
    component:default/payments)."""

    def filter(self, queryset, value):
        return super().filter(queryset, normalize_entity_ref(value) if value else value)


class CheckFilter(django_filters.FilterSet):
    id = CharInFilter(field_name="slug")
    kind = django_filters.ChoiceFilter(choices=CheckKind.choices)
    owner_entity_ref = EntityRefFilter()

    class Meta:
        model = Check
        fields = {"name": ["exact", "icontains"]}


class SoundcheckTrackFilter(django_filters.FilterSet):
    id = CharInFilter(field_name="slug")
    track_type = django_filters.ChoiceFilter(choices=TrackType.choices)
    owner_entity_ref = EntityRefFilter()
    group = django_filters.CharFilter()
    archived = StrictBooleanFilter()
    draft = StrictBooleanFilter()
    check = django_filters.CharFilter(method="uses_check", label="Tracks that use this check id.")

    class Meta:
        model = SoundcheckTrack
        fields = {"name": ["exact", "icontains"]}

    def uses_check(self, queryset, name, value):
        return queryset.filter(levels__level_checks__check_definition__slug=value).distinct()


class CheckResultFilter(django_filters.FilterSet):
    entity_ref = EntityRefFilter()
    check_id = django_filters.CharFilter(field_name="check_definition__slug")
    state = django_filters.ChoiceFilter(choices=ResultState.choices)
    scope = django_filters.CharFilter()

    class Meta:
        model = CheckResult
        fields = []


class CertificationFilter(django_filters.FilterSet):
    entity_ref = EntityRefFilter(required=True)
    track_id = django_filters.CharFilter(field_name="track__slug")

    class Meta:
        model = Certification
        fields = []


class TrackEntityFilter(django_filters.FilterSet):
    """A track's entities: ``passed`` reached level 1 or higher, ``failed`` reported results
    for the track's checks but reached no level."""

    status = django_filters.ChoiceFilter(
        choices=[("passed", "passed"), ("failed", "failed")], method="with_status"
    )

    class Meta:
        model = Certification
        fields = []

    def with_status(self, queryset, name, value):
        return queryset.filter(highest_level__isnull=value == "failed")
