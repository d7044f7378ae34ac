from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-level app: hosts commands that belong to no single resource (issue_token)."""

    name = "config"
    verbose_name = "Service"
