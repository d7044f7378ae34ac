from config.jsonapi.views import ResourceViewSet

from .filters import RecordFilter, TrackFilter
from .models import Record, Track
from .serializers import RecordSerializer, TrackSerializer


class TrackViewSet(ResourceViewSet):
    queryset = Track.objects.all()
    serializer_class = TrackSerializer
    filterset_class = TrackFilter
    sort_fields = ("title", "track-number", "createdAt", "bpm", "release-date")


class RecordViewSet(ResourceViewSet):
    """Master audio records: created and deleted, never changed (upload a new one)."""

    queryset = Record.objects.all()
    serializer_class = RecordSerializer
    filterset_class = RecordFilter
    sort_fields = ("createdAt",)
    heavy_actions = {"create"}  # uploads: the "heavy" throttle rate (config/jsonapi/throttling.py)
