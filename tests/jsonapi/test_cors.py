"""CORS for browser clients: listed origins only, only under /api/ and /oauth/."""

import pytest

from tests.settings_process import settings_in_subprocess

ALLOWED = "https://app.example.com"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allowed_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def preflight(client, path, origin, method="POST"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
        },
    )


def header_set(response, name):
    return {item.strip().lower() for item in response[name].split(",")}


@pytest.mark.parametrize("path", ["/api/v1/tracks", "/api/v1/records/1", "/oauth/token"])
def test_preflight_from_an_allowed_origin_succeeds_without_a_token(anonymous, path):
    response = preflight(anonymous, path, ALLOWED)
    # Answered by the CORS middleware: the API's views refuse OPTIONS with a 405.
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert {"post", "patch", "delete", "get"} <= header_set(
        response, "Access-Control-Allow-Methods"
    )
    assert header_set(response, "Access-Control-Allow-Headers") == {
        "accept",
        "authorization",
        "content-type",
        "x-organization",
        "x-request-id",
    }
    assert int(response["Access-Control-Max-Age"]) > 0


def test_an_actual_request_exposes_the_api_headers(api):
    response = api.get("/api/v1/labels", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert header_set(response, "Access-Control-Expose-Headers") == {
        "x-request-id",
        "retry-after",
        "location",
    }
    assert "Access-Control-Allow-Credentials" not in response  # Bearer tokens, no cookies


def test_errors_carry_cors_headers_so_the_browser_can_read_them(anonymous):
    response = anonymous.get("/api/v1/labels", headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.django_db(databases="__all__")  # the cache's own connection
def test_a_throttled_response_lets_the_browser_read_retry_after(api, settings):
    rates = {"burst": "1/day", "sustained": None, "heavy": None}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api.get("/api/v1/labels", headers={"Origin": ALLOWED})
    response = api.get("/api/v1/labels", headers={"Origin": ALLOWED})
    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "retry-after" in header_set(response, "Access-Control-Expose-Headers")
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://app.example.com"])
def test_other_origins_get_no_cors_headers(api, anonymous, origin):
    response = preflight(anonymous, "/api/v1/tracks", origin)
    assert not any(header.startswith("Access-Control-") for header in response.headers)
    response = api.get("/api/v1/labels", headers={"Origin": origin})
    assert response.status_code == 200
    assert not any(header.startswith("Access-Control-") for header in response.headers)


def test_no_origin_is_allowed_by_default(settings, api):
    settings.CORS_ALLOWED_ORIGINS = []
    response = api.get("/api/v1/labels", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response


def test_urls_outside_the_api_get_no_cors_headers(client):
    response = client.options(
        "/admin/login/", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in response


def test_options_without_a_preflight_is_still_refused_by_the_api(api):
    response = api.options("/api/v1/tracks", headers={"Origin": ALLOWED})
    assert response.status_code == 405
    assert response.document["errors"][0]["status"] == "405"


def test_the_allowed_origins_come_from_the_environment():
    result = settings_in_subprocess(
        "json.dumps(settings.CORS_ALLOWED_ORIGINS)",
        SECRET_KEY="x",
        CORS_ALLOWED_ORIGINS="https://a.example.com, http://localhost:5173",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["https://a.example.com", "http://localhost:5173"]'
