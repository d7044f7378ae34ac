"""Organizations: the tenants of the service.

Every row a client owns belongs to one organization, directly (a label's
``organization``) or through its parents (a track through its product's label). Each
model says which, in ``organization_path``; ``config.jsonapi.tenancy`` applies it.
"""

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings

from config.models import TimeStampedModel


class Role(models.TextChoices):
    VIEWER = "viewer"  # reads
    EDITOR = "editor"  # reads and writes
    ADMIN = "admin"  # also manages the organization's members and applications


WRITER_ROLES = frozenset({Role.EDITOR, Role.ADMIN})


class Organization(TimeStampedModel):
    name = models.CharField(max_length=255, unique=True)
    slug = models.SlugField(max_length=64, unique=True, help_text="Named by X-Organization.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )

    organization_path = "pk"

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(TimeStampedModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    organization_path = "organization"

    class Meta:
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique_per_organization"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class OrganizationApplication(models.Model):
    """Binds an OAuth application to the organization its tokens act in.

    django-oauth-toolkit's Application model is kept as it is (swapping it later is a
    migration nobody wants); this row says which organization the application belongs to.
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="organization_binding",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="applications"
    )

    organization_path = "organization"

    class Meta:
        verbose_name = "application"

    def __str__(self):
        return f"{self.application} of {self.organization}"
