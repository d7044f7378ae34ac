import contextlib

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from config.jsonapi import integrity
from config.jsonapi.pagination import OffsetOrPageNumberPagination
from config.jsonapi.views import ResourceViewSet

from . import variants
from .filters import CollectionFilter, CollectionTrackFilter, TrackVariantFilter
from .models import Collection, CollectionTrack, TrackVariant
from .serializers import CollectionSerializer, CollectionTrackSerializer, TrackVariantSerializer


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
        if self.query.flag("cascade"):
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


class TrackVariantViewSet(ResourceViewSet):
    """Transcodes and previews of collection tracks, made in the background: created and
    deleted, never changed (routed without PATCH)."""

    queryset = TrackVariant.objects.all()
    serializer_class = TrackVariantSerializer
    filterset_class = TrackVariantFilter
    pagination_class = OffsetOrPageNumberPagination
    sort_fields = ("createdAt",)

    def perform_create(self, serializer):
        try:
            with transaction.atomic():
                variant = serializer.save()
        except IntegrityError as exc:
            # A duplicate created concurrently: the answer a sequential duplicate gets.
            if integrity.violation(exc).kind != "unique":
                raise
            self.get_serializer(data=serializer.initial_data).is_valid(raise_exception=True)
            raise
        variants.requested(variant)
        return variant

    def get_object(self):
        """A delete locks the variant's track first: the order in which the variants' tasks
        lock both (collections_app/variants.py)."""
        if self.action == "destroy":
            with contextlib.suppress(ValueError, TypeError, DjangoValidationError):
                rows = self.get_queryset().filter(pk=self.kwargs["pk"]).values("track_id")
                tracks = CollectionTrack.objects.select_for_update(no_key=True)
                list(tracks.filter(pk__in=rows))
        return super().get_object()

    def perform_destroy(self, instance):
        track = CollectionTrack.objects.select_for_update(no_key=True).get(pk=instance.track_id)
        instance.delete()
        variants.settle(track)
