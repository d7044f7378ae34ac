"""Organizations in the admin, and the scope every catalog admin applies.

Superusers see and change everything. Other staff see the rows of the organizations they
are members of, and change them where their role is editor or admin (viewers only look);
organizations' admins manage their members and applications. The rows follow each model's
``organization_path``, as the API's scope does.
"""

from django.contrib import admin

from config.jsonapi import tenancy

from .models import WRITER_ROLES, Membership, Organization, OrganizationApplication, Role


def member_organizations(user, roles=None):
    organizations = Organization.objects.filter(memberships__user=user)
    if roles is not None:
        organizations = organizations.filter(memberships__role__in=roles)
    return organizations


class OrganizationScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin showing staff their organizations' rows only, and offering only those
    rows as the targets of foreign keys (a crafted form cannot point at another's)."""

    writer_roles = WRITER_ROLES

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return tenancy.within(queryset, member_organizations(request.user))

    def writable_organizations(self, request):
        return member_organizations(request.user, self.writer_roles)

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
