"""Soundcheck in the admin: checks; standard (and playlist) tracks; and campaigns, the
tracks of type campaign, in an entry of their own (the proxy model Campaign) with their
dates and milestones first. Tracks and campaigns have their levels inline.

A level's checks are chosen in the level's own form, in order (the "chosen" box keeps the
order they were added in). The levels are saved as the API saves them: the whole set is
built in the API's shape (``[{ordinal, name, description, badge, checks: [{id}]}]``),
validated and resolved by soundcheck/levels.py, and replaces the track's levels, after
which its certifications are computed again. Checks and tracks keep their organization and
their id once created, as in the API; a check that a track uses cannot be deleted (Django's
"protected" page lists the levels using it).
"""

import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.jsonapi import tenancy
from organizations.admin import JSON_FIELDS, JSON_WIDGET, JSONField, OrganizationScopedAdmin

from . import certification
from .levels import replace_levels, resolve_levels, validate_levels_shape
from .models import Campaign, Check, Level, SoundcheckTrack, TrackType
from .validators import validate_milestone_levels

DATES = ("Dates", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]})


class SoundcheckAdmin(OrganizationScopedAdmin):
    """Checks and tracks: a new one is given one of the organizations the user may write
    in (preselected when there is only one); its organization and id then stay."""

    formfield_overrides = JSON_FIELDS
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["organization"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, *(["organization", "slug"] if obj is not None else [])]

    def get_fieldsets(self, request, obj=None):
        """A new row has nothing to show yet in its read-only sections (dates, usage)."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        shown = set(self.readonly_fields)
        return [(name, options) for name, options in fieldsets if set(options["fields"]) - shown]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not request.user.is_superuser:
            writable = list(self.writable_organizations(request).distinct()[:2])
            if len(writable) == 1:
                initial.setdefault("organization", writable[0].pk)
        return initial


@admin.register(Check)
class CheckAdmin(SoundcheckAdmin):
    list_display = ["slug", "name", "kind", "owner_entity_ref", "track_count", "organization"]
    list_filter = ["kind", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["slug", "name", "description", "owner_entity_ref"]
    fieldsets = [
        (None, {"fields": ["organization", "slug", "name", "description", "owner_entity_ref"]}),
        (
            "Evaluation",
            {
                "fields": [
                    "kind",
                    "rule",
                    "passed_message",
                    "failed_message",
                    "not_applicable_message",
                ],
                "description": 'A rule check has a rule, e.g. {"fact-ref": '
                '"catalog:default/entity_descriptor", "path": "$.spec.lifecycle", '
                '"operator": "equal", "value": "production"}; manual and external checks '
                "have none.",
            },
        ),
        ("Entities", {"fields": ["filter", "exclude"]}),
        ("Tracks", {"fields": ["used_by"]}),
        DATES,
    ]
    readonly_fields = ["used_by", *SoundcheckAdmin.readonly_fields]

    def get_queryset(self, request):
        # A check is in a track at most once: its level-checks count the tracks using it.
        return super().get_queryset(request).annotate(track_count=Count("level_checks"))

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, obj):
        return obj.track_count

    @admin.display(description="used by")
    def used_by(self, obj):
        if obj.pk is None:
            return "-"
        tracks = SoundcheckTrack.objects.filter(levels__level_checks__check_definition=obj)
        if not tracks:
            return "No track uses this check."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse(track_change_url_name(t), args=[t.pk]), t.slug) for t in tracks),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"name", "description"} & set(form.changed_data):
            certification.refresh_for_checks([obj.pk])  # certifications show both


def track_change_url_name(track):
    """A campaign's page is in the campaigns' entry, any other track's in the tracks'."""
    model = "campaign" if track.track_type == TrackType.CAMPAIGN else "soundchecktrack"
    return f"admin:soundcheck_{model}_change"


class ChecksWidget(FilteredSelectMultiple):
    """The chosen checks first, in their order: the "chosen" box then starts in it, and
    keeps the order checks are added in."""

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        position = {str(v): i for i, v in enumerate(value)}

        def key(group):
            chosen = position.get(str(group[1][0]["value"]))
            return (0, chosen) if chosen is not None else (1, group[2])

        return sorted(groups, key=key)


class ChecksField(forms.ModelMultipleChoiceField):
    """Checks in the order submitted, not the queryset's; changing the order is a change.
    Not required here: "at least one check" is a rule of soundcheck/levels.py."""

    show_organization = False

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", ChecksWidget("checks", is_stacked=False))
        super().__init__(Check.objects.none(), required=False, **kwargs)

    def label_from_instance(self, obj):
        label = f"{obj.slug} ({obj.name})"
        return f"{obj.organization.name}: {label}" if self.show_organization else label

    def clean(self, value):
        found = {str(check.pk): check for check in super().clean(value)}
        ordered = []
        for pk in value or []:
            check = found.get(str(pk))
            if check is not None and check not in ordered:
                ordered.append(check)
        return ordered

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        initial = [str(v) for v in self.prepare_value(initial or [])]
        return initial != [str(v) for v in data or []]


class LevelForm(forms.ModelForm):
    checks = ChecksField(
        help_text="In order: the checks are added to the chosen box one after the other."
    )

    class Meta:
        model = Level
        fields = ["ordinal", "name", "description", "badge"]
        field_classes = {"badge": JSONField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "badge": JSON_WIDGET,
        }

    def __init__(self, *args, checks=None, show_organization=False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["checks"]
        field.queryset = checks if checks is not None else Check.objects.none()
        field.show_organization = show_organization
        if self.instance.pk is not None and "checks" not in self.initial:
            chosen = self.instance.level_checks.all()  # prefetched, by position
            self.initial["checks"] = [lc.check_definition_id for lc in chosen]

    def _post_clean(self):
        """Not the model's validation of a single level: the levels are validated together
        by soundcheck/levels.py (a level may take another's ordinal in the same save), and
        their rows are replaced by it, never saved from this form."""


class LevelFormSet(forms.BaseInlineFormSet):
    """The levels as one set, validated and saved by soundcheck/levels.py; Level rows are
    never saved one by one."""

    checks = Check.objects.none()  # set by LevelInline.get_formset
    show_organization = False

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        return {**kwargs, "checks": self.checks, "show_organization": self.show_organization}

    def clean(self):
        # No super().clean(): Django's unique checks across forms would be a second copy of
        # the rules in soundcheck/levels.py.
        self.resolved, self.adding = None, self.instance.pk is None
        if any(self.errors):
            return
        forms_ = [
            form
            for index, form in enumerate(self.forms)
            if not (self.can_delete and self._should_delete_form(form))
            and (index < self.initial_form_count() or form.has_changed())
        ]
        levels = [
            {
                "ordinal": form.cleaned_data["ordinal"],
                "name": form.cleaned_data["name"],
                "description": form.cleaned_data.get("description") or "",
                "badge": form.cleaned_data.get("badge"),
                "checks": [{"id": check.slug} for check in form.cleaned_data["checks"]],
            }
            for form in forms_
        ]
        general = []
        try:
            validate_levels_shape(levels)
        except ValidationError as exc:
            general += self.report(exc, forms_)
        else:
            general += self.resolve(levels, forms_)
        ordinals = {level["ordinal"] for level in levels}
        try:
            validate_milestone_levels(self.instance.milestones, ordinals)
        except ValidationError as exc:
            general += self.report(exc, [], "Milestone {}: ")
        if general:
            raise ValidationError(general)

    def resolve(self, levels, forms_):
        """The levels' checks looked up in the track's organization, as the API does:
        ``self.resolved``, or the errors for above the levels."""
        track = self.instance
        if track.organization_id is None:
            return []  # the track's own form says its organization is missing
        foreign = False
        for form in forms_:
            for check in form.cleaned_data["checks"]:
                if check.organization_id != track.organization_id:
                    form.add_error("checks", f"'{check.slug}' is another organization's check.")
                    foreign = True
        if foreign:
            return []
        try:
            self.resolved = resolve_levels(levels, {"organization": track.organization})
        except ValidationError as exc:
            return self.report(exc, forms_)
        return []

    @staticmethod
    def report(exc, forms_, prefix=""):
        """Put each error whose path (``1/checks/0/id``) leads into a level on that level's
        field; return the others, for above the levels."""
        general = []
        for error in exc.error_list:
            path = (error.params or {}).get("path", "")
            index, _, rest = path.partition("/")
            field = rest.split("/")[0]
            form = forms_[int(index)] if index.isdigit() and int(index) < len(forms_) else None
            for message in error:
                if form is not None and field in form.fields:
                    form.add_error(field, message)
                elif index.isdigit() and prefix:
                    general.append(prefix.format(int(index) + 1) + message)
                else:
                    general.append(message)
        return general

    def save(self, commit=True):
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        self.replaced = self.resolved is not None and (self.adding or self.has_changed())
        if self.replaced:
            replace_levels(self.instance, self.resolved)
            if self.adding:
                self.new_objects = list(self.instance.levels.order_by("ordinal"))
        return []


class LevelInline(admin.StackedInline):
    model = Level
    form = LevelForm
    formset = LevelFormSet
    fields = ["ordinal", "name", "description", "badge", "checks"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("level_checks")

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        checks = Check.objects.all()
        if obj is not None:
            checks = checks.filter(organization=obj.organization_id)
        elif not request.user.is_superuser:
            writable = self.track_admin().writable_organizations(request)
            checks = tenancy.within(checks, writable)
        organizations = checks.order_by().values("organization").distinct()
        several = obj is None and organizations.count() > 1
        if several:
            checks = checks.select_related("organization")
        attrs = {"checks": checks, "show_organization": several}
        return type(formset.__name__, (formset,), attrs)

    @admin.display(description="checks")
    def checks(self, level):
        """For those who may only look."""
        return ", ".join(lc.check_definition.slug for lc in level.level_checks.all()) or "-"

    # A track's levels are part of the track: whoever may change the track changes them.
    def track_admin(self):
        return self.admin_site.get_model_admin(self.parent_model)  # tracks' or campaigns'

    def may_edit(self, request, obj):
        track_admin = self.track_admin()
        if obj is None:
            return track_admin.has_add_permission(request)
        return track_admin.has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_edit(request, obj)

    def has_view_permission(self, request, obj=None):
        return self.track_admin().has_view_permission(request, obj)


class TrackAdminForm(forms.ModelForm):
    def clean_milestones(self):
        return self.cleaned_data.get("milestones") or []  # an emptied box: no milestones


class CampaignForm(TrackAdminForm):
    def __init__(self, *args, **kwargs):
        """A campaign's type is not asked: it is a campaign, so the model's rules for
        campaigns (dates required, milestones within them) apply from the first save."""
        super().__init__(*args, **kwargs)
        self.instance.track_type = TrackType.CAMPAIGN


MAIN_FIELDS = ["organization", "slug", "name", "description", "owner_entity_ref", "group"]
STATE = (
    "State",
    {
        "fields": ["draft", "archived", "is_editable"],
        "description": "A track that is not editable is changed here only: the API "
        "refuses to change or delete it.",
    },
)
BADGE = ("Badge and documentation", {"fields": ["badge_type", "badge", "documentation_url",
                                                "support_channel"]})  # fmt: skip
ENTITIES = ("Entities", {"fields": ["filter", "exclude"]})
CERTIFICATIONS = ("Certifications", {"fields": ["status"]})
MILESTONES_HELP = (
    'Milestones: [{"name": "Kick-off", "date": "2026-03-01", "level": 1}], dated within '
    "the campaign, each level an ordinal of the levels below."
)


class TrackAdminBase(SoundcheckAdmin):
    """What tracks and campaigns share: their levels inline, their status by level."""

    form = TrackAdminForm
    inlines = [LevelInline]
    search_fields = ["slug", "name", "description", "group", "owner_entity_ref"]
    readonly_fields = ["status", *SoundcheckAdmin.readonly_fields]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(level_count=Count("levels"))

    @admin.display(description="levels", ordering="level_count")
    def level_count(self, obj):
        return obj.level_count

    @admin.display(description="status by level")
    def status(self, obj):
        if obj.pk is None:
            return "-"
        status = certification.level_statuses(obj)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    level["ordinal"],
                    level["passed"],
                    level["failed"],
                    level["cumulatively-passed"],
                    level["not-reported"],
                )
                for level in status["status-by-level"]
            ),
        )
        return format_html(
            "<p>{} entities with results.</p><table><thead><tr><th>level</th><th>passed</th>"
            "<th>failed</th><th>at it or higher</th><th>not reported</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            status["number-of-entities"],
            rows,
        )

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        if not add and any(getattr(formset, "replaced", False) for formset in formsets):
            message.append({"changed": {"fields": ["levels"]}})
        return message


@admin.register(SoundcheckTrack)
class SoundcheckTrackAdmin(TrackAdminBase):
    """Standard and playlist tracks; campaigns have their own entry (CampaignAdmin)."""

    list_display = [
        "slug",
        "name",
        "track_type",
        "owner_entity_ref",
        "draft",
        "archived",
        "is_editable",
        "level_count",
        "organization",
    ]
    list_filter = [
        "track_type",
        "draft",
        "archived",
        "is_editable",
        ("organization", admin.RelatedOnlyFieldListFilter),
    ]
    fieldsets = [
        (None, {"fields": [*MAIN_FIELDS, "track_type"]}),
        STATE,
        BADGE,
        ENTITIES,
        (
            "Schedule",
            {
                "fields": ["start_date", "target_completion_date", "milestones"],
                "classes": ["collapse"],
                "description": "Optional for a track that is not a campaign. " + MILESTONES_HELP,
            },
        ),
        CERTIFICATIONS,
        DATES,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(track_type=TrackType.CAMPAIGN)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "track_type":  # a campaign is added under Campaigns
            kwargs["choices"] = [c for c in TrackType.choices if c[0] != TrackType.CAMPAIGN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class PeriodFilter(admin.SimpleListFilter):
    """Where a campaign stands today."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("running", "Running"), ("ended", "Ended")]

    def queryset(self, request, queryset):
        today = datetime.date.today()
        return {
            "upcoming": lambda: queryset.filter(start_date__gt=today),
            "running": lambda: queryset.filter(
                start_date__lte=today, target_completion_date__gte=today
            ),
            "ended": lambda: queryset.filter(target_completion_date__lt=today),
        }.get(self.value(), lambda: queryset)()


@admin.register(Campaign)
class CampaignAdmin(TrackAdminBase):
    """Soundcheck tracks of type campaign: their dates, milestones and levels. Validated by
    the same code as any track's (the model's clean() and soundcheck/levels.py)."""

    form = CampaignForm
    list_display = [
        "slug",
        "name",
        "start_date",
        "target_completion_date",
        "milestone_count",
        "level_count",
        "draft",
        "archived",
        "organization",
    ]
    list_filter = [
        PeriodFilter,
        "draft",
        "archived",
        "is_editable",
        ("organization", admin.RelatedOnlyFieldListFilter),
    ]
    date_hierarchy = "start_date"
    fieldsets = [
        (None, {"fields": MAIN_FIELDS}),
        (
            "Dates and milestones",
            {
                "fields": ["start_date", "target_completion_date", "milestones"],
                "description": "A campaign has a start date and a target completion date, "
                "not before the start. " + MILESTONES_HELP,
            },
        ),
        STATE,
        BADGE,
        ENTITIES,
        CERTIFICATIONS,
        DATES,
    ]

    @admin.display(description="milestones")
    def milestone_count(self, obj):
        return len(obj.milestones or [])
