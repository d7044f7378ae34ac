"""Organizations in the admin, and the scope every catalog admin applies.

Superusers see and change everything. Other staff see the rows of the organizations they
are members of, and change them where their role is editor or admin (viewers only look);
organizations' admins manage their members and applications. The rows follow each model's
``organization_path``, as the API's scope does.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from config.jsonapi import tenancy

from .models import WRITER_ROLES, Membership, Organization, OrganizationApplication, Role


def member_organizations(user, roles=None):
    organizations = Organization.objects.filter(memberships__user=user)
    if roles is not None:
        organizations = organizations.filter(memberships__role__in=roles)
    return organizations


class StoredFieldsForm(forms.ModelForm):
    """A change form whose read-only fields (``stored_fields``, such as the organization
    a label stays in) still take part in the model's uniqueness rules.

    Django leaves out every rule naming a field the form does not show, so renaming a
    label to a name its organization already uses reached the database, which refused it
    (a 500). The stored row keeps those values, so its rules are checked with them, and a
    broken rule is reported at the last of its fields the form shows.
    """

    stored_fields = ()

    def _get_validation_exclusions(self):
        return super()._get_validation_exclusions() - set(self.stored_fields)

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            placed = {}
            for field, field_errors in errors.error_dict.items():
                for error in field_errors:
                    placed.setdefault(self._shown_field(field, error), []).append(error)
            errors = ValidationError(placed)
        super()._update_errors(errors)

    def _shown_field(self, field, error):
        """Where an error is shown: a uniqueness rule naming a field the form does not show
        at the last of its fields the form shows."""
        rule = (error.params or {}).get("unique_check") if field == NON_FIELD_ERRORS else None
        shown = [name for name in rule or () if name in self.fields]
        return shown[-1] if shown and len(shown) < len(rule) else field


class JSONField(forms.JSONField):
    """A JSON member's box: empty for no value, rather than "null" (either reads as none)."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


JSON_WIDGET = forms.Textarea(attrs={"rows": 4, "cols": 80, "class": "vLargeTextField"})
# For a ModelAdmin's formfield_overrides: every JSON member in that box.
JSON_FIELDS = {models.JSONField: {"form_class": JSONField, "widget": JSON_WIDGET}}


class OrganizationScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin showing staff their organizations' rows only, and offering only those
    rows as the targets of foreign keys (a crafted form cannot point at another's)."""

    writer_roles = WRITER_ROLES
    form = StoredFieldsForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and issubclass(form, StoredFieldsForm):
            model_fields = {field.name for field in self.model._meta.fields}
            readonly = self.get_readonly_fields(request, obj)
            form.stored_fields = [name for name in readonly if name in model_fields]
        return form

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return tenancy.within(queryset, member_organizations(request.user))

    def writable_organizations(self, request):
        return member_organizations(request.user, self.writer_roles)

    def writable(self, request, queryset):
        """The rows of ``queryset`` the user may change: what an action acts on, where a
        member who only views some of the selected rows leaves those as they are."""
        if request.user.is_superuser:
            return queryset
        return tenancy.within(queryset, self.writable_organizations(request))

    def may_write(self, request, obj):
        if request.user.is_superuser:
            return True
        if obj is None:
            return self.writable_organizations(request).exists()
        organization_id = tenancy.organization_id_of(obj)
        return self.writable_organizations(request).filter(pk=organization_id).exists()

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and self.may_write(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_write(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", self.choices(db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", self.choices(db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def choices(self, db_field, request):
        queryset = db_field.related_model._default_manager.all()
        if request.user.is_superuser or not hasattr(db_field.related_model, "organization_path"):
            return queryset
        return tenancy.within(queryset, self.writable_organizations(request))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApplicationInline(admin.TabularInline):
    model = OrganizationApplication
    extra = 0
    verbose_name_plural = "applications (their tokens act in this organization)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Staff bind their own applications only: binding somebody else's would make its
        tokens act in this organization."""
        if db_field.name == "application" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, ApplicationInline]
    writer_roles = {Role.ADMIN}  # an organization's admins manage it, its members, its apps

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
