"""Issue an OAuth2 access token for a user, for scripts and the quick start."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.tokens import issue_access_token
from organizations.models import Membership, Organization, Role


class Command(BaseCommand):
    help = "Print a new Bearer token for USERNAME (the token alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", default="read", help='Space-separated, e.g. "read write".')
        parser.add_argument(
            "--expires-in",
            type=int,
            default=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"],
            help="Lifetime in seconds.",
        )
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help="The organization the token acts in (USERNAME must be a member, or a superuser).",
        )
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create USERNAME as a superuser without a password if it does not exist "
            "(an admin of --organization when one is given).",
        )

    def handle(self, username, scope, expires_in, create_user, organization, **options):
        slug = organization
        scopes = scope.split()
        unknown = set(scopes) - set(settings.OAUTH2_PROVIDER["SCOPES"])
        if not scopes or unknown:
            raise CommandError(f"Unknown or empty scope: {' '.join(sorted(unknown)) or scope!r}")
        if expires_in < 1:
            raise CommandError("--expires-in must be a positive number of seconds.")
        if organization is not None:
            organization = Organization.objects.filter(slug=organization).first()
            if organization is None:
                raise CommandError(f"No organization {slug!r}.")
        user = self.user(username, create_user, organization)
        if not (
            organization is None
            or user.is_superuser
            or organization.memberships.filter(user=user).exists()
        ):
            raise CommandError(f"{username!r} is not a member of {organization.slug!r}.")
        token = issue_access_token(user, " ".join(scopes), expires_in, organization=organization)
        self.stdout.write(token.token)

    @transaction.atomic
    def user(self, username, create, organization):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            return user
        if not create:
            raise CommandError(f"No user {username!r} (use --create-user to create one).")
        user = user_model.objects.create_superuser(username=username, email="", password=None)
        if organization is not None:
            Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
        self.stdout.write(f"Created superuser {username!r}.")
        return user
