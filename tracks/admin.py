from django import forms
from django.contrib import admin

from organizations.admin import OrganizationScopedAdmin

from .models import Record, Track


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


@admin.register(Track)
class TrackAdmin(OrganizationScopedAdmin):
    form = TrackAdminForm
    list_display = ["title", "isrc_code", "product", "volume_number", "track_number"]
    list_filter = ["genre", "mood", "is_unlisted"]
    search_fields = ["title", "isrc_code"]
    autocomplete_fields = ["product", "audio_language", "remix_of", "stem_of"]
    readonly_fields = ["length", "audio16bits", "audio24bits", "created_at", "updated_at"]
    list_select_related = ["product"]


@admin.register(Record)
class RecordAdmin(OrganizationScopedAdmin):
    """Upload a FLAC master: the model reads and checks it exactly as the API does."""

    list_display = ["filename", "track", "precision", "master_type", "file_size", "created_at"]
    list_select_related = ["track"]
    autocomplete_fields = ["track"]
    fields = ["track", "file", "filename", "original_url", *Record.DERIVED_FIELDS]
    readonly_fields = [*Record.DERIVED_FIELDS, "original_url"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)
