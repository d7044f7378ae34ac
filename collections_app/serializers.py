from django.core.files.storage import default_storage
from rest_framework import serializers

from config.jsonapi.describe import describe
from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer

from .covers import SIZES
from .models import Collection, CollectionTrack, Status, TrackVariant, VariantStatus

RENDITION = {
    "type": "object",
    "required": ["url", "width", "height", "type"],
    "properties": {
        "url": {"type": "string", "format": "uri"},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "type": {"type": "string", "enum": ["image/jpeg", "image/png"]},
    },
}


@describe(
    {
        "type": "object",
        "nullable": True,
        "required": list(SIZES),
        "properties": dict.fromkeys(SIZES, RENDITION),
        "description": "The cover in four sizes (longest side: "
        + ", ".join(f"{name} {pixels} px" for name, pixels in SIZES.items())
        + "); null until one is uploaded or found in the audio.",
    }
)
def cover_schema(value):
    """Only describes the read-only ``cover`` member (config/jsonapi/openapi.py)."""


@describe(
    {
        "type": "object",
        "nullable": True,
        "required": ["container", "codec", "sample-rate", "channels", "bit-depth", "bitrate"],
        "properties": {
            "container": {"type": "string"},
            "codec": {"type": "string"},
            "sample-rate": {"type": "integer"},
            "channels": {"type": "integer"},
            "bit-depth": {"type": "integer", "nullable": True},
            "bitrate": {"type": "integer", "nullable": True, "description": "Bits per second."},
        },
        "description": "What processing found in the audio; null until it has.",
    }
)
def format_schema(value):
    """Only describes the read-only ``format`` member."""


SAMPLES = {"type": "array", "items": {"type": "number", "minimum": -1, "maximum": 1}}


@describe(
    {
        "type": "object",
        "nullable": True,
        "required": ["num-samples", "min", "max", "avg"],
        "properties": {
            "num-samples": {"type": "integer", "enum": [320]},
            "min": SAMPLES,
            "max": SAMPLES,
            "avg": SAMPLES,
        },
        "description": "The waveform: per 1/320 of the duration, the lowest and highest "
        "sample and the mean absolute amplitude (channels mixed); null until processed.",
    }
)
def levels_schema(value):
    """Only describes the read-only ``levels`` member."""


class CoverField(serializers.JSONField):
    """The stored renditions of a cover, each with the URL it is served at."""

    def __init__(self, **kwargs):
        # Read-only: the validator only carries the description (config/jsonapi/describe.py).
        super().__init__(read_only=True, source="cover_files", validators=[cover_schema], **kwargs)

    def to_representation(self, value):
        request = self.context["request"]
        return {
            size: {
                "url": request.build_absolute_uri(default_storage.url(rendition["name"])),
                "width": rendition["width"],
                "height": rendition["height"],
                "type": rendition["type"],
            }
            for size, rendition in value.items()
        }


THEME_FIELDS = [
    "creator_id",
    "organization_index",
    "metadata",
    "player_title",
    "player_subtitle",
    "player_color",
    "player_color_light",
    "player_color_dark",
    "is_cover_overridable",
    "is_theme_overridable",
    "cover",
    "created_at",
    "updated_at",
]


class PlayerThemeSerializer(ResourceSerializer):
    """A client that sets ``player-color`` keeps it; null hands it back to the cover."""

    cover = CoverField()

    def validate(self, attrs):
        if "player_color" in attrs:
            attrs["player_color_is_custom"] = attrs["player_color"] is not None
        return super().validate(attrs)


class CollectionSerializer(PlayerThemeSerializer):
    tracks = Relationship("collection-tracks", many=True, read_only=True)

    class Meta:
        model = Collection
        resource_name = "collections"
        fields = ["title", *THEME_FIELDS, "tracks"]
        ordering = ["created_at"]


class CollectionTrackSerializer(PlayerThemeSerializer):
    """A track's audio arrives through its upload target; its technical members are the
    server's, filled when processing has read the audio."""

    collection = Relationship("collections", queryset=Collection.objects.all())
    status = serializers.ChoiceField(Status.choices, read_only=True)
    format = serializers.JSONField(read_only=True, validators=[format_schema])
    levels = serializers.JSONField(read_only=True, validators=[levels_schema])
    variants = Relationship("track-variants", many=True, read_only=True)

    class Meta:
        model = CollectionTrack
        resource_name = "collection-tracks"
        fields = [
            "file_name",
            "title",
            "status",
            "status_reason",
            "duration",
            "format",
            "size",
            "sha256",
            "levels",
            "files_completed_at",
            *THEME_FIELDS,
            "collection",
            "variants",
        ]
        extra_kwargs = {"title": {"required": False}}
        create_only = ["file_name"]  # the name of the file uploaded: fixed with it
        ordering = ["created_at"]


class TrackVariantSerializer(ResourceSerializer):
    """A playable rendition of a collection track's audio, made in the background: a
    ``transcode`` of the whole track or a ``preview`` window of it, in one ``codec`` and
    ``bitrate`` (kbit/s).

    ``preview-start`` and ``preview-duration`` (seconds) are required for a preview and
    refused for a transcode; the window must lie within the track's duration. The track
    must have analysed audio (not ``initialized``, still analysing its upload, or
    ``error``). A track has one variant of each kind (type, codec, bitrate, window): the
    same one twice is a 409. ``status`` goes ``queued`` → ``processing`` → ``ready``, or
    ``error`` with a ``status-reason``; ``size``, ``duration`` and ``mime-type`` describe
    the file once it is ready."""

    track = Relationship("collection-tracks", queryset=CollectionTrack.objects.all())
    status = serializers.ChoiceField(VariantStatus.choices, read_only=True)

    class Meta:
        model = TrackVariant
        resource_name = "track-variants"
        fields = [
            "variant_type",
            "codec",
            "bitrate",
            "preview_start",
            "preview_duration",
            "status",
            "status_reason",
            "size",
            "duration",
            "mime_type",
            "created_at",
            "updated_at",
            "track",
        ]
        ordering = ["created_at"]
