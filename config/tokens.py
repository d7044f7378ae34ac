"""Issuing OAuth2 access tokens outside the token endpoint (commands, benchmarks, tests)."""

from datetime import timedelta

from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model

from organizations.models import OrganizationApplication


def issue_access_token(user, scope, expires_in, application_name="issue_token", organization=None):
    """A new access token for ``user``, held by a client-credentials application they own;
    with ``organization``, an application of that organization, whose tokens act in it."""
    if organization is not None:
        application_name = f"{application_name} ({organization.slug})"
    application, _ = get_application_model().objects.get_or_create(
        name=application_name,
        user=user,
        defaults={
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
            "client_secret": generate_client_secret(),
        },
    )
    if organization is not None:
        OrganizationApplication.objects.update_or_create(
            application=application, defaults={"organization": organization}
        )
    return get_access_token_model().objects.create(
        user=user,
        application=application,
        token=generate_client_secret(),
        scope=scope,
        expires=timezone.now() + timedelta(seconds=expires_in),
    )
