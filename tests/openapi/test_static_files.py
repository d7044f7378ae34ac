"""With DEBUG off, as in production, the service serves its own static files (WhiteNoise)
from what ``collectstatic`` gathered: the docs pages and the admin keep their scripts."""

import re

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(settings, tmp_path):
    """Production's storage (compressed, hashed names) and a fresh ``collectstatic``."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--no-input", verbosity=0)


def assets(html):
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_pages_get_their_static_files_with_debug_off(collected, page):
    client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts
    response = client.get(page)
    assert response.status_code == 200
    found = assets(response.content.decode())
    assert found, "the page links no static file"
    for url in found:
        assert re.search(r"\.[0-9a-f]{12}\.", url), f"{url} is not a hashed name"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content)
