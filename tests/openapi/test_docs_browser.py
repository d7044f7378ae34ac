"""Swagger UI and Redoc in a real browser (Debian's Chromium via Playwright), offline:
every request the pages make must go to this server, and they show every operation."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def offline(page, live_server):
    """Refuse every request that leaves the live server (a CDN would fail here) and
    remember what was refused."""
    refused = []

    def route(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return refused


def count_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sum(len(item) for item in paths.values())


def test_swagger_ui_shows_every_operation_offline(browser_page, live_server, client):
    refused = offline(browser_page, live_server)
    browser_page.goto(f"{live_server.url}/")  # the root leads to the docs
    browser_page.wait_for_selector(".opblock", timeout=30_000)
    assert browser_page.url == f"{live_server.url}/api/docs/"
    assert browser_page.locator(".opblock").count() == count_operations(client)
    assert browser_page.locator(".opblock-summary-path", has_text="/api/v1/tracks").count() > 0
    assert refused == []


def test_redoc_renders_offline(browser_page, live_server):
    refused = offline(browser_page, live_server)
    browser_page.goto(f"{live_server.url}/api/redoc/")
    browser_page.wait_for_selector("h1:has-text('Tracks service API')", timeout=30_000)
    assert browser_page.locator("text=Get the product linkage of a tracks resource").count() > 0
    assert refused == []
