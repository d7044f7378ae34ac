"""Collections and their tracks in the admin, scoped to the user's organizations.

What the server fills (a track's status, its audio and what processing read from it, the
cover and the colours derived from it) is shown, never edited: a track's audio arrives
through its upload target, so tracks are not added here. "Process again" re-runs the
processing of tracks whose audio is stored, as the upload does.
"""

from django import forms
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import ngettext

from organizations.admin import JSON_FIELDS, OrganizationScopedAdmin

from . import processing
from .models import Collection, CollectionTrack, Status

TRACKS_SHOWN = 20  # on a collection's page; the filtered track list has them all
THEME_FIELDS = [
    "player_title",
    "player_subtitle",
    "player_color",
    "is_cover_overridable",
    "is_theme_overridable",
]
CLIENT_FIELDS = ["organization_index", "creator_id", "metadata"]
COVER_FIELDS = ["cover", "player_color_light_swatch", "player_color_dark_swatch"]


class PlayerThemeForm(forms.ModelForm):
    def clean(self):
        """A colour set here is the client's own, as one set through the API; an emptied
        one goes back to the cover's. Decided before the model's clean(), which checks it."""
        cleaned = super().clean()
        if "player_color" in self.changed_data and "player_color" in cleaned:
            self.instance.player_color_is_custom = cleaned["player_color"] is not None
        return cleaned


def swatch(colour):
    if not colour:
        return "-"
    return format_html(
        '<span class="colour-swatch" style="display:inline-block;width:1em;height:1em;'
        'vertical-align:middle;border:1px solid #888;background:{}"></span> <code>{}</code>',
        colour,
        colour,
    )


def cover_thumbnail(obj):
    icon = (obj.cover_files or {}).get("icon")
    if not icon:
        return "-"
    return format_html(
        '<img class="cover-thumbnail" src="{}" width="{}" height="{}" alt="">',
        default_storage.url(icon["name"]),
        icon["width"],
        icon["height"],
    )


def duration_text(seconds):
    if seconds is None:
        return "-"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def tracks_url(collection):
    changelist = reverse("admin:collections_app_collectiontrack_changelist")
    return f"{changelist}?{urlencode({'collection__id__exact': collection.pk})}"


class PlayerThemeAdmin(OrganizationScopedAdmin):
    form = PlayerThemeForm
    formfield_overrides = JSON_FIELDS

    @admin.display(description="player colour", ordering="player_color")
    def player_color_swatch(self, obj):
        return swatch(obj.player_color)

    @admin.display(description="player colour (light)")
    def player_color_light_swatch(self, obj):
        return swatch(obj.player_color_light)

    @admin.display(description="player colour (dark)")
    def player_color_dark_swatch(self, obj):
        return swatch(obj.player_color_dark)

    @admin.display(description="cover")
    def cover(self, obj):
        return cover_thumbnail(obj)


@admin.register(Collection)
class CollectionAdmin(PlayerThemeAdmin):
    list_display = [
        "title",
        "cover",
        "organization",
        "track_count",
        "player_color_swatch",
        "created_at",
    ]
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]  # no foreign names
    search_fields = ["title", "organization_index"]
    list_select_related = ["organization"]
    fieldsets = [
        (None, {"fields": ["organization", "title"]}),
        ("Player", {"fields": THEME_FIELDS}),
        ("Client", {"fields": CLIENT_FIELDS}),
        ("Cover", {"fields": COVER_FIELDS}),
        ("Tracks", {"fields": ["tracks_summary"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [*COVER_FIELDS, "tracks_summary", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(track_count=Count("tracks"))

    def get_readonly_fields(self, request, obj=None):
        """A collection stays in the organization it was made in, with its tracks."""
        return [*self.readonly_fields, *(["organization"] if obj is not None else [])]

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, obj):
        return format_html('<a href="{}">{}</a>', tracks_url(obj), obj.track_count)

    @admin.display(description="tracks")
    def tracks_summary(self, obj):
        if obj.pk is None:
            return "-"
        tracks = list(obj.tracks.all()[:TRACKS_SHOWN])
        if not tracks:
            return "No tracks yet."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:collections_app_collectiontrack_change", args=[track.pk]),
                    track.title,
                    track.file_name,
                    track.get_status_display(),
                    duration_text(track.duration),
                )
                for track in tracks
            ),
        )
        count = obj.track_count if hasattr(obj, "track_count") else obj.tracks.count()
        return format_html(
            '<table class="collection-tracks"><thead><tr><th>title</th><th>file name</th>'
            "<th>status</th><th>duration</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">{}</a></p>',
            rows,
            tracks_url(obj),
            ngettext("Its track in the track list", "All %(count)d in the track list", count)
            % {"count": count},
        )


@admin.register(CollectionTrack)
class CollectionTrackAdmin(PlayerThemeAdmin):
    list_display = [
        "title",
        "cover",
        "collection",
        "status",
        "duration_display",
        "size_display",
        "codec",
        "created_at",
    ]
    list_filter = ["status", ("collection__organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "file_name", "organization_index", "id"]
    list_select_related = ["collection"]
    actions = ["process_again"]
    fieldsets = [
        (None, {"fields": ["collection", "file_name", "title"]}),
        ("Status", {"fields": ["status", "status_reason_text", "audio"]}),
        ("Player", {"fields": THEME_FIELDS}),
        ("Client", {"fields": CLIENT_FIELDS}),
        ("Cover", {"fields": COVER_FIELDS}),
        (
            "Audio (read by processing)",
            {
                "fields": [
                    "duration_display",
                    "format",
                    "size_display",
                    "sha256",
                    "levels_summary",
                    "files_completed_at",
                ]
            },
        ),
        (
            "Processing run",
            {
                "fields": ["processing_attempt", "processing_heartbeat_at"],
                "classes": ["collapse"],
            },
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "collection",
        "file_name",
        "status",
        "status_reason_text",
        "audio",
        *COVER_FIELDS,
        "duration_display",
        "format",
        "size_display",
        "sha256",
        "levels_summary",
        "files_completed_at",
        "processing_attempt",
        "processing_heartbeat_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        """A track is created with its upload target, through the API."""
        return False

    @admin.display(description="status reason")
    def status_reason_text(self, obj):
        return obj.status_reason or "-"

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, obj):
        return duration_text(obj.duration)

    @admin.display(description="size", ordering="size")
    def size_display(self, obj):
        return "-" if obj.size is None else filesizeformat(obj.size)

    @admin.display(description="codec", ordering="format__codec")
    def codec(self, obj):
        return (obj.format or {}).get("codec") or "-"

    @admin.display(description="levels")
    def levels_summary(self, obj):
        """The waveform is hundreds of numbers: its beginning."""
        if not obj.levels:
            return "-"
        return Truncator(str(obj.levels)).chars(120)

    @admin.action(description="Process again", permissions=["change"])
    def process_again(self, request, queryset):
        """Re-run the processing of the selected tracks that have audio and are not being
        processed now; each run's task is committed with its track's new status."""
        queryset = self.writable(request, queryset)
        with transaction.atomic():
            selected = list(
                CollectionTrack.objects.select_for_update()
                .filter(pk__in=queryset.values("pk"))
                .order_by("pk")
            )
            without_audio = [track for track in selected if not track.audio]
            busy = [t for t in selected if t.audio and t.status == Status.PROCESSING]
            tracks = [t for t in selected if t.audio and t.status != Status.PROCESSING]
            for track in tracks:
                processing.start(track)
        reports = [
            (
                tracks,
                messages.SUCCESS,
                "%(count)d track is queued to be processed again.",
                "%(count)d tracks are queued to be processed again.",
            ),
            (
                without_audio,
                messages.WARNING,
                "%(count)d track was skipped: it has no audio yet.",
                "%(count)d tracks were skipped: they have no audio yet.",
            ),
            (
                busy,
                messages.WARNING,
                "%(count)d track was skipped: it is being processed.",
                "%(count)d tracks were skipped: they are being processed.",
            ),
        ]
        for rows, level, singular, plural in reports:
            if rows:
                text = ngettext(singular, plural, len(rows)) % {"count": len(rows)}
                self.message_user(request, text, level)
