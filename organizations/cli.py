"""Choosing the organization a management command works in."""

from django.core.management.base import CommandError

from .models import Organization


def organization_for(slug):
    """The organization ``--organization`` names, or the only one there is."""
    if slug is not None:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization {slug!r}.")
        return organization
    organizations = list(Organization.objects.all()[:2])
    if len(organizations) != 1:
        raise CommandError(
            "Name the organization with --organization SLUG"
            + (" (there is none yet)." if not organizations else ".")
        )
    return organizations[0]
