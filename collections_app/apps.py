from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "collections_app"
    label = "collections_app"
    verbose_name = "Collections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals, uploads  # noqa: F401  (receivers, upload purposes)
