import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config.models import NormalizedCharField, TimeStampedModel
from products.models import Language, Product, retired_language_error

from . import audio, audius
from .validators import (
    normalize_isrc,
    validate_filename,
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


# PostgreSQL's integer range, enforced alike on SQLite (whose integers are 64-bit).
MAX_INTEGER = MaxValueValidator(2**31 - 1)

AUDIUS_FIELDS = (
    "description", "genre", "mood", "bpm", "musical_key", "tags", "license", "iswc_code",
    "release_date", "track_cid", "orig_file_cid", "orig_filename", "cover_art_cid",
    "cover_art_sizes", "preview_cid", "preview_start_seconds", "duration", "is_downloadable",
    "is_unlisted", "is_stream_gated", "stream_conditions", "is_download_gated",
    "download_conditions", "field_visibility", "placement_hosts", "stem_category", "ddex_app",
    "ddex_release_ids", "artists", "resource_contributors", "indirect_resource_contributors",
    "rights_controller", "copyright_line", "producer_copyright_line", "parental_warning_type",
    "cover_original_song_title", "cover_original_artist", "is_owned_by_user", "territory_codes",
    "no_ai_use",
)  # fmt: skip


def rule_error(message, code, *fields):
    """A rule between ``fields``: when an update sends only some of them, the error is a
    conflict with the stored track (409), not an invalid document (see config.jsonapi)."""
    return ValidationError(message, code, params={"fields": fields})


# Each access gate: its kind and its pair of fields (whether gated, the conditions)
_GATES = tuple(
    (kind, (f"is_{kind}_gated", f"{kind}_conditions")) for kind in ("stream", "download")
)


def credit_list(verbose_name):
    return models.JSONField(verbose_name, null=True, blank=True, validators=[validate_name_list])


def optional_text(max_length=255, **kwargs):
    return models.CharField(max_length=max_length, null=True, blank=True, **kwargs)


def optional_json(*validators):
    return models.JSONField(null=True, blank=True, validators=list(validators))


def cid():
    return optional_text(validators=[audius.validate_cid])


class Track(TimeStampedModel):
    """A recording within a product, as the distribution catalog describes it, with the
    Audius metadata of the same recording.

    Storage of the Audius members: those that lists filter on are columns (genre, mood,
    musical_key, bpm, is_unlisted, release_date) so the database can index and compare
    them; tags are a normalised comma-separated string, matched item by item with a
    regular expression; territory_codes are a JSON array of validated upper-case ISO codes,
    matched as quoted text. Both work alike on PostgreSQL and SQLite, which JSON
    containment does not. Nested structures that nothing filters on (conditions, DDEX
    credits) stay JSON, validated by tracks.audius.
    """

    title = models.CharField(max_length=255)
    subtitle = models.CharField(max_length=255, null=True, blank=True)
    track_number = models.PositiveIntegerField(validators=[MinValueValidator(1), MAX_INTEGER])
    volume_number = models.PositiveIntegerField(validators=[MinValueValidator(1), MAX_INTEGER])
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
    preview_start = models.PositiveIntegerField(
        default=30, validators=[MAX_INTEGER], help_text="Seconds."
    )
    preview_end = models.PositiveIntegerField(
        null=True, blank=True, validators=[MAX_INTEGER], help_text="Seconds."
    )
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
    # No index of Django's on either: the uniqueness rules' indexes start with the product
    # and serve a lookup by it, and the language has ``track_audio_language`` (without the
    # LIKE index Django adds for a text key); each index costs every track written.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="tracks", db_index=False
    )
    audio_language = models.ForeignKey(
        Language, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    # Audius metadata (see the class docstring for how it is stored).
    description = models.TextField(null=True, blank=True, max_length=1000)
    genre = optional_text(50, choices=audius.choices(audius.GENRES))
    mood = optional_text(20, choices=audius.choices(audius.MOODS))
    bpm = models.FloatField(null=True, blank=True, validators=[audius.validate_positive])
    musical_key = optional_text(8, choices=audius.choices(audius.MUSICAL_KEYS))
    tags = NormalizedCharField(max_length=1000, null=True, blank=True,
                               normalizer=audius.normalize_tags)  # fmt: skip
    license = optional_text()
    iswc_code = NormalizedCharField("ISWC code", max_length=13, null=True, blank=True,
                                    normalizer=audius.normalize_iswc,
                                    validators=[audius.validate_iswc])  # fmt: skip
    release_date = models.DateField(null=True, blank=True)
    track_cid = cid()
    orig_file_cid = cid()
    orig_filename = optional_text()
    cover_art_cid = cid()
    cover_art_sizes = cid()
    preview_cid = cid()
    preview_start_seconds = models.FloatField(
        null=True, blank=True, validators=[audius.validate_not_negative]
    )
    duration = models.FloatField(null=True, blank=True, validators=[audius.validate_not_negative])
    is_downloadable = models.BooleanField(default=False)
    is_unlisted = models.BooleanField(default=False)
    is_stream_gated = models.BooleanField(default=False)
    stream_conditions = optional_json(audius.validate_conditions)
    is_download_gated = models.BooleanField(default=False)
    download_conditions = optional_json(audius.validate_conditions)
    field_visibility = optional_json(audius.validate_field_visibility)
    placement_hosts = optional_text()
    remix_of = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="remixes")
    # PROTECT: deleting a parent would orphan its stems' stem-category (a 409 instead).
    stem_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="stems",
        db_index=False,
    )  # fmt: skip
    stem_category = optional_text(20, choices=audius.choices(audius.STEM_CATEGORIES))
    ddex_app = optional_text()
    ddex_release_ids = optional_json(audius.validate_ddex_release_ids)
    artists = optional_json(audius.validate_contributors)
    resource_contributors = optional_json(audius.validate_contributors)
    indirect_resource_contributors = optional_json(audius.validate_contributors)
    rights_controller = optional_json(audius.validate_rights_controller)
    copyright_line = optional_json(audius.validate_copyright_line)
    producer_copyright_line = optional_json(audius.validate_copyright_line)
    parental_warning_type = optional_text(25, choices=audius.choices(audius.PARENTAL_WARNING_TYPES))
    cover_original_song_title = optional_text()
    cover_original_artist = optional_text()
    is_owned_by_user = models.BooleanField(default=False)
    territory_codes = optional_json(audius.validate_territory_codes)
    no_ai_use = models.BooleanField(default=False)

    organization_path = "product__label__organization"

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["audio_language"], name="track_audio_language"),
            # Partial: the few tracks a lookup looks for (the unlisted ones, the stems of a
            # track), not every track written with the common value (listed, no parent),
            # which no lookup would read through an index.
            models.Index(
                fields=["is_unlisted"], name="track_unlisted", condition=Q(is_unlisted=True)
            ),
            models.Index(
                fields=["stem_of"], name="track_stem_of", condition=Q(stem_of__isnull=False)
            ),
        ]
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
            models.CheckConstraint(condition=Q(bpm__gt=0) | Q(bpm__isnull=True), name="track_bpm"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"is_{kind}_gated": True, f"{kind}_conditions__isnull": False})
                    | Q(**{f"is_{kind}_gated": False, f"{kind}_conditions__isnull": True}),
                    name=f"track_{kind}_gate_matches_conditions",
                )
                for kind in ("stream", "download")
            ),
            models.CheckConstraint(
                condition=Q(stem_of__isnull=True, stem_category__isnull=True)
                | Q(stem_of__isnull=False, stem_category__isnull=False),
                name="track_stem_has_category",
            ),
            models.CheckConstraint(condition=~Q(stem_of=F("id")), name="track_not_own_stem"),
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
        errors = {}
        if self.preview_end is not None and self.preview_end <= (self.preview_start or 0):
            message = "preview-end must be after preview-start."
            errors["preview_end"] = rule_error(
                message, "preview_range", "preview_start", "preview_end"
            )
        for kind, pair in _GATES:
            gated, conditions = getattr(self, pair[0]), getattr(self, pair[1])
            if gated and conditions is None:
                message = f"is-{kind}-gated is true: {kind}-conditions are required."
                errors[pair[1]] = rule_error(message, "conditions_required", *pair)
            elif not gated and conditions is not None:
                message = f"is-{kind}-gated is false: {kind}-conditions are not allowed."
                errors[pair[1]] = rule_error(message, "conditions_forbidden", *pair)
        if (self.stem_of_id is None) != (self.stem_category is None):
            message = "stem-of and stem-category go together."
            errors["stem_category"] = rule_error(
                message, "stem_category", "stem_of", "stem_category"
            )
        if self.stem_of_id is not None:
            problem = self.parent_problem([self.stem_of_id], "stem_of")
            if problem:
                errors["stem_of"] = problem
        if retired := retired_language_error(self, "audio_language"):
            errors["audio_language"] = retired
        if errors:
            raise ValidationError(errors)

    def parent_problem(self, parent_ids, relation, product_id=None):
        """A ValidationError when ``parent_ids`` as ``relation`` parents (remix_of, stem_of)
        are tracks of another organization than ``product_id``'s (default: this track's
        product), or would make this track its own ancestor; None when they are fine."""
        product_id = product_id or self.product_id
        if parent_ids and product_id is not None:
            own = Product.objects.filter(pk=product_id).values("label__organization_id")
            foreign = Track.objects.filter(pk__in=parent_ids).exclude(
                product__label__organization_id=models.Subquery(own)
            )
            if foreign.exists():
                message = "A parent must be a track of the same organization."
                return ValidationError(message, "foreign_parent")
        if self.pk is None:
            return None
        if self.pk in parent_ids:
            return ValidationError("A track cannot be its own parent.", "self_reference")
        seen, frontier = set(), set(parent_ids)
        while frontier:
            if self.pk in frontier:
                return ValidationError("These parents would make a cycle.", "cycle")
            seen |= frontier
            parents = Track.objects.filter(pk__in=frontier)
            if relation == "remix_of":
                next_ids = parents.values_list("remix_of", flat=True)
            else:
                next_ids = parents.values_list("stem_of", flat=True)
            frontier = {pk for pk in next_ids if pk is not None} - seen
        return None


def master_path(record, filename):
    """Where a master is stored: a name of our own, never the client's ``filename``, so that
    no name a client sends can be refused by storage (or collide, or escape its folder)."""
    return f"records/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.flac"


class Record(TimeStampedModel):
    """The FLAC master of a track, with the technical metadata read from the file itself."""

    DERIVED_FIELDS = ("md5", "file_size", "precision", "duration", "master_type", "file_info")

    class MasterType(models.TextChoices):
        CD = "cd", "CD quality (16-bit, up to 48 kHz)"
        HI_RES = "hi-res", "High resolution (24-bit or above 48 kHz)"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="records")
    file = models.FileField(upload_to=master_path, max_length=255)
    filename = models.CharField(max_length=255, validators=[validate_filename])
    original_url = models.URLField(
        max_length=2000, null=True, blank=True, validators=[audio.validate_source_url]
    )
    md5 = models.CharField(max_length=32, editable=False)
    file_size = models.PositiveBigIntegerField(editable=False)
    precision = models.PositiveSmallIntegerField(editable=False, help_text="Bits per sample.")
    duration = models.FloatField(editable=False, help_text="Seconds.")
    master_type = models.CharField(max_length=8, choices=MasterType.choices, editable=False)
    file_info = models.JSONField(editable=False)

    organization_path = "track__product__label__organization"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(file_size__gt=0), name="record_file_not_empty"),
            models.CheckConstraint(condition=Q(duration__gt=0), name="record_has_audio"),
        ]

    def __str__(self):
        return self.filename

    @property
    def has_new_file(self):
        return bool(self.file) and not self.file._committed

    def clean(self):
        """Read a new file whole and check it (tracks.audio.read_master): a broken master is
        a validation error here, before anything is stored."""
        if self.has_new_file:
            self.read_master()

    def read_master(self):
        """Fill the technical metadata from the new file; a ValidationError on "file" if it
        is not a whole FLAC master.

        The reading is kept on the file object: the API validates one instance and saves
        another with the same file, and the admin validates then saves, so the file is read
        once either way.
        """
        content = self.file.file
        master = getattr(content, "flac_master", None)
        if master is None:
            try:
                audio.check_size(content.size)
                master = audio.read_master(content)
            except ValidationError as exc:
                raise ValidationError({"file": exc}) from exc
            content.flac_master = master
        self.file_info, self.md5, self.file_size = master.info, master.md5, master.size
        self.precision = master.info["bits-per-raw-sample"]
        self.duration = master.info["duration"]
        hi_res = self.precision >= 24 or master.info["sample-rate"] > 48000
        self.master_type = self.MasterType.HI_RES if hi_res else self.MasterType.CD

    def save(self, *args, **kwargs):
        if self.has_new_file:
            self.read_master()
        super().save(*args, **kwargs)
