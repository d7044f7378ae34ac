from django.contrib import admin

from .models import Record, Track


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["title", "isrc_code", "product", "volume_number", "track_number"]
    search_fields = ["title", "isrc_code"]
    autocomplete_fields = ["product", "audio_language"]
    readonly_fields = ["length", "audio16bits", "audio24bits", "created_at", "updated_at"]
    list_select_related = ["product"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    """Upload a FLAC master: the model reads and checks it exactly as the API does."""

    list_display = ["filename", "track", "precision", "master_type", "file_size", "created_at"]
    list_select_related = ["track"]
    autocomplete_fields = ["track"]
    fields = ["track", "file", "filename", "original_url", *Record.DERIVED_FIELDS]
    readonly_fields = [*Record.DERIVED_FIELDS, "original_url"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)
