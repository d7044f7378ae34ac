"""Soundcheck: checks, tracks of levels of checks, the results systems report and the
certifications computed from them.

Checks and tracks are named by their clients (``has-readme``), uniquely within an
organization: two organizations may both have a ``has-readme`` check. Their primary keys
stay integers, which the levels and results refer to.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config.models import NormalizedCharField, TimeStampedModel
from organizations.models import Organization

from . import validators
from .validators import (
    ENTITY_REF_MAX_LENGTH,
    normalize_entity_ref,
    validate_badge,
    validate_entity_filter,
    validate_entity_ref,
    validate_http_url,
    validate_identifier,
    validate_rule,
)


def entity_ref_field(**kwargs):
    return NormalizedCharField(
        max_length=ENTITY_REF_MAX_LENGTH,
        normalizer=normalize_entity_ref,
        validators=[validate_entity_ref],
        **kwargs,
    )


class CheckKind(models.TextChoices):
    RULE = "rule"  # evaluated from facts by its rule
    MANUAL = "manual"  # set by a person
    EXTERNAL = "external"  # results pushed by another system


class Check(TimeStampedModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="soundcheck_checks"
    )
    slug = models.CharField("id", max_length=100, validators=[validate_identifier])
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    owner_entity_ref = entity_ref_field(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=CheckKind.choices, default=CheckKind.EXTERNAL)
    rule = models.JSONField(null=True, blank=True, validators=[validate_rule])
    passed_message = models.TextField(null=True, blank=True)
    failed_message = models.TextField(null=True, blank=True)
    not_applicable_message = models.TextField(null=True, blank=True)
    filter = models.JSONField(null=True, blank=True, validators=[validate_entity_filter])
    exclude = models.JSONField(null=True, blank=True, validators=[validate_entity_filter])

    organization_path = "organization"

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"],
                name="soundcheck_check_id_unique_per_organization",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CheckKind.values), name="soundcheck_check_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=CheckKind.RULE, rule__isnull=False)
                | (~Q(kind=CheckKind.RULE) & Q(rule__isnull=True)),
                name="soundcheck_check_rule_iff_rule_kind",
                violation_error_message="A rule check has a rule; other kinds have none.",
            ),
        ]

    def __str__(self):
        return self.slug

    def clean(self):
        between = {"fields": ["kind", "rule"]}
        if self.kind == CheckKind.RULE and self.rule is None:
            message = "A rule check needs its rule."
            raise ValidationError({"rule": ValidationError(message, "rule_required", between)})
        if self.kind != CheckKind.RULE and self.rule is not None:
            article = "An" if self.kind[0] in "aeiou" else "A"
            message = f"{article} {self.kind} check has no rule."
            raise ValidationError({"rule": ValidationError(message, "rule_not_allowed", between)})


class TrackType(models.TextChoices):
    STANDARD = "standard"
    CAMPAIGN = "campaign"
    PLAYLIST = "playlist"


class BadgeType(models.TextChoices):
    MEDAL = "medal"
    STATUS = "status"


class SoundcheckTrack(TimeStampedModel):
    """A track (formerly "program"): an ordered set of levels, each a set of checks."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="soundcheck_tracks"
    )
    slug = models.CharField("id", max_length=100, validators=[validate_identifier])
    name = models.CharField(max_length=100)
    description = models.TextField()
    owner_entity_ref = entity_ref_field()
    group = models.CharField(max_length=100, null=True, blank=True)
    track_type = models.CharField(
        max_length=10, choices=TrackType.choices, default=TrackType.STANDARD
    )
    badge = models.JSONField(null=True, blank=True, validators=[validate_badge])
    filter = models.JSONField(null=True, blank=True, validators=[validate_entity_filter])
    exclude = models.JSONField(null=True, blank=True, validators=[validate_entity_filter])
    documentation_url = models.CharField(
        "documentation URL",
        max_length=2000,
        null=True,
        blank=True,
        validators=[validate_http_url],
    )
    badge_type = models.CharField(max_length=10, choices=BadgeType.choices, null=True, blank=True)
    draft = models.BooleanField(default=False)
    is_editable = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    support_channel = models.CharField(max_length=200, null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    target_completion_date = models.DateField(null=True, blank=True)
    milestones = models.JSONField(
        default=list, blank=True, validators=[validators.validate_milestones_shape]
    )

    organization_path = "organization"

    class Meta:
        ordering = ["slug"]
        verbose_name = "Soundcheck track"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"],
                name="soundcheck_track_id_unique_per_organization",
            ),
            models.CheckConstraint(
                condition=Q(track_type__in=TrackType.values), name="soundcheck_track_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(badge_type__isnull=True) | Q(badge_type__in=BadgeType.values),
                name="soundcheck_track_badge_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(track_type=TrackType.CAMPAIGN)
                | Q(
                    start_date__isnull=False,
                    target_completion_date__isnull=False,
                    target_completion_date__gte=F("start_date"),
                ),
                name="soundcheck_campaign_dates",
                violation_error_message="A campaign has a start date and a target completion "
                "date, not before the start.",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(target_completion_date__isnull=True)
                | Q(target_completion_date__gte=F("start_date")),
                name="soundcheck_track_target_not_before_start",
            ),
        ]

    def __str__(self):
        return self.slug

    def clean(self):
        errors = {}
        start, target = self.start_date, self.target_completion_date
        if self.track_type == TrackType.CAMPAIGN:
            for field, value in (("start_date", start), ("target_completion_date", target)):
                if value is None:
                    errors[field] = ValidationError(
                        "A campaign needs its start date and target completion date.",
                        "campaign_dates_required",
                        params={"fields": ["track_type", field]},
                    )
        if start and target and target < start:
            errors["target_completion_date"] = ValidationError(
                "The target completion date cannot be before the start date.",
                "before_start",
                params={"fields": ["start_date", "target_completion_date"]},
            )
        try:
            validators.validate_milestones(self.milestones, start, target)
        except ValidationError as exc:
            errors["milestones"] = exc
        if errors:
            raise ValidationError(errors)


class CampaignManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(track_type=TrackType.CAMPAIGN)


class Campaign(SoundcheckTrack):
    """The Soundcheck tracks of type campaign: the admin's own entry for campaigns. The
    same rows and rules as any track; the manager finds campaigns only."""

    objects = CampaignManager()

    class Meta:
        proxy = True
        verbose_name = "campaign"


class LevelQuerySet(models.QuerySet):
    def with_checks(self):
        """The levels in order, each with its checks, in order, loaded: one query for the
        levels and one for their checks."""
        checks = LevelCheck.objects.select_related("check_definition")
        return self.order_by("ordinal").prefetch_related(
            models.Prefetch("level_checks", queryset=checks)
        )


class Level(models.Model):
    track = models.ForeignKey(SoundcheckTrack, on_delete=models.CASCADE, related_name="levels")
    ordinal = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    badge = models.JSONField(null=True, blank=True, validators=[validate_badge])

    objects = LevelQuerySet.as_manager()

    organization_path = "track__organization"

    class Meta:
        ordering = ["track", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "ordinal"], name="soundcheck_level_ordinal_unique_per_track"
            ),
            models.CheckConstraint(
                condition=Q(ordinal__gte=1), name="soundcheck_level_ordinal_positive"
            ),
        ]

    def __str__(self):
        return f"{self.track} level {self.ordinal}"


class LevelCheck(models.Model):
    """A check in a level; ``track`` repeats the level's, so the database keeps a check to
    one level per track."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="level_checks")
    track = models.ForeignKey(SoundcheckTrack, on_delete=models.CASCADE, related_name="+")
    # Not "check": Model.check() is Django's system check.
    check_definition = models.ForeignKey(
        Check, on_delete=models.PROTECT, related_name="level_checks"
    )
    position = models.PositiveSmallIntegerField()

    organization_path = "track__organization"

    class Meta:
        ordering = ["level", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "check_definition"], name="soundcheck_check_once_per_track"
            ),
        ]

    def __str__(self):
        return f"{self.level}: {self.check_definition}"


class ResultState(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    NOT_APPLICABLE = "not-applicable"
    NOT_REPORTED = "not-reported"
    ERROR = "error"


# A level is reached when each of its checks is in one of these states.
CERTIFYING_STATES = {ResultState.PASSED, ResultState.WARNING, ResultState.NOT_APPLICABLE}


class CheckResult(models.Model):
    """One result a system reported for an entity and a check; every one is kept. The latest
    per (entity, check, scope) is the current state."""

    check_definition = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="results")
    entity_ref = entity_ref_field(db_index=True)
    state = models.CharField(max_length=20, choices=ResultState.choices)
    # What this result made the state: its own, or (preserve-state-on-error) the earlier one.
    effective_state = models.CharField(max_length=20, choices=ResultState.choices, editable=False)
    details = models.JSONField(default=dict, blank=True, validators=[validators.validate_details])
    scope = models.CharField(max_length=100, default="default", validators=[validate_identifier])
    submitted_by = models.CharField(max_length=200, null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    organization_path = "check_definition__organization"

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(
                fields=["check_definition", "entity_ref", "scope", "-timestamp", "-id"],
                name="soundcheck_result_latest",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ResultState.values)
                & Q(effective_state__in=ResultState.values),
                name="soundcheck_result_state_valid",
            ),
        ]

    def __str__(self):
        return f"{self.entity_ref} {self.check_definition}: {self.state}"


class Certification(models.Model):
    """Where an entity stands on a track: computed from the current results of the track's
    checks (soundcheck/certification.py) whenever a result or the track's levels change."""

    track = models.ForeignKey(
        SoundcheckTrack, on_delete=models.CASCADE, related_name="certifications"
    )
    entity_ref = entity_ref_field()
    # The highest ordinal whose level and every lower level pass; null: none reached.
    highest_level = models.PositiveSmallIntegerField(null=True)
    # When the entity reached its highest level (the time of the result that completed it).
    certified_at = models.DateTimeField(null=True)
    # Each level: {ordinal, name, description, certified, checks: [{id, name, state, ...}]}.
    levels = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    organization_path = "track__organization"

    class Meta:
        ordering = ["track", "entity_ref"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "entity_ref"], name="soundcheck_certification_unique"
            ),
        ]

    def __str__(self):
        return f"{self.entity_ref} on {self.track}"
