from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from config.models import NormalizedCharField, TimeStampedModel
from products.models import Language, Product

from . import audio
from .validators import (
    normalize_isrc,
    validate_isrc,
    validate_name_list,
    validate_required_name_list,
)

CREDIT_ROLES = (
    "author",
    "composer",
    "publisher",
    "contributor",
    "remixer",
    "featuring",
    "performer",
    "producer",
    "orchestra",
    "lyricist",
    "arranger",
    "director",
)


def credit_list(verbose_name):
    return models.JSONField(verbose_name, null=True, blank=True, validators=[validate_name_list])


class Track(TimeStampedModel):
    """A recording within a product, as the distribution catalog describes it."""

    title = models.CharField(max_length=255)
    subtitle = models.CharField(max_length=255, null=True, blank=True)
    track_number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    volume_number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    isrc_code = NormalizedCharField(
        "ISRC code", max_length=12, normalizer=normalize_isrc, validators=[validate_isrc]
    )
    # Derived from the track's records (refresh_audio_summary): never written by clients.
    length = models.PositiveIntegerField(default=0, editable=False, help_text="Seconds.")
    production_line = models.CharField(max_length=255, null=True, blank=True)
    # Not "clean": a field of that name would shadow Model.clean() and break validation.
    is_clean = models.BooleanField("clean", default=False)
    parental_advisory = models.BooleanField(default=False)
    production_date = models.DateField(null=True, blank=True)
    preview_start = models.PositiveIntegerField(default=30, help_text="Seconds.")
    preview_end = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    lyrics = models.TextField(null=True, blank=True)
    explicit_content = models.BooleanField(null=True, blank=True)
    artist = models.JSONField(validators=[validate_required_name_list])
    author = credit_list("author")
    composer = credit_list("composer")
    publisher = credit_list("publisher")
    contributor = credit_list("contributor")
    remixer = credit_list("remixer")
    featuring = credit_list("featuring")
    performer = credit_list("performer")
    producer = credit_list("producer")
    orchestra = credit_list("orchestra")
    lyricist = credit_list("lyricist")
    arranger = credit_list("arranger")
    director = credit_list("director")
    audio16bits = models.BooleanField(default=False, editable=False)
    audio24bits = models.BooleanField(default=False, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="tracks")
    audio_language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "isrc_code"], name="track_isrc_per_product"),
            models.UniqueConstraint(
                fields=["product", "volume_number", "track_number"],
                name="track_position_per_product",
            ),
            models.CheckConstraint(condition=Q(track_number__gte=1), name="track_number_positive"),
            models.CheckConstraint(
                condition=Q(volume_number__gte=1), name="track_volume_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(isrc_code__regex=r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"),
                name="track_isrc_compact",
            ),
            models.CheckConstraint(
                condition=Q(preview_end__isnull=True) | Q(preview_end__gt=F("preview_start")),
                name="track_preview_end_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def refresh_audio_summary(self):
        """Derive length (longest master, whole seconds) and the bit-depth flags from records."""
        summary = self.records.aggregate(
            duration=models.Max("duration"),
            has16=models.Count("pk", filter=Q(precision=16)),
            has24=models.Count("pk", filter=Q(precision=24)),
        )
        Track.objects.filter(pk=self.pk).update(
            length=round(summary["duration"] or 0),
            audio16bits=bool(summary["has16"]),
            audio24bits=bool(summary["has24"]),
        )

    def clean(self):
        if self.preview_end is not None and self.preview_end <= (self.preview_start or 0):
            message = "preview-end must be after preview-start."
            raise ValidationError({"preview_end": ValidationError(message, "preview_range")})


class Record(TimeStampedModel):
    """The FLAC master of a track, with the technical metadata read from the file itself."""

    DERIVED_FIELDS = ("md5", "file_size", "precision", "duration", "master_type", "file_info")

    class MasterType(models.TextChoices):
        CD = "cd", "CD quality (16-bit, up to 48 kHz)"
        HI_RES = "hi-res", "High resolution (24-bit or above 48 kHz)"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="records")
    file = models.FileField(upload_to="records/%Y/%m/", max_length=255)
    filename = models.CharField(max_length=255)
    original_url = models.URLField(max_length=2000, null=True, blank=True)
    md5 = models.CharField(max_length=32, editable=False)
    file_size = models.PositiveBigIntegerField(editable=False)
    precision = models.PositiveSmallIntegerField(editable=False, help_text="Bits per sample.")
    duration = models.FloatField(editable=False, help_text="Seconds.")
    master_type = models.CharField(max_length=8, choices=MasterType.choices, editable=False)
    file_info = models.JSONField(editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(file_size__gt=0), name="record_file_not_empty"),
            models.CheckConstraint(condition=Q(duration__gt=0), name="record_has_audio"),
        ]

    def __str__(self):
        return self.filename

    def clean(self):
        if self.file:
            try:
                audio.check_size(self.file.size)
            except ValidationError as exc:
                raise ValidationError({"file": exc}) from exc
            self.read_master()

    def read_master(self):
        """Fill the technical metadata from the file; a ValidationError if it is no FLAC."""
        try:
            info = audio.read_flac(self.file)
        except ValidationError as exc:
            raise ValidationError({"file": exc}) from exc
        self.file_info = info
        self.precision = info["bits-per-raw-sample"]
        self.duration = info["duration"]
        self.file_size = self.file.size
        self.md5 = audio.md5_of(self.file)
        hi_res = self.precision >= 24 or info["sample-rate"] > 48000
        self.master_type = self.MasterType.HI_RES if hi_res else self.MasterType.CD

    def save(self, *args, **kwargs):
        if not self.md5:
            self.read_master()
        super().save(*args, **kwargs)
