from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from organizations.admin import OrganizationScopedAdmin
from tracks.models import Track

from .models import Label, Language, Product


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    """The catalog managers' languages: renamed, added where pycountry lacks a code, and
    retired (kept where used, no longer offered). A language in use is not deleted."""

    list_display = ["code", "name", "retired"]
    list_filter = ["retired"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def get_search_results(self, request, queryset, search_term):
        """Choosing a language for a product or track (the autocomplete) offers only those
        not retired."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(retired=False)
        return queryset, duplicates


@admin.register(Label)
class LabelAdmin(OrganizationScopedAdmin):
    list_display = ["name", "organization", "created_at", "updated_at"]
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]  # no foreign names
    search_fields = ["name"]
    list_select_related = ["organization"]

    def get_readonly_fields(self, request, obj=None):
        """A label stays in the organization it was made in, with its catalog."""
        return ["organization"] if obj is not None else []


class TrackFormSet(BaseInlineFormSet):
    def get_unique_error_message(self, unique_check):
        """Django names the fields of a uniqueness rule broken among the rows by their
        attribute names (``isrc_code``); a manager reads the labels ("ISRC code")."""
        labels = [str(self.model._meta.get_field(name).verbose_name) for name in unique_check]
        return super().get_unique_error_message(labels)


class TrackInline(admin.TabularInline):
    """A product's tracks on its page, with the members a release is checked by; the rest
    of a track is edited on its own page."""

    model = Track
    formset = TrackFormSet
    fields = ["title", "volume_number", "track_number", "isrc_code", "artist", "audio_language"]
    autocomplete_fields = ["audio_language"]
    ordering = ["volume_number", "track_number"]
    show_change_link = True
    extra = 0


@admin.register(Product)
class ProductAdmin(OrganizationScopedAdmin):
    list_display = ["name", "upc_code", "status", "product_type", "label", "release_date"]
    list_filter = ["status", "product_type", ("label", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "upc_code"]
    autocomplete_fields = ["label", "language"]
    list_select_related = ["label"]
    date_hierarchy = "release_date"
    inlines = [TrackInline]
