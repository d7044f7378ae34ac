"""Records take their master through a signed upload target (config/uploads.py): the file
streams to storage instead of travelling as base64 held in memory."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from rest_framework import exceptions, serializers

from config import uploads
from config.jsonapi.serializers import model_errors

from .models import Record, Track


def receive_master(track_id, options, file, request):
    track = Track.objects.filter(pk=track_id).first()
    if track is None:
        raise exceptions.NotFound("The track of this upload target no longer exists.")
    record = Record(track=track, filename=options["filename"], file=File(file, "master.flac"))
    try:
        record.full_clean()
    except DjangoValidationError as exc:
        raise serializers.ValidationError(model_errors(exc)) from exc
    record.save()
    from .serializers import RecordSerializer

    return uploads.created(request, RecordSerializer, record)


uploads.register(
    uploads.Purpose("records", receive_master, max_bytes=lambda: settings.RECORD_MAX_BYTES)
)
