"""AudioDN-style collections of audio tracks, uploaded through signed targets and then
processed in the background (collections_app/processing.py)."""

import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q

from config.models import NormalizedCharField, TimeStampedModel
from organizations.models import Organization
from tracks.validators import validate_filename

from . import covers
from .validators import normalize_colour, validate_colour, validate_metadata


def optional_text(max_length=255, **kwargs):
    return models.CharField(max_length=max_length, null=True, blank=True, **kwargs)


class PlayerTheme(TimeStampedModel):
    """What collections and their tracks share: the client's own keys and metadata, and
    how a player shows them (titles, colours, a cover in four sizes).

    ``player_color`` is the client's colour or, while the client has set none, the most
    vibrant colour of the cover (``image_color``); the light and dark variants follow it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator_id = models.UUIDField(null=True, blank=True, db_index=True)
    organization_index = optional_text(db_index=True)
    metadata = models.JSONField(null=True, blank=True, validators=[validate_metadata])
    player_title = optional_text()
    player_subtitle = optional_text()
    player_color = NormalizedCharField(
        max_length=7,
        null=True,
        blank=True,
        validators=[validate_colour],
        normalizer=normalize_colour,
    )
    player_color_is_custom = models.BooleanField(default=False, editable=False)
    player_color_light = models.CharField(max_length=7, null=True, editable=False)
    player_color_dark = models.CharField(max_length=7, null=True, editable=False)
    image_color = models.CharField(max_length=7, null=True, editable=False)
    is_cover_overridable = models.BooleanField(default=True)
    is_theme_overridable = models.BooleanField(default=True)
    # {size: {name, width, height, type}}: the stored renditions of the cover.
    cover_files = models.JSONField(null=True, editable=False)

    class Meta:
        abstract = True

    def choose_player_color(self, colour):
        """The client chooses the colour; None gives it back to the cover's."""
        self.player_color_is_custom = colour is not None
        self.player_color = colour

    def set_cover(self, files, colour):
        """Take a new cover (renditions stored, and their most vibrant colour); the files
        of the previous one are deleted once this change commits."""
        previous = self.cover_file_names()
        self.cover_files = files
        self.image_color = colour
        delete_files_on_commit(previous)

    def cover_file_names(self):
        return [rendition["name"] for rendition in (self.cover_files or {}).values()]

    def stored_file_names(self):
        return self.cover_file_names()

    def take_cover(self, image):
        """Store ``image`` (a verified Pillow image) as this row's cover, in four sizes."""
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        prefix = f"covers/{self._meta.model_name}/{self.pk}/{uuid.uuid4().hex[:12]}"
        files = {}
        for size, rendition in covers.renditions(image).items():
            extension = rendition.mime_type.removeprefix("image/").replace("jpeg", "jpg")
            name = default_storage.save(
                f"{prefix}-{size}.{extension}", ContentFile(rendition.content)
            )
            files[size] = {
                "name": name,
                "width": rendition.width,
                "height": rendition.height,
                "type": rendition.mime_type,
            }
        self.set_cover(files, covers.vibrant_colour(image))

    def save(self, *args, **kwargs):
        if not self.player_color_is_custom:
            self.player_color = self.image_color
        light_dark = covers.light_and_dark(self.player_color) if self.player_color else None
        self.player_color_light, self.player_color_dark = light_dark or (None, None)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "player_color",
                "player_color_light",
                "player_color_dark",
            }
        super().save(*args, **kwargs)


def delete_files_on_commit(names):
    """Delete stored files once the transaction that stopped naming them commits."""
    from django.core.files.storage import default_storage

    def delete():
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


class Collection(PlayerTheme):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="collections"
    )
    title = models.CharField(max_length=255)

    organization_path = "organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.title


class Status(models.TextChoices):
    INITIALIZED = "initialized"  # created, waiting for its audio
    PROCESSING = "processing"  # audio received; a worker probes it
    READY = "ready"
    INCOMPLETE = "incomplete"  # some variants failed, at least one plays
    ERROR = "error"  # status_reason says why


class CollectionTrack(PlayerTheme):
    """One audio file in a collection. The client creates it with metadata, then uploads
    the audio to a signed target; everything about the audio is the server's to fill."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="tracks")
    file_name = models.CharField(max_length=255, validators=[validate_filename])
    title = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.INITIALIZED, editable=False
    )
    status_reason = models.TextField(null=True, editable=False)
    audio = models.FileField(upload_to="collection-tracks/", null=True, editable=False)
    duration = models.FloatField(null=True, editable=False)
    format = models.JSONField(null=True, editable=False)
    size = models.BigIntegerField(null=True, editable=False)
    sha256 = models.CharField(max_length=64, null=True, editable=False)
    levels = models.JSONField(null=True, editable=False)
    files_completed_at = models.DateTimeField(null=True, editable=False)
    # Processing: the current run's number, and when its worker last showed it was alive
    # (None: queued, waiting for a worker). See collections_app/processing.py.
    processing_attempt = models.PositiveSmallIntegerField(default=0, editable=False)
    processing_heartbeat_at = models.DateTimeField(null=True, editable=False)

    organization_path = "collection__organization"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="collection_track_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["processing_heartbeat_at"],
                condition=Q(status="processing"),
                name="collection_track_in_progress",
            )
        ]

    def __str__(self):
        return self.title or self.file_name

    def clean(self):
        collection = self.collection if self.collection_id else None
        if (
            collection is not None
            and self.player_color_is_custom
            and not collection.is_theme_overridable
        ):
            # A conflict with the collection's state (409), not an invalid document.
            message = "This track's collection does not let tracks set their theme."
            raise ValidationError({"player_color": ValidationError(message, "state_conflict")})

    def save(self, *args, **kwargs):
        if not self.title:
            self.title = self.file_name.rsplit(".", 1)[0] or self.file_name
        super().save(*args, **kwargs)

    def stored_file_names(self):
        return [*self.cover_file_names(), *([self.audio.name] if self.audio else [])]


class VariantType(models.TextChoices):
    TRANSCODE = "transcode"
    PREVIEW = "preview"


class Codec(models.TextChoices):
    AAC = "aac"
    MP3 = "mp3"
    OGG = "ogg"  # Vorbis in Ogg
    OPUS = "opus"


class VariantStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"


class TrackVariant(TimeStampedModel):
    """A playable rendition of a collection track's audio: a full transcode, or a preview
    window of it, in one codec and bitrate; made by a background task."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.ForeignKey(CollectionTrack, on_delete=models.CASCADE, related_name="variants")
    variant_type = models.CharField(
        max_length=10, choices=VariantType.choices, default=VariantType.TRANSCODE
    )
    codec = models.CharField(max_length=4, choices=Codec.choices)
    bitrate = models.PositiveSmallIntegerField(
        default=128,
        validators=[MinValueValidator(12), MaxValueValidator(320)],
        help_text="kbit/s",
    )
    preview_start = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    preview_duration = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.1)])
    status = models.CharField(
        max_length=10,
        choices=VariantStatus.choices,
        default=VariantStatus.QUEUED,
        editable=False,
    )
    status_reason = models.TextField(null=True, editable=False)
    file = models.FileField(upload_to="track-variants/", null=True, editable=False)
    size = models.BigIntegerField(null=True, editable=False)
    duration = models.FloatField(null=True, editable=False)
    mime_type = models.CharField(max_length=50, null=True, editable=False)
    processing_attempt = models.PositiveSmallIntegerField(default=0, editable=False)
    processing_heartbeat_at = models.DateTimeField(null=True, editable=False)

    organization_path = "track__collection__organization"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bitrate__gte=12, bitrate__lte=320), name="track_variant_bitrate_range"
            ),
            models.CheckConstraint(
                condition=Q(status__in=VariantStatus.values), name="track_variant_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        variant_type=VariantType.TRANSCODE,
                        preview_start__isnull=True,
                        preview_duration__isnull=True,
                    )
                    | Q(
                        variant_type=VariantType.PREVIEW,
                        preview_start__isnull=False,
                        preview_duration__isnull=False,
                    )
                ),
                name="track_variant_preview_window",
            ),
            models.UniqueConstraint(
                fields=["track", "codec", "bitrate"],
                condition=Q(variant_type=VariantType.TRANSCODE),
                name="track_variant_unique_transcode",
                violation_error_message="This track has this transcode already.",
            ),
            models.UniqueConstraint(
                fields=["track", "codec", "bitrate", "preview_start", "preview_duration"],
                condition=Q(variant_type=VariantType.PREVIEW),
                name="track_variant_unique_preview",
                violation_error_message="This track has this preview already.",
            ),
        ]

    def __str__(self):
        return f"{self.variant_type} {self.codec} {self.bitrate} kbit/s of {self.track}"

    def clean(self):
        """A preview has a window within the track's audio, a transcode none; a variant
        needs a track whose audio has been received and analysed."""
        errors = {}
        window = {"preview_start": self.preview_start, "preview_duration": self.preview_duration}
        if self.variant_type == VariantType.PREVIEW:
            for name, value in window.items():
                if value is None:
                    errors[name] = ValidationError("A preview needs its window.", "required")
        else:
            for name, value in window.items():
                if value is not None:
                    message = "Only a preview has a window; a transcode is the whole track."
                    errors[name] = ValidationError(message, "not_allowed")
        track = self.track if self.track_id else None
        if track is not None and (
            not track.audio
            or track.duration is None
            or track.status in (Status.INITIALIZED, Status.ERROR)
        ):
            message = (
                "This track has no analysed audio to make variants of: upload its audio and "
                "wait until its processing has finished."
            )
            if track.status == Status.ERROR:
                message = f"This track is in error: {track.status_reason}"
            errors["track"] = ValidationError(message, "no_audio")
        elif track is not None and not errors and self.variant_type == VariantType.PREVIEW:
            if self.preview_start >= track.duration:
                message = f"The preview must start within the track ({track.duration} s)."
                errors["preview_start"] = ValidationError(message, "out_of_range")
            elif self.preview_start + self.preview_duration > track.duration:
                message = (
                    f"The preview must end within the track ({track.duration} s): at most "
                    f"{round(track.duration - self.preview_start, 3)} s from its start."
                )
                errors["preview_duration"] = ValidationError(message, "out_of_range")
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        """Django reports a conditional uniqueness rule (one transcode, one preview of each
        kind) broken without its fields or the code ``unique``: name both, as for any
        uniqueness rule (the API answers 409, pointing at the rule's last field)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            rules = {
                constraint.violation_error_message: constraint.fields
                for constraint in self._meta.constraints
                if isinstance(constraint, models.UniqueConstraint) and constraint.condition
            }
            errors = {}
            for name, found in exc.error_dict.items():
                for error in found:
                    fields = rules.get(error.message) if name == NON_FIELD_ERRORS else None
                    if fields:
                        params = {"unique_check": fields}
                        error = ValidationError(error.message, "unique", params)
                    errors.setdefault(name, []).append(error)
            raise ValidationError(errors) from exc

    def stored_file_names(self):
        return [self.file.name] if self.file else []
