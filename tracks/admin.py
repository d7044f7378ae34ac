from django.contrib import admin

from .models import Track


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["title", "isrc_code", "product", "volume_number", "track_number"]
    search_fields = ["title", "isrc_code"]
    autocomplete_fields = ["product", "audio_language"]
    readonly_fields = ["length", "audio16bits", "audio24bits", "created_at", "updated_at"]
    list_select_related = ["product"]
