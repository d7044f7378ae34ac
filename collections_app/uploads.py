"""The upload purposes of collections and their tracks (config/uploads.py): a track's
audio (PUT, streamed), and the cover of a track or a collection (POST, multipart)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.fields import get_error_detail

from config import uploads
from config.jsonapi.exceptions import Conflict

from . import covers, media, processing
from .models import Collection, CollectionTrack
from .serializers import CollectionSerializer, CollectionTrackSerializer


def locked(model, pk):
    """The row a target was issued for, locked for this upload (404 once deleted)."""
    instance = model.objects.select_for_update().filter(pk=pk).first()
    if instance is None:
        name = model._meta.verbose_name
        raise exceptions.NotFound(f"The {name} of this upload target no longer exists.")
    return instance


def checked(check, file):
    try:
        return check(file)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(get_error_detail(exc)) from exc


def receive_audio(track_id, options, file, request):
    """Store the track's audio once it is known to be decodable audio, and start its
    processing; the type is sniffed from the bytes, never taken from a name or header."""
    track = locked(CollectionTrack, track_id)
    if track.audio:
        raise Conflict("This track has its audio already.", code="already_uploaded")
    checked(media.sniff, file.temporary_file_path())
    track.audio.save(f"{track.pk}/audio", file, save=False)
    track.size = track.audio.size
    processing.start(track)
    return uploads.received(request, CollectionTrackSerializer, track)


def cover_receiver(model, serializer_class):
    def receive_cover(pk, options, file, request):
        """Store the image in four sizes; its most vibrant colour becomes the player's
        colour unless the client chose one."""
        owner = locked(model, pk)
        collection = getattr(owner, "collection", None)
        if collection is not None and not collection.is_cover_overridable:
            raise Conflict(
                "This track's collection does not let tracks have their own cover.",
                code="cover_not_overridable",
            )
        owner.take_cover(checked(covers.open_cover, file))
        owner.save()
        return uploads.received(request, serializer_class, owner)

    return receive_cover


uploads.register(uploads.Purpose("collection-track-audio", receive_audio))
for purpose, model, serializer_class in (
    ("collection-track-covers", CollectionTrack, CollectionTrackSerializer),
    ("collection-covers", Collection, CollectionSerializer),
):
    uploads.register(
        uploads.Purpose(
            purpose,
            cover_receiver(model, serializer_class),
            max_bytes=lambda: covers.MAX_COVER_BYTES,
            method="POST",
        )
    )
