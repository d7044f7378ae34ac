from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-level app: hosts commands that belong to no single resource (issue_token).
    Before the first request it hardens Django's request parsing (config.http), announces
    changes to what a Bearer token's row holds (config.token_cache) and lets PostgreSQL
    connections prepare their statements again after a migration (config.prepared)."""

    name = "config"
    verbose_name = "Service"

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import http, prepared, token_cache

        http.install()
        token_cache.announce_changes()
        connection_created.connect(prepared.install, dispatch_uid="config.prepared")
