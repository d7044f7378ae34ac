from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-level app: hosts commands that belong to no single resource (issue_token),
    and hardens Django's request parsing before the first request (config.http), and announces
    changes to what a Bearer token's row holds (config.token_cache)."""

    name = "config"
    verbose_name = "Service"

    def ready(self):
        from . import http, token_cache

        http.install()
        token_cache.announce_changes()
