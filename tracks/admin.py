"""Tracks and their records in the admin, scoped to the user's organizations.

A track's page groups its members: what the distribution catalog describes first, then the
Audius members in sections of their own (discovery, access gates, remixes and stems, DDEX
credits and rights, files, ownership), which start folded. The rules are the model's (its
field validators, tracks.audius and Track.clean()), as in the API.

A record is made by uploading a FLAC master (here, through the API or its upload target):
what is read from the file is shown, never edited, and a record is not changed afterwards
(the API does not change one either); it may be deleted.
"""

from django import forms
from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from organizations.admin import JSON_FIELDS, OrganizationScopedAdmin

from .models import CREDIT_ROLES, Record, Track


class TrackAdminForm(forms.ModelForm):
    def clean(self):
        """remix-of is many-to-many, so Track.clean() cannot see it: check it here, with the
        same rule the API applies."""
        cleaned = super().clean()
        parents = cleaned.get("remix_of")
        if parents is not None:
            product = cleaned.get("product")
            problem = self.instance.parent_problem(
                [parent.pk for parent in parents], "remix_of", product and product.pk
            )
            if problem:
                self.add_error("remix_of", problem)
        return cleaned


def audius(name, fields, description=None):
    options = {"fields": fields, "classes": ["collapse"]}
    if description:
        options["description"] = description
    return (f"Audius: {name}", options)


TRACK_FIELDSETS = [
    (
        None,
        {
            "fields": [
                "product",
                "title",
                "subtitle",
                ("volume_number", "track_number"),
                "isrc_code",
                "artist",
                "audio_language",
            ],
            "description": 'Artists and credits are JSON lists of names: ["The Band"].',
        },
    ),
    ("Credits", {"fields": list(CREDIT_ROLES), "classes": ["collapse"]}),
    (
        "Release",
        {
            "fields": [
                "production_line",
                "production_date",
                ("is_clean", "parental_advisory", "explicit_content"),
                ("preview_start", "preview_end"),
                "lyrics",
            ]
        },
    ),
    (
        "Audio (from the track's records)",
        {"fields": ["length", "audio16bits", "audio24bits", "records"]},
    ),
    audius(
        "description and discovery",
        [
            "description",
            "genre",
            "mood",
            "bpm",
            "musical_key",
            "tags",
            "license",
            "iswc_code",
            "release_date",
        ],
    ),
    audius(
        "access gates",
        [
            "is_unlisted",
            "is_downloadable",
            "is_stream_gated",
            "stream_conditions",
            "is_download_gated",
            "download_conditions",
            "field_visibility",
            "placement_hosts",
        ],
        'A gated track has its conditions, exactly one gate: {"follow-user-id": 5}, '
        '{"tip-user-id": 5}, {"usdc-purchase": {"price": 1.5, "splits": [{"user-id": 5, '
        '"percentage": 100}]}} or {"token-gate": {"token-mint": "...", "token-amount": 1}}.',
    ),
    audius(
        "remixes, stems and covers",
        [
            "remix_of",
            "stem_of",
            "stem_category",
            "cover_original_song_title",
            "cover_original_artist",
        ],
        "A stem has its category; a track with stems is not deleted before them.",
    ),
    audius(
        "DDEX credits and rights",
        [
            "ddex_app",
            "ddex_release_ids",
            "artists",
            "resource_contributors",
            "indirect_resource_contributors",
            "rights_controller",
            "copyright_line",
            "producer_copyright_line",
            "parental_warning_type",
            "territory_codes",
        ],
        'Contributors: [{"name": "Ana", "roles": ["Composer"]}]; copyright lines: '
        '{"year": "2026", "text": "..."}; territories: ["ES", "FR"].',
    ),
    audius(
        "files",
        [
            "track_cid",
            "orig_file_cid",
            "orig_filename",
            "cover_art_cid",
            "cover_art_sizes",
            "preview_cid",
            "preview_start_seconds",
            "duration",
        ],
    ),
    audius("ownership", ["is_owned_by_user", "no_ai_use"]),
    ("Dates", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
]


def records_url(track):
    changelist = reverse("admin:tracks_record_changelist")
    return f"{changelist}?track__id__exact={track.pk}"


@admin.register(Track)
class TrackAdmin(OrganizationScopedAdmin):
    form = TrackAdminForm
    formfield_overrides = JSON_FIELDS
    list_display = [
        "title",
        "isrc_code",
        "product",
        "volume_number",
        "track_number",
        "genre",
        "is_unlisted",
    ]
    list_filter = [
        "genre",
        "mood",
        "is_unlisted",
        "is_stream_gated",
        "parental_warning_type",
        ("product__label", admin.RelatedOnlyFieldListFilter),
    ]
    # ``artist`` is a JSON list of names: searched in its JSON text, so a name matches.
    search_fields = ["title", "artist", "isrc_code", "product__name", "product__upc_code"]
    autocomplete_fields = ["product", "audio_language", "remix_of", "stem_of"]
    readonly_fields = [
        "length",
        "audio16bits",
        "audio24bits",
        "records",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["product"]
    fieldsets = TRACK_FIELDSETS

    def get_fieldsets(self, request, obj=None):
        """A new track has no records nor dates yet."""
        if obj is not None:
            return self.fieldsets
        hidden = {"records", "created_at", "updated_at"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in self.fieldsets
            if set(options["fields"]) - hidden
        ]

    @admin.display(description="records")
    def records(self, obj):
        count = obj.records.count()
        return format_html('<a href="{}">{} record(s)</a>', records_url(obj), count)


@admin.register(Record)
class RecordAdmin(OrganizationScopedAdmin):
    """Upload a FLAC master: the model reads and checks it exactly as the API does. What it
    read is shown read-only; a record is not changed afterwards."""

    list_display = [
        "filename",
        "track",
        "master_type",
        "precision",
        "duration_display",
        "size_display",
        "created_at",
    ]
    list_filter = ["master_type", "precision"]
    search_fields = ["filename", "md5", "track__title", "track__isrc_code"]
    list_select_related = ["track"]
    autocomplete_fields = ["track"]
    date_hierarchy = "created_at"
    readonly_fields = [*Record.DERIVED_FIELDS, "original_url", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["track", "file", "filename", "original_url"]}),
        ("Technical data (read from the file)", {"fields": list(Record.DERIVED_FIELDS)}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "file" in form.base_fields:
            form.base_fields["file"].widget = forms.ClearableFileInput(
                attrs={"accept": ".flac,audio/flac"}
            )
        return form

    def get_fieldsets(self, request, obj=None):
        """Uploading: the track, the file and its name; the rest is read from the file."""
        if obj is None:
            return [(None, {"fields": ["track", "file", "filename"]})]
        return self.fieldsets

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, obj):
        minutes, seconds = divmod(round(obj.duration), 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="size", ordering="file_size")
    def size_display(self, obj):
        return filesizeformat(obj.file_size)
