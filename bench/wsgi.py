"""The service with the benchmark's comparison views (bench/urls.py), for gunicorn."""

from django.conf import settings

from config.wsgi import application

settings.ROOT_URLCONF = "bench.urls"

__all__ = ["application"]
