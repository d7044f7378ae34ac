from django.db.models import Prefetch
from rest_framework.response import Response

from config.jsonapi import tenancy
from config.jsonapi.exceptions import Forbidden, InvalidQueryParameter
from config.jsonapi.views import ResourceViewSet, find_object

from . import certification
from .filters import (
    CertificationFilter,
    CheckFilter,
    CheckResultFilter,
    SoundcheckTrackFilter,
    TrackEntityFilter,
)
from .models import Certification, Check, CheckResult, Level, SoundcheckTrack
from .serializers import (
    CertificationSerializer,
    CheckResultSerializer,
    CheckSerializer,
    SoundcheckTrackSerializer,
)

COUNT = {"type": "integer", "minimum": 0}
LEVEL_STATUS = {
    "type": "object",
    "properties": {
        "ordinal": {"type": "integer", "minimum": 1},
        "passed": COUNT,
        "failed": COUNT,
        "cumulatively-passed": COUNT,
        "not-reported": COUNT,
    },
    "required": ["ordinal", "passed", "failed", "cumulatively-passed", "not-reported"],
}


class CheckViewSet(ResourceViewSet):
    """Soundcheck's checks. A check a track uses cannot be deleted (409)."""

    queryset = Check.objects.all()
    serializer_class = CheckSerializer
    filterset_class = CheckFilter
    sort_fields = ("name", "createdAt")


class SoundcheckTrackViewSet(ResourceViewSet):
    """Soundcheck's tracks and campaigns (``filter[track-type]=campaign``). A track with
    ``is-editable: false`` is changed in the admin only."""

    queryset = SoundcheckTrack.objects.prefetch_related(
        Prefetch("levels", queryset=Level.objects.with_checks())
    )
    serializer_class = SoundcheckTrackSerializer
    filterset_class = SoundcheckTrackFilter
    sort_fields = ("name", "createdAt", "start-date")
    action_descriptions = {
        "status": {
            "operation_id": "get-{type}-status",
            "summary": "How the entities of a {type} resource stand, level by level",
            "status": 200,
            "description": "The number of entities with results for the track's checks, and "
            "per level how many passed it, failed it, reached it or a higher level "
            "(cumulatively-passed), and reported nothing for it.",
            "meta": {
                "number-of-entities": COUNT,
                "status-by-level": {"type": "array", "items": LEVEL_STATUS},
            },
        }
    }

    def get_object(self):
        track = super().get_object()
        if self.action in ("partial_update", "destroy") and not track.is_editable:
            raise Forbidden(
                "This track is not editable (is-editable is false): change it in the admin.",
                code="not_editable",
            )
        return track

    def status(self, request, *args, **kwargs):
        return Response({"meta": certification.level_statuses(self.get_object())})


class CheckResultViewSet(ResourceViewSet):
    """Results reported for entities, kept as history: created and read, never changed.
    ``?preserve-state-on-error=true``: an ``error`` result keeps an earlier state that was
    not an error (Soundcheck's preserveStateOnError)."""

    queryset = CheckResult.objects.all()
    serializer_class = CheckResultSerializer
    filterset_class = CheckResultFilter
    sort_fields = ("timestamp", "createdAt")
    query_options = {"create": {"preserve-state-on-error"}}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.query is not None and self.action == "create":
            context["preserve_state_on_error"] = self.query.flag("preserve-state-on-error")
        return context


class CertificationViewSet(ResourceViewSet):
    """Where an entity stands on each track, computed from its current results.
    ``filter[entity-ref]`` is required."""

    queryset = Certification.objects.all()
    serializer_class = CertificationSerializer
    filterset_class = CertificationFilter
    sort_fields = ("highest-level", "certified-at", "updatedAt")

    def list(self, request, *args, **kwargs):
        if not self.query.filters.get("entity-ref"):
            raise InvalidQueryParameter(
                "filter[entity-ref]",
                "Certifications are listed for one entity: give filter[entity-ref].",
            )
        return super().list(request, *args, **kwargs)


class TrackEntityViewSet(ResourceViewSet):
    """The entities of one track (its certifications), at /soundcheck/tracks/{id}/entities."""

    queryset = Certification.objects.all()
    serializer_class = CertificationSerializer
    filterset_class = TrackEntityFilter
    sort_fields = ("highest-level", "certified-at")
    path_parameters = {"id": "The soundcheck-tracks id."}
    action_descriptions = {
        "track_entities": {
            "operation_id": "list-soundcheck-tracks-entities",
            "summary": "List the entities of a soundcheck-tracks resource",
            "status": 200,
            "description": "The certifications of the entities that reported results for "
            "the track's checks; filter[status]=passed: reached level 1 or higher, failed: "
            "reached none.",
            "collection": True,
        }
    }

    def track_entities(self, request, *args, **kwargs):
        tracks = tenancy.scoped(SoundcheckTrack.objects.all(), self.organization)
        find_object(tracks, SoundcheckTrackSerializer.schema(), self.kwargs["pk"])  # or 404
        return self.list(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().filter(track__slug=self.kwargs["pk"])
