import pytest
from django.contrib.auth import get_user_model

from .test_admin_organizations import PASSWORD, log_in


@pytest.fixture
def superuser_page(live_server, browser_page):
    """The browser's page, logged in as a superuser."""
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    log_in(browser_page, live_server, "root")
    return browser_page


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files go to a fresh folder that the test can list."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT
