import posixpath
import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from config.jsonapi.fields import Base64FileField, StrictBooleanField, StrictCharField
from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer
from products.models import Language, Product

from . import audio
from .models import AUDIUS_FIELDS, CREDIT_ROLES, Record, Track
from .validators import validate_filename


class TrackSerializer(ResourceSerializer):
    """A distribution track with its Audius metadata.

    Rules between members (422 when a document breaks them; 409 when an update breaks one
    only together with the stored values): preview-end is after preview-start;
    is-stream-gated / is-download-gated is true exactly when stream-conditions /
    download-conditions are given; stem-of and stem-category go together; usdc-purchase
    split percentages add up to 100; remix-of and stem-of make no cycle.
    """

    clean = StrictBooleanField(source="is_clean", required=False)
    product = Relationship("products", queryset=Product.objects.all())
    audio_language = Relationship("languages", queryset=Language.objects.all())
    label = Relationship("labels", source="product.label", read_only=True)
    records = Relationship("records", many=True, read_only=True)
    remix_of = Relationship(
        "tracks", many=True, queryset=Track.objects.all(), allow_empty=False, required=False
    )
    stem_of = Relationship("tracks", queryset=Track.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Track
        resource_name = "tracks"
        fields = [
            "title",
            "subtitle",
            "track_number",
            "volume_number",
            "isrc_code",
            "length",
            "production_line",
            "clean",
            "parental_advisory",
            "production_date",
            "preview_start",
            "preview_end",
            "lyrics",
            "explicit_content",
            "artist",
            *CREDIT_ROLES,
            "audio16bits",
            "audio24bits",
            "created_at",
            "updated_at",
            "product",
            *AUDIUS_FIELDS,
            "audio_language",
            "label",
            "records",
            "remix_of",
            "stem_of",
        ]

    def validate(self, attrs):
        parents = attrs.get("remix_of")
        if parents is not None and self.instance is not None:
            product = attrs.get("product")
            problem = self.instance.parent_problem(
                [track.pk for track in parents], "remix_of", product and product.pk
            )
            if problem:
                raise serializers.ValidationError({"remix_of": get_error_detail(problem)})
        return super().validate(attrs)


# original-url given as a URL (null counts as not sent).
SENT_ORIGINAL_URL = {
    "required": ["original-url"],
    "properties": {"original-url": {"type": "string"}},
}


class RecordSerializer(ResourceSerializer):
    """A master audio file: sent as base64 (``new-file``) or fetched (``original-url``);
    everything else about it is read from the file by the server."""

    track = Relationship("tracks", queryset=Track.objects.all())
    new_file = Base64FileField(
        source="file",
        write_only=True,
        required=False,
        max_bytes=lambda: settings.RECORD_MAX_BYTES,
        content_format="base64-flac",
    )
    # What validate() below enforces, for the description: new-file with its filename, or
    # original-url, never both.
    create_rules = {
        "oneOf": [
            {"required": ["new-file", "filename"], "not": SENT_ORIGINAL_URL},
            {**SENT_ORIGINAL_URL, "not": {"required": ["new-file"]}},
        ]
    }
    file = serializers.JSONField(source="file_info", read_only=True)

    class Meta:
        model = Record
        resource_name = "records"
        fields = [
            "filename",
            "md5",
            "file_size",
            "precision",
            "master_type",
            "file",
            "new_file",
            "original_url",
            "created_at",
            "updated_at",
            "track",
        ]
        extra_kwargs = {"filename": {"required": False}}

    def validate(self, attrs):
        url = attrs.get("original_url")
        if ("file" in attrs) == bool(url):
            raise serializers.ValidationError(
                {"new_file": "Send exactly one of new-file and original-url."}
            )
        if url:
            try:
                attrs["file"] = ContentFile(audio.fetch(url), name="master.flac")
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"original_url": get_error_detail(exc)}) from exc
            attrs.setdefault("filename", filename_from(url))
        elif not attrs.get("filename"):
            raise serializers.ValidationError(
                {"filename": "The filename field is required with new-file."}
            )
        try:
            return super().validate(attrs)
        except serializers.ValidationError as exc:
            # The model reports problems of the audio under "file": point at how it came.
            member = "original_url" if url else "new_file"
            detail = {member if key == "file" else key: value for key, value in exc.detail.items()}
            raise serializers.ValidationError(detail) from exc


def filename_from(url):
    """The last segment of the URL's path, or "master.flac" when that is no file name."""
    name = posixpath.basename(urllib.parse.urlsplit(url).path)
    try:
        validate_filename(name)
    except DjangoValidationError:
        return "master.flac"
    return name or "master.flac"


class RecordUploadTargetSerializer(serializers.Serializer):
    """Asks for a target to upload a record's master to (``POST /records/upload-targets``):
    the track the record will belong to and, optionally, the file's name."""

    track = Relationship("tracks", queryset=Track.objects.all())
    filename = StrictCharField(required=False, max_length=255, validators=[validate_filename])
    members = {"attributes": {"filename"}, "relationships": {"track"}}
