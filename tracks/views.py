from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response

from config import uploads
from config.jsonapi.documents import resource_object
from config.jsonapi.views import ResourceViewSet

from .filters import RecordFilter, TrackFilter
from .models import Record, Track
from .serializers import RecordSerializer, RecordUploadTargetSerializer, TrackSerializer


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
    upload_target_serializer = RecordUploadTargetSerializer
    upload_target_meta = "record-upload"

    def upload_target(self, request, *args, **kwargs):
        """A signed target to PUT a new record's master to, streamed (config/uploads.py);
        the record is made when the file has arrived and been checked."""
        resource = resource_object(request.data, self.resource_schema.type)
        members = self.upload_target_serializer.members
        errors, flat = {}, {}
        for section, allowed in members.items():
            for member, value in resource[section].items():
                if member in allowed:
                    flat[member] = value
                else:
                    detail = f"'{member}' is not a member of an upload target request."
                    errors[f"/data/{section}/{member}"] = [ErrorDetail(detail, "unknown_member")]
        serializer = self.upload_target_serializer(data=flat, context=self.get_serializer_context())
        if not serializer.is_valid() or errors:
            raise serializers.ValidationError({**errors, **serializer.errors})
        track = serializer.validated_data["track"]
        filename = serializer.validated_data.get("filename", "master.flac")
        target = uploads.issue(request, "records", track.pk, filename=filename)
        return Response({"meta": {self.upload_target_meta: target}})
