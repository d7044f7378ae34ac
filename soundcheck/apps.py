from django.apps import AppConfig


class SoundcheckConfig(AppConfig):
    name = "soundcheck"
    verbose_name = "Soundcheck"
    default_auto_field = "django.db.models.BigAutoField"
