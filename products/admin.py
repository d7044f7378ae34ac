from django.contrib import admin

from organizations.admin import OrganizationScopedAdmin

from .models import Label, Language, Product


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    """Reference data loaded by migration: browsable, not editable."""

    list_display = ["code", "name"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Label)
class LabelAdmin(OrganizationScopedAdmin):
    list_display = ["name", "organization", "created_at", "updated_at"]
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]  # no foreign names
    search_fields = ["name"]
    list_select_related = ["organization"]

    def get_readonly_fields(self, request, obj=None):
        """A label stays in the organization it was made in, with its catalog."""
        return ["organization"] if obj is not None else []


@admin.register(Product)
class ProductAdmin(OrganizationScopedAdmin):
    list_display = ["name", "upc_code", "status", "product_type", "label", "release_date"]
    list_filter = ["status", "product_type"]
    search_fields = ["name", "upc_code"]
    autocomplete_fields = ["label", "language"]
    list_select_related = ["label"]
