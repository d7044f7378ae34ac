"""Malformed and odd request headers: a JSON:API 400, 401, 406 or 415, never a 500.

Content-Type and Accept are parsed by RFC 9110's grammar; Django parses Content-Type too,
while it builds the request, so the cases run through the test client and, with the
bytes a client really sends, through a live server (tests/rawhttp.py).
"""

import pytest
from django.test import Client

from config.jsonapi import JSONAPI_MEDIA_TYPE as JSONAPI
from tests.client import JsonApiClient
from tests.factories import make_product, make_track, track_document
from tests.rawhttp import raw_request
from tracks.models import Track

pytestmark = pytest.mark.django_db
# A live server commits: what data migrations loaded (languages) is restored after each test.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RFC2231 = f"{JSONAPI}; ext*=bogus''x"  # an unknown charset: Django's parser raises on it
MALFORMED = [
    RFC2231,
    f"{JSONAPI}; ext*=utf-8''%FF",
    f'{JSONAPI}; profile="unterminated',
    f"{JSONAPI}; profile=a; profile=b",
    f"{JSONAPI}; PROFILE=a; profile=b",
    f"{JSONAPI}; profile",
    f"{JSONAPI}; =x",
    f"{JSONAPI}; profile=a b",
    f"{JSONAPI} garbage",
    "application/",
    "vnd.api+json",
    "\x00/\x00",
    f"{JSONAPI}; profile=\x00",
    "é/è",
]
MALFORMED_CONTENT_TYPES = [*MALFORMED, "*/*", "application/*", f"{JSONAPI}, text/plain"]
MALFORMED_ACCEPTS = [
    *MALFORMED,
    f"{JSONAPI}; q=abc",
    f"{JSONAPI}; q=2",
    "*/json",
    "text/*;q=0.1234",
]


def assert_header_error(response, header):
    assert response.status_code == 400, response.document
    [error] = response.document["errors"]
    assert error["source"] == {"header": header}
    assert error["code"] == "invalid_header"


def track_url(track):
    return f"/api/v1/tracks/{track.pk}"


def patch_title(track, title="After"):
    return {"data": {"type": "tracks", "id": str(track.pk), "attributes": {"title": title}}}


# Content-Type.


@pytest.mark.parametrize("content_type", MALFORMED_CONTENT_TYPES)
def test_malformed_content_type_is_400_on_create(api, content_type):
    response = api.send("POST", "/api/v1/tracks", track_document(make_product()), content_type)
    assert_header_error(response, "Content-Type")
    assert not Track.objects.exists()


@pytest.mark.parametrize("content_type", [RFC2231, f"{JSONAPI}; profile=a; profile=b"])
def test_malformed_content_type_is_400_on_update(api, content_type):
    track = make_track(title="Before")
    response = api.send("PATCH", track_url(track), patch_title(track), content_type)
    assert_header_error(response, "Content-Type")
    track.refresh_from_db()
    assert track.title == "Before"


def test_malformed_content_type_is_400_without_a_token(anonymous):
    response = anonymous.send("POST", "/api/v1/tracks", track_document(make_product()), RFC2231)
    assert_header_error(response, "Content-Type")
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    [
        f"{JSONAPI}; charset=utf-8",
        f"{JSONAPI}; " + "; ".join(f"p{n}=v" for n in range(5000)),
        "application/x-www-form-urlencoded; charset=utf-8",
        "multipart/form-data; boundary=x",
    ],
)
def test_well_formed_but_unsupported_content_type_is_415(api, content_type):
    response = api.send("POST", "/api/v1/tracks", track_document(make_product()), content_type)
    assert response.status_code == 415, response.document
    assert not Track.objects.exists()


def test_quoted_profile_with_escapes_is_accepted(api):
    content_type = f'{JSONAPI}; profile="https://example.com/p\\"1 https://example.com/p2"'
    response = api.send("POST", "/api/v1/tracks", track_document(make_product()), content_type)
    assert response.status_code == 201, response.document


def test_form_content_type_does_not_overtake_authentication(anonymous):
    response = anonymous.send("POST", "/api/v1/tracks", "a=b", "application/x-www-form-urlencoded")
    assert response.status_code == 401


# Accept.


@pytest.mark.parametrize("accept", MALFORMED_ACCEPTS)
def test_malformed_accept_is_400(api, accept):
    assert_header_error(api.get("/api/v1/tracks", HTTP_ACCEPT=accept), "Accept")


def test_malformed_accept_is_400_on_a_write(api):
    response = api.post_doc("/api/v1/tracks", track_document(make_product()), HTTP_ACCEPT=RFC2231)
    assert_header_error(response, "Accept")
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    "accept",
    [
        "",
        f"{JSONAPI},, ,",
        f"text/html, {JSONAPI};q=0.1",
        "*/*;q=0.5, text/html",
        "application/*",
        f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic", {JSONAPI};q=0.5',
        f'{JSONAPI}; profile="a, b; c=d"',
    ],
)
def test_acceptable_accept_is_200(api, accept):
    track = make_track()
    response = api.get(track_url(track), HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.document
    assert response.document["data"]["id"] == str(track.pk)


@pytest.mark.parametrize(
    "accept",
    [
        f"{JSONAPI};q=0",
        f"{JSONAPI};q=0, */*",  # the more specific range decides (RFC 9110, 12.5.1)
        "text/html",
        ", ".join(["text/html"] * 2000),
        f"{JSONAPI}; " + "; ".join(f"p{n}=v" for n in range(5000)),
    ],
)
def test_unacceptable_accept_is_406(api, accept):
    response = api.get("/api/v1/tracks", HTTP_ACCEPT=accept)
    assert response.status_code == 406, response.document


def test_huge_repeated_parameter_is_400(api):
    accept = f"{JSONAPI}; " + "; ".join(["profile=x"] * 5000)
    assert_header_error(api.get("/api/v1/tracks", HTTP_ACCEPT=accept), "Accept")


# Authorization and paths outside the API.


@pytest.mark.parametrize(
    "authorization",
    ["Bearer \x00\x01é", "Bearer " + "a" * 10_000, "Bearer a b c", "\xff\xfe", "Bearer\t\x7f"],
)
def test_odd_authorization_is_401(db, authorization):
    response = JsonApiClient(HTTP_AUTHORIZATION=authorization).get("/api/v1/tracks")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="tracks"')


def test_token_endpoint_with_malformed_content_type_is_no_500(admin_user):
    response = Client(raise_request_exception=True).post(
        "/oauth/token", "grant_type=client_credentials", content_type=RFC2231
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_admin_with_malformed_content_type_keeps_djangos_page(admin_user):
    client = Client(raise_request_exception=True, enforce_csrf_checks=True)
    response = client.post("/admin/login/", "username=admin", content_type=RFC2231)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# The same bytes through a live server.


@pytest.fixture
def token(admin_user, make_token):
    return make_token(admin_user)


def assert_raw_header_error(result, header):
    status, _, document = result
    assert status == 400, document
    assert document["errors"][0]["source"] == {"header": header}


@live
def test_live_malformed_content_type_is_400(live_server, token):
    body = b'{"data": {"type": "tracks", "attributes": {}}}'
    for authorization in ([("Authorization", f"Bearer {token}")], []):
        headers = [*authorization, ("Accept", JSONAPI), ("Content-Type", RFC2231)]
        result = raw_request(live_server, "POST", "/api/v1/tracks", headers, body)
        assert_raw_header_error(result, "Content-Type")
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    "accept",
    [RFC2231.encode(), b"application/vnd.api+json; profile=\xff", "é/è".encode(), b"\x00"],
)
@live
def test_live_malformed_accept_is_400(live_server, token, accept):
    headers = [("Authorization", f"Bearer {token}"), ("Accept", accept)]
    assert_raw_header_error(raw_request(live_server, "GET", "/api/v1/tracks", headers), "Accept")


@live
def test_live_repeated_accept_headers_are_one_list(live_server, token):
    headers = [("Authorization", f"Bearer {token}"), ("Accept", JSONAPI), ("Accept", "*/json")]
    assert_raw_header_error(raw_request(live_server, "GET", "/api/v1/tracks", headers), "Accept")


@live
def test_live_huge_accept_is_406(live_server, token):
    accept = f"{JSONAPI}; " + "; ".join(f"p{n}=v" for n in range(4000))
    headers = [("Authorization", f"Bearer {token}"), ("Accept", accept)]
    status, _, document = raw_request(live_server, "GET", "/api/v1/tracks", headers)
    assert status == 406, document


@live
@pytest.mark.parametrize("authorization", [b"Bearer \xff\x00\xfe", b"\xc3\xa9", b"Bearer"])
def test_live_odd_authorization_is_401(live_server, authorization):
    headers = [("Authorization", authorization), ("Accept", JSONAPI)]
    status, response_headers, document = raw_request(live_server, "GET", "/api/v1/tracks", headers)
    assert status == 401, document
    assert response_headers["WWW-Authenticate"].startswith('Bearer realm="tracks"')
