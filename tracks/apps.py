from django.apps import AppConfig


class TracksConfig(AppConfig):
    name = "tracks"
    verbose_name = "Tracks"

    def ready(self):
        from . import signals  # noqa: F401
