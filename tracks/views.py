from config.jsonapi.views import ResourceViewSet

from .filters import TrackFilter
from .models import Track
from .serializers import TrackSerializer


class TrackViewSet(ResourceViewSet):
    queryset = Track.objects.all()
    serializer_class = TrackSerializer
    filterset_class = TrackFilter
    sort_fields = ("title", "track-number", "createdAt")
