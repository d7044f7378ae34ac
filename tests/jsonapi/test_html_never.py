"""Every answer under /api/ is a JSON:API document that varies on Accept, whoever gives it:
the API's views, Django's error handlers (400, 403, 404, 500), its CSRF check, or a
Django-level view. Outside /api/ (the admin) Django keeps its own pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.test import Client
from django.urls import include, path
from django.views.decorators.http import require_GET

from config import urls as config_urls
from tests.client import JsonApiClient
from tests.factories import make_product, make_track, track_document
from tests.rawhttp import raw_request
from tracks.models import Track

pytestmark = pytest.mark.django_db
# A live server commits: what data migrations loaded (languages) is restored after each test.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# Django-level views under /api/, standing for anything that is not one of the API's own.
@require_GET
def get_only(request):
    return HttpResponse("fine")


def read_body(request):
    return HttpResponse(len(request.body))


def read_query(request):
    return HttpResponse(len(request.GET))


def refuse(request):
    raise PermissionDenied


def missing(request):
    raise Http404


def html_error(request):
    return HttpResponseBadRequest("<html><body>Bad</body></html>")


def post_form(request):  # not CSRF-exempt, so the CSRF check applies to it
    return HttpResponse("posted")


urlpatterns = [
    path("api/test/get-only", get_only),
    path("api/test/body", read_body),
    path("api/test/query", read_query),
    path("api/test/refuse", refuse),
    path("api/test/missing", missing),
    path("api/test/html", html_error),
    path("api/test/form", post_form),
    path("outside/refuse", refuse),
    path("outside/form", post_form),
    path("", include(config_urls)),
]
handler400 = config_urls.handler400
handler403 = config_urls.handler403
handler404 = config_urls.handler404
handler500 = config_urls.handler500


def the_error(response, status):
    """The single error object of a JSON:API error response (JsonApiClient checked it)."""
    assert response.status_code == status, response.content[:300]
    assert "Accept" in response["Vary"]
    [error] = response.document["errors"]
    assert error["status"] == str(status)
    return error


@pytest.fixture
def browser():
    """A client that enforces CSRF like a browser session would, with a CSRF cookie."""
    client = JsonApiClient(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    return client


# A Host the service does not serve (DisallowedHost).


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_foreign_host_is_a_jsonapi_400(api, method):
    response = api.generic(method, "/api/v1/tracks", HTTP_HOST="evil.example")
    error = the_error(response, 400)
    assert error["source"] == {"header": "Host"}
    assert error["code"] == "disallowed_host"


def test_foreign_host_outside_the_api_keeps_djangos_page(db):
    response = Client().get("/admin/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# Unrouted URLs answer 404 whatever the method, CSRF cookie or not.


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("url", ["/api/v1/nothing", "/api", "/api/v2/tracks/1"])
def test_writes_to_unrouted_urls_are_404_not_csrf_failures(browser, method, url):
    response = browser.send(method, url, {"data": {"type": "tracks"}})
    assert the_error(response, 404)["code"] == "not_found"


def test_csrf_failure_under_the_api_is_jsonapi(browser, settings):
    settings.ROOT_URLCONF = __name__
    error = the_error(browser.post("/api/test/form"), 403)
    assert error["code"] == "csrf_failed"
    assert error["detail"].startswith("CSRF verification failed")


def test_csrf_failure_outside_the_api_keeps_djangos_page(settings):
    settings.ROOT_URLCONF = __name__
    response = Client(enforce_csrf_checks=True).post("/outside/form")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# Django's handlers and Django-level views under /api/.


@pytest.mark.urls(__name__)
def test_method_refused_by_a_django_view_is_a_jsonapi_405(api):
    response = api.post("/api/test/get-only")
    the_error(response, 405)
    assert response["Allow"] == "GET"


@pytest.mark.urls(__name__)
def test_body_too_big_is_a_jsonapi_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.generic("POST", "/api/test/body", b"x" * 101, content_type="text/plain")
    assert the_error(response, 413)["code"] == "too_large"


@pytest.mark.urls(__name__)
def test_too_many_fields_is_a_jsonapi_400(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{n}=x" for n in range(11))
    assert the_error(api.get(f"/api/test/query?{query}"), 400)["code"] == "too_many_fields"
    assert the_error(api.get(f"/api/v1/tracks?{query}"), 400)["code"] == "too_many_fields"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("url", "status"), [("/api/test/refuse", 403), ("/api/test/missing", 404)])
def test_django_exceptions_under_the_api_are_jsonapi(api, url, status):
    the_error(api.get(url), status)


@pytest.mark.urls(__name__)
def test_permission_denied_outside_the_api_keeps_djangos_page(db):
    response = Client().get("/outside/refuse")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_an_html_error_page_under_the_api_becomes_a_document(api):
    response = api.get("/api/test/html")
    assert the_error(response, 400)["detail"] == "Bad Request: GET /api/test/html."
    assert b"<body>" not in response.content


def test_pages_outside_the_api_do_not_vary_on_accept(db):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert "Accept" not in response.get("Vary", "")


# Vary: Accept on every negotiated answer.


def test_every_api_response_varies_on_accept(api):
    track = make_track()
    responses = [
        api.get("/api/v1/tracks"),
        api.get(f"/api/v1/tracks/{track.pk}"),
        api.post_doc("/api/v1/tracks", track_document(make_product())),
        api.get("/api/v1/tracks", {"sort": "nope"}),
        api.get("/api/v1/nothing"),
        api.delete(f"/api/v1/tracks/{track.pk}"),
        JsonApiClient().get("/api/v1/tracks"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 201, 400, 404, 204, 401]
    for response in responses:
        assert "Accept" in response["Vary"]
    for response in responses[:4] + responses[5:]:  # a resource endpoint answered
        assert "X-Organization" in response["Vary"]  # the organization it acts in


# The same through a live server.


@live
def test_live_foreign_host_is_a_jsonapi_400(live_server):
    headers = [("Host", "evil.example"), ("Accept", "application/vnd.api+json")]
    status, response_headers, document = raw_request(live_server, "GET", "/api/v1/tracks", headers)
    assert status == 400
    assert document["errors"][0]["source"] == {"header": "Host"}
    assert "Accept" in response_headers["Vary"]


@live
def test_live_post_to_an_unrouted_url_is_a_jsonapi_404(live_server):
    headers = [("Cookie", "csrftoken=" + "a" * 32), ("Content-Type", "application/vnd.api+json")]
    status, _, document = raw_request(live_server, "POST", "/api/v1/nothing", headers, b"{}")
    assert status == 404
    assert document["errors"][0]["code"] == "not_found"
    assert not Track.objects.exists()
