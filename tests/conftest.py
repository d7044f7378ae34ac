import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connections

from config.tokens import issue_access_token

from . import database
from .client import JsonApiClient
from .factories import add_member, default_organization
from .schema import response_validator


def pytest_configure(config):
    response_validator()  # fail early in CI, warn once elsewhere
    database.install()
    from django.conf import settings

    # Tests serve static files from the apps (no collectstatic, no manifest), as DEBUG would.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = None
    settings.WHITENOISE_USE_FINDERS = True


def pytest_collection_modifyitems(items):
    """Every transactional test gives the database back as the migrations left it.

    A transactional test empties every table when it ends. Without ``serialized_rollback``
    Django then re-creates content types and permissions (``post_migrate``) but not the
    languages; the next test with ``serialized_rollback`` reloads everything on top of
    those and fails on duplicates. So every ``django_db(transaction=True)`` test restores
    the migrated data, whether its module says so or not.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None:
            continue
        transaction = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        if transaction and not marker.kwargs.get("serialized_rollback"):
            kwargs = {**marker.kwargs, "transaction": True, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args[1:], **kwargs), append=False)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per user; tests do not need strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_throttling(settings):
    """Tests send many requests with one token: no rate limit unless a test sets one."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates),
    }


DEFAULT = object()


@pytest.fixture
def organization(db):
    """The organization the factories' rows and make_token's tokens belong to by default."""
    return default_organization()


@pytest.fixture
def make_token(organization):
    """Create an access token: make_token(user, scope="read write", expires_in=3600,
    organization=<the default one>); organization=None gives a token of an application of
    no organization (the request then acts as the user's memberships say)."""

    def make(user, scope="read write", expires_in=3600, organization=DEFAULT):
        if organization is DEFAULT:
            organization = default_organization()
        return issue_access_token(
            user, scope, expires_in, application_name="tests", organization=organization
        ).token

    return make


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def viewer(organization):
    """A member with the viewer role and no model permissions: may read, may not write."""
    user = get_user_model().objects.create_user("viewer", password="pw")
    add_member(user, organization, "viewer")
    return user


@pytest.fixture
def editor(organization):
    """A member with the editor role and every add/change/delete permission of the catalog."""
    user = get_user_model().objects.create_user("editor", password="pw")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["products", "tracks", "collections_app", "webhooks"]
        )
    )
    add_member(user, organization, "editor")
    return user


@pytest.fixture
def api(admin_user, make_token):
    """A client holding a read+write token of a superuser."""
    return JsonApiClient(make_token(admin_user, "read write"))


@pytest.fixture
def anonymous(db):
    return JsonApiClient()


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page():
    if CHROMIUM is None:
        pytest.fail("Chromium is required for the browser tests (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()
            # Connections opened inside Playwright's context belong to it: close them here.
            connections.close_all()
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
