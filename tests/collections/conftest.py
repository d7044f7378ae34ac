import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files go to a fresh folder that the test can list."""
    folder = tmp_path / "media"
    folder.mkdir()
    settings.MEDIA_ROOT = folder
    return folder
