"""Soundcheck resources: one schema each (members, rules between them) in one place."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from config.jsonapi.describe import describe
from config.jsonapi.fields import JSONField
from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer

from . import certification
from .levels import replace_levels, resolve_levels, validate_levels_shape
from .models import Certification, Check, CheckResult, ResultState, SoundcheckTrack
from .validators import validate_milestone_levels

CHECK_FIELDS = [
    "slug",
    "name",
    "description",
    "owner_entity_ref",
    "kind",
    "rule",
    "passed_message",
    "failed_message",
    "not_applicable_message",
    "filter",
    "exclude",
    "created_at",
    "updated_at",
]


class CheckSerializer(ResourceSerializer):
    """A rule check has a rule and other kinds none; the id is the client's (a slug), unique
    in the organization."""

    class Meta:
        model = Check
        resource_name = "checks"
        resource_path = "soundcheck/checks"
        id_field = "slug"
        fields = CHECK_FIELDS

    def update(self, instance, validated_data):
        instance = super().update(instance, validated_data)
        certification.refresh_for_checks([instance.pk])
        return instance


class LevelsField(JSONField):
    """A track's levels in the seeds' shape, read from its Level rows (prefetched by the
    viewset) and written through soundcheck/levels.py."""

    def __init__(self, **kwargs):
        super().__init__(source="*", validators=[validate_levels_shape], **kwargs)

    def to_internal_value(self, data):
        self.run_validators(data)
        return {"levels": data}

    def run_validation(self, data=serializers.empty):
        if data is serializers.empty:
            return super().run_validation(data)
        return self.to_internal_value(data)

    def to_representation(self, instance):
        return [
            {
                "ordinal": level.ordinal,
                "name": level.name,
                "description": level.description,
                "badge": level.badge,
                "checks": [
                    {
                        "id": lc.check_definition.slug,
                        "name": lc.check_definition.name,
                        "description": lc.check_definition.description,
                        "filter": lc.check_definition.filter,
                        "exclude": lc.check_definition.exclude,
                    }
                    for lc in level.level_checks.all()
                ],
            }
            for level in instance.levels.all()
        ]


class SoundcheckTrackSerializer(ResourceSerializer):
    """Every member of Soundcheck's track, dasherized; the seed's ``type`` is ``track-type``
    (JSON:API keeps ``type`` for the resource's own). A campaign has a start-date and a
    target-completion-date, the target not before the start; milestones are dated within
    them and name levels of the track. ``levels`` sent in an update replace the levels
    wholesale; the other members change one by one."""

    levels = LevelsField()

    class Meta:
        model = SoundcheckTrack
        resource_name = "soundcheck-tracks"
        resource_path = "soundcheck/tracks"
        id_field = "slug"
        fields = [
            "slug",
            "name",
            "description",
            "owner_entity_ref",
            "group",
            "track_type",
            "badge",
            "filter",
            "exclude",
            "documentation_url",
            "badge_type",
            "draft",
            "is_editable",
            "archived",
            "support_channel",
            "start_date",
            "target_completion_date",
            "milestones",
            "levels",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is None:  # a create names its levels; an update may leave them
            fields["levels"].required = True
        return fields

    def validate(self, attrs):
        levels = attrs.pop("levels", None)
        attrs = super().validate(attrs)
        self._resolved = None
        if levels is not None:
            try:
                self._resolved = resolve_levels(levels, self.context)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(nested("levels", exc)) from exc
            ordinals = {level["ordinal"] for level in levels}
        else:
            ordinals = set(self.instance.levels.values_list("ordinal", flat=True))
        milestones = attrs.get("milestones", getattr(self.instance, "milestones", []))
        try:
            validate_milestone_levels(milestones, ordinals)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(nested("milestones", exc)) from exc
        return attrs

    def create(self, validated_data):
        track = super().create(validated_data)
        replace_levels(track, self._resolved)
        return track

    def update(self, instance, validated_data):
        track = super().update(instance, validated_data)
        if self._resolved is not None:
            replace_levels(track, self._resolved)
        return track


def nested(member, exc):
    """Errors inside a JSON member (``params["path"]``) keyed ``member/path``."""
    detail = {}
    for error in exc.error_list:
        path = (error.params or {}).get("path", "")
        key = f"{member}/{path}" if path else member
        detail.setdefault(key, []).extend(ErrorDetail(message, error.code) for message in error)
    return detail


class CheckResultSerializer(ResourceSerializer):
    """A result of a check for an entity. The latest per (entity, check, scope) is the
    current state; ``effective-state`` is the state this result established (with
    ``preserve-state-on-error=true``, an error keeps an earlier state that was not one)."""

    check = Relationship("checks", source="check_definition", queryset=Check.objects.all())

    class Meta:
        model = CheckResult
        resource_name = "check-results"
        resource_path = "soundcheck/check-results"
        fields = [
            "entity_ref",
            "state",
            "effective_state",
            "details",
            "scope",
            "submitted_by",
            "timestamp",
            "created_at",
            "check",
        ]
        ordering = ["timestamp"]

    def create(self, validated_data):
        preserve = self.context.get("preserve_state_on_error", False)
        state = validated_data["state"]
        if preserve and state == ResultState.ERROR:
            state = certification.preserved_state(validated_data) or state
        result = super().create({**validated_data, "effective_state": state})
        certification.refresh_for_result(result)
        return result


@describe(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "ordinal": {"type": "integer"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "certified": {"type": "boolean"},
                "checks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "description": {"type": "string"},
                            "state": {"type": "string", "enum": ResultState.values},
                            "timestamp": {"type": "string", "format": "date-time",
                                          "nullable": True},
                            "details": {"type": "object", "nullable": True},
                        },
                    },
                },
            },
        },
        "description": "Each level of the track: whether the entity is certified at it, and "
        "its checks' current states (not-reported where no result exists).",
    }
)  # fmt: skip
def certification_levels_schema(value):
    """Only describes the read-only ``levels`` of a certification."""


class CertificationSerializer(ResourceSerializer):
    track = Relationship("soundcheck-tracks", read_only=True)
    levels = serializers.JSONField(read_only=True, validators=[certification_levels_schema])

    class Meta:
        model = Certification
        resource_name = "certifications"
        resource_path = "soundcheck/certifications"
        fields = ["entity_ref", "highest_level", "certified_at", "levels", "updated_at", "track"]
        read_only_fields = fields
