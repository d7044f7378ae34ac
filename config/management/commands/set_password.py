"""Set a user's password from standard input, for scripts (scripts/run sets the demo's)."""

import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Set USERNAME's password to the first line of standard input. Unlike changepassword "
        "it asks nothing, and unlike an argument the password does not show in the process list."
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=...) in tests

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        password = options.get("stdin", sys.stdin).readline().rstrip("\r\n")
        if not password:
            raise CommandError("No password on standard input.")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(password)
        user.save(update_fields=["password"])
        self.stdout.write(f"Password of {username!r} set.")
