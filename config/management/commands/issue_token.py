"""Issue an OAuth2 access token for a user, for scripts and the quick start."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.tokens import issue_access_token


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
            "--create-user",
            action="store_true",
            help="Create USERNAME as a superuser without a password if it does not exist.",
        )

    def handle(self, username, scope, expires_in, create_user, **options):
        scopes = scope.split()
        unknown = set(scopes) - set(settings.OAUTH2_PROVIDER["SCOPES"])
        if not scopes or unknown:
            raise CommandError(f"Unknown or empty scope: {' '.join(sorted(unknown)) or scope!r}")
        if expires_in < 1:
            raise CommandError("--expires-in must be a positive number of seconds.")
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r} (use --create-user to create one).")
            user = user_model.objects.create_superuser(username=username, email="", password=None)
            self.stdout.write(f"Created superuser {username!r}.")
        token = issue_access_token(user, " ".join(scopes), expires_in)
        self.stdout.write(token.token)
