from config.jsonapi.exceptions import InvalidQueryParameter
from config.jsonapi.pagination import OffsetOrPageNumberPagination
from config.jsonapi.views import ResourceViewSet

from .filters import CollectionFilter, CollectionTrackFilter
from .models import Collection, CollectionTrack
from .serializers import CollectionSerializer, CollectionTrackSerializer

CASCADE = {"true": True, "false": False}


class CollectionViewSet(ResourceViewSet):
    """AudioDN's collections. Deleting one that still holds tracks is a 409, unless
    ``?cascade=true`` deletes its tracks with it."""

    queryset = Collection.objects.all()
    serializer_class = CollectionSerializer
    filterset_class = CollectionFilter
    pagination_class = OffsetOrPageNumberPagination
    sort_fields = ("createdAt", "title")
    query_options = {"destroy": {"cascade"}}
    upload_purposes = {"collection-cover-upload": "collection-covers"}
    answer_deleted = True

    def perform_destroy(self, instance):
        cascade = self.query.options.get("cascade", "false")
        if cascade not in CASCADE:
            raise InvalidQueryParameter("cascade", "cascade is true or false.")
        if CASCADE[cascade]:
            for track in instance.tracks.select_for_update():
                track.delete()
        instance.delete()


class CollectionTrackViewSet(ResourceViewSet):
    """AudioDN's tracks: created with metadata, then their audio is uploaded to the signed
    target the create answers with, and processed in the background."""

    queryset = CollectionTrack.objects.all()
    serializer_class = CollectionTrackSerializer
    filterset_class = CollectionTrackFilter
    pagination_class = OffsetOrPageNumberPagination
    sort_fields = ("createdAt", "title")
    upload_purposes = {
        "track-upload": "collection-track-audio",
        "track-cover-upload": "collection-track-covers",
    }
    answer_deleted = True
