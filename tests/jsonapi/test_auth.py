"""Bearer tokens (django-oauth-toolkit), scopes, model permissions and the issue_token command."""

import base64
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from organizations.models import Membership, OrganizationApplication
from tests.client import JsonApiClient
from tests.factories import make_product, make_track, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "s3cret-of-the-test-application"
FORM = "application/x-www-form-urlencoded"


def make_application(owner, grant=Application.GRANT_CLIENT_CREDENTIALS):
    """An application whose plaintext secret is CLIENT_SECRET (it is hashed on save)."""
    return Application.objects.create(
        name=f"app-{grant}",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant,
        client_secret=CLIENT_SECRET,
    )


def basic_auth(application):
    pair = f"{application.client_id}:{CLIENT_SECRET}".encode()
    return f"Basic {base64.b64encode(pair).decode()}"


# The OAuth endpoints speak application/json, not JSON:API, hence a plain Client here.
def oauth_post(url, data, **extra):
    return Client().post(url, urlencode(data), content_type=FORM, **extra)


def client_credentials_token(application, scope="read write"):
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = oauth_post("/oauth/token", data, HTTP_AUTHORIZATION=basic_auth(application))
    assert response.status_code == 200, response.content
    return response.json()


def assert_401(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    [error] = response.document["errors"]
    assert error["status"] == "401"
    assert error["id"] == response["X-Request-ID"]


def patch_title(track, title="Changed"):
    return {"data": {"type": "tracks", "id": str(track.pk), "attributes": {"title": title}}}


# 401: no usable token.


@pytest.mark.parametrize(
    "url", ["/api/v1/tracks", "/api/v1/tracks/1", "/api/v1/languages", "/api/v1/labels"]
)
def test_no_token_is_401(anonymous, url):
    assert_401(anonymous.get(url))


def test_no_token_cannot_write(anonymous):
    response = anonymous.post_doc("/api/v1/tracks", track_document(make_product()))
    assert_401(response)
    assert not Track.objects.exists()


@pytest.mark.parametrize("header", ["Bearer garbage-token", "Bearer ", "Basic YTpi", "garbage"])
def test_garbage_authorization_is_401(db, header):
    assert_401(JsonApiClient(HTTP_AUTHORIZATION=header).get("/api/v1/tracks"))


def assert_invalid_token(response, description):
    assert_401(response)
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="tracks", error="invalid_token", error_description="{description}"'
    )
    [error] = response.document["errors"]
    assert (error["code"], error["detail"]) == ("invalid_token", description)


def assert_no_credentials(response):
    assert_401(response)
    assert response["WWW-Authenticate"] == 'Bearer realm="tracks"'
    assert (
        response.document["errors"][0]["detail"] == "Authentication credentials were not provided."
    )


@pytest.mark.parametrize("header", [None, "Basic YTpi", "garbage"])
def test_no_bearer_token_is_not_provided(db, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert_no_credentials(JsonApiClient(**extra).get("/api/v1/tracks"))


@pytest.mark.parametrize("header", ["Bearer garbage-token", "Bearer ", "bearer a b", "Bearer é"])
def test_unknown_or_malformed_bearer_token_is_invalid_token(db, header):
    response = JsonApiClient(HTTP_AUTHORIZATION=header).get("/api/v1/tracks")
    description = "The access token is invalid." if len(header.split()) == 2 else None
    assert_invalid_token(response, description or "The access token is invalid or expired.")


def test_expired_token_is_invalid_token(admin_user, make_token):
    client = JsonApiClient(make_token(admin_user, expires_in=-10))
    assert_invalid_token(client.get("/api/v1/tracks"), "The access token has expired.")
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert_invalid_token(response, "The access token has expired.")
    assert not Track.objects.exists()


def test_token_of_an_inactive_owner_is_invalid_token(editor):
    token = client_credentials_token(make_application(editor))["access_token"]
    editor.is_active = False
    editor.save()
    response = JsonApiClient(token).get("/api/v1/tracks")
    assert_invalid_token(response, "The access token's owner is inactive.")


def test_token_of_an_inactive_user_is_invalid_token(editor, make_token):
    client = JsonApiClient(make_token(editor))
    assert client.get("/api/v1/tracks").status_code == 200
    editor.is_active = False
    editor.save()
    assert_invalid_token(client.get("/api/v1/tracks"), "The access token's user is inactive.")


def test_expired_token_is_401(admin_user, make_token):
    assert_401(JsonApiClient(make_token(admin_user, expires_in=-10)).get("/api/v1/tracks"))


def test_revoked_token_is_401(admin_user):
    application = make_application(admin_user)
    token = client_credentials_token(application)["access_token"]
    client = JsonApiClient(token)
    assert client.get("/api/v1/tracks").status_code == 200
    data = {"token": token, "client_id": application.client_id, "client_secret": CLIENT_SECRET}
    assert oauth_post("/oauth/revoke", data).status_code == 200
    assert_invalid_token(client.get("/api/v1/tracks"), "The access token is invalid.")


# Issuing tokens: POST /oauth/token.


def test_client_credentials_grant_with_basic_auth(admin_user):
    payload = client_credentials_token(make_application(admin_user), "read write")
    assert payload["scope"] == "read write"
    assert payload["token_type"] == "Bearer"
    assert 0 < payload["expires_in"] <= 3600
    response = JsonApiClient(payload["access_token"]).get("/api/v1/tracks")
    assert response.status_code == 200


def test_client_credentials_grant_with_credentials_in_body(admin_user, organization):
    application = make_application(admin_user)
    OrganizationApplication.objects.create(application=application, organization=organization)
    data = {
        "grant_type": "client_credentials",
        "scope": "read write",
        "client_id": application.client_id,
        "client_secret": CLIENT_SECRET,
    }
    response = oauth_post("/oauth/token", data)
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["scope"] == "read write"
    assert payload["expires_in"] > 0
    client = JsonApiClient(payload["access_token"])
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document


def test_client_credentials_grant_defaults_to_read(admin_user):
    payload = client_credentials_token(make_application(admin_user), scope=None)
    assert payload["scope"] == "read"


def test_wrong_client_secret_gets_no_token(admin_user):
    application = make_application(admin_user)
    data = {"grant_type": "client_credentials", "client_id": application.client_id}
    response = oauth_post("/oauth/token", {**data, "client_secret": "wrong"})
    assert response.status_code == 401
    assert not AccessToken.objects.exists()


def test_password_grant_issues_a_token_for_the_user(editor):
    application = make_application(editor, Application.GRANT_PASSWORD)
    data = {
        "grant_type": "password",
        "username": "editor",
        "password": "pw",
        "scope": "read write",
    }
    response = oauth_post("/oauth/token", data, HTTP_AUTHORIZATION=basic_auth(application))
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["expires_in"] > 0
    assert payload["scope"] == "read write"
    assert AccessToken.objects.get(token=payload["access_token"]).user == editor
    client = JsonApiClient(payload["access_token"])
    assert client.get("/api/v1/tracks").status_code == 200
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document


def test_password_grant_with_wrong_password_gets_no_token(editor):
    application = make_application(editor, Application.GRANT_PASSWORD)
    data = {"grant_type": "password", "username": "editor", "password": "nope"}
    response = oauth_post("/oauth/token", data, HTTP_AUTHORIZATION=basic_auth(application))
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


# A client-credentials token acts as the application's owner.


def test_client_credentials_token_has_owner_permissions(viewer):
    token = client_credentials_token(make_application(viewer))["access_token"]
    client = JsonApiClient(token)
    assert client.get("/api/v1/tracks").status_code == 200
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 403
    assert not Track.objects.exists()


def test_client_credentials_token_of_editor_can_write(editor):
    token = client_credentials_token(make_application(editor))["access_token"]
    response = JsonApiClient(token).post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document


def test_client_credentials_token_of_inactive_owner_is_401(editor):
    token = client_credentials_token(make_application(editor))["access_token"]
    editor.is_active = False
    editor.save()
    assert_401(JsonApiClient(token).get("/api/v1/tracks"))


# Scopes and model permissions.


def assert_cannot_write(client):
    track = make_track(title="Before")
    response = client.post_doc("/api/v1/tracks", track_document(track.product))
    assert response.status_code == 403, response.document
    assert response.document["errors"][0]["status"] == "403"
    response = client.patch_doc(f"/api/v1/tracks/{track.pk}", patch_title(track))
    assert response.status_code == 403, response.document
    response = client.delete(f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 403, response.document
    assert list(Track.objects.values_list("pk", "title")) == [(track.pk, "Before")]


def test_read_scope_can_read_but_not_write(admin_user, make_token):
    client = JsonApiClient(make_token(admin_user, "read"))
    assert client.get("/api/v1/tracks").status_code == 200
    assert_cannot_write(client)


def test_write_scope_without_read_cannot_read(admin_user, make_token):
    client = JsonApiClient(make_token(admin_user, "write"))
    response = client.get("/api/v1/tracks")
    assert response.status_code == 403
    assert response.document["errors"][0]["status"] == "403"


def test_user_without_model_permissions_cannot_write(viewer, make_token):
    client = JsonApiClient(make_token(viewer, "read write"))
    assert client.get("/api/v1/tracks").status_code == 200
    assert_cannot_write(client)


def test_user_without_model_permissions_cannot_change_a_relationship(viewer, make_token):
    track, other = make_track(), make_product()
    client = JsonApiClient(make_token(viewer, "read write"))
    doc = {"data": {"type": "products", "id": str(other.pk)}}
    response = client.patch_doc(f"/api/v1/tracks/{track.pk}/relationships/product", doc)
    assert response.status_code == 403
    track.refresh_from_db()
    assert track.product_id != other.pk


def test_editor_can_create_change_and_delete(editor, make_token):
    client = JsonApiClient(make_token(editor, "read write"))
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document
    track = Track.objects.get(pk=response.document["data"]["id"])
    response = client.patch_doc(f"/api/v1/tracks/{track.pk}", patch_title(track))
    assert response.status_code == 200, response.document
    track.refresh_from_db()
    assert track.title == "Changed"
    assert client.delete(f"/api/v1/tracks/{track.pk}").status_code == 204
    assert not Track.objects.exists()


# The issue_token management command.


def issue_token(*args):
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_issue_token_creates_user_and_prints_a_working_token(organization):
    token = issue_token(
        "someone", "--create-user", "--organization", "acme", "--scope", "read write",
        "--expires-in", "60",
    )  # fmt: skip
    access = AccessToken.objects.get(token=token)
    assert access.user.username == "someone"
    assert access.application.organization_binding.organization == organization
    assert Membership.objects.get(user=access.user, organization=organization).role == "admin"
    assert access.scope == "read write"
    remaining = access.expires - timezone.now()
    assert timedelta(seconds=50) < remaining <= timedelta(seconds=60)
    client = JsonApiClient(token)
    assert client.get("/api/v1/tracks").status_code == 200
    response = client.post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document


def test_issue_token_for_existing_user(editor):
    token = issue_token("editor", "--scope", "read write")
    assert AccessToken.objects.get(token=token).user == editor
    assert JsonApiClient(token).get("/api/v1/tracks").status_code == 200


def test_issue_token_without_organization_acts_as_the_users_memberships(editor):
    token = issue_token("editor", "--scope", "read write")
    assert not hasattr(AccessToken.objects.get(token=token).application, "organization_binding")
    response = JsonApiClient(token).post_doc("/api/v1/tracks", track_document(make_product()))
    assert response.status_code == 201, response.document  # editor's only organization


@pytest.mark.parametrize(
    ("username", "slug", "message"),
    [("editor", "nowhere", "No organization 'nowhere'."), ("outsider", "acme", "not a member")],
)
def test_issue_token_for_an_organization_the_user_cannot_act_in_fails(
    editor, django_user_model, username, slug, message
):
    django_user_model.objects.create_user("outsider")
    with pytest.raises(CommandError, match=message):
        issue_token(username, "--organization", slug)
    assert not AccessToken.objects.exists()


def test_issue_token_for_unknown_user_without_create_user_fails(db):
    with pytest.raises(CommandError):
        issue_token("nobody")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("scope", ["admin", "read admin", ""])
def test_issue_token_with_unknown_scope_fails(admin_user, scope):
    with pytest.raises(CommandError):
        issue_token("admin", "--scope", scope)
    assert not AccessToken.objects.exists()


def test_issue_token_with_non_positive_lifetime_fails(admin_user):
    with pytest.raises(CommandError):
        issue_token("admin", "--expires-in", "0")
    assert not AccessToken.objects.exists()


def test_read_token_from_command_cannot_write(admin_user):
    client = JsonApiClient(issue_token("admin", "--scope", "read"))
    assert client.get("/api/v1/tracks").status_code == 200
    assert_cannot_write(client)


# The token's query, compiled once (config.compiled).


def loaded(token):
    """What a request reads of a loaded token: its columns, its related rows' and the role."""

    def columns(instance):
        if instance is None:
            return None
        return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}

    application = token.application
    binding = getattr(application, "organization_binding", None) if application else None
    return {
        "token": columns(token),
        "user": columns(token.user),
        "application": columns(application),
        "owner": columns(application.user) if application else None,
        "organization": columns(binding.organization) if binding else None,
        "role": token.bound_role,
    }


def test_the_compiled_token_query_builds_what_the_orm_builds(
    admin_user, editor, organization, make_token
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.authentication import _token_query
    from config.jsonapi.tenancy import with_bound_organization

    application = make_application(editor)
    OrganizationApplication.objects.create(application=application, organization=organization)
    userless = AccessToken.objects.create(
        user=None,
        application=application,
        token="userless-token",
        scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )
    tokens = {
        make_token(admin_user): None,  # bound to the organization, not a member there
        make_token(editor): "editor",  # bound, a member with a role
        make_token(editor, organization=None): None,  # an application of no organization
        AccessToken.objects.create(
            user=editor,
            application=None,
            token="applicationless-token",
            scope="read",
            expires=timezone.now() + timedelta(hours=1),
        ).token: None,
        userless.token: "editor",  # client credentials act as the application's owner
    }
    orm = with_bound_organization(AccessToken.objects.select_related("application__user", "user"))
    for token, role in tokens.items():
        checksum = AccessToken.objects.get(token=token).token_checksum
        with CaptureQueriesContext(connection) as captured:
            compiled = loaded(_token_query().first(checksum))
        assert len(captured) == 1  # the related rows and the role come with the token
        assert compiled == loaded(orm.get(token_checksum=checksum))
        assert compiled["role"] == role
    assert _token_query().first("0" * 64) is None


def test_the_oauthlib_core_is_built_once_and_again_when_its_settings_change(
    admin_user, make_token, settings
):
    from config import authentication

    api = JsonApiClient(make_token(admin_user))
    assert api.get("/api/v1/tracks").status_code == 200
    core = authentication.oauthlib_core()
    assert api.get("/api/v1/tracks").status_code == 200
    assert authentication.oauthlib_core() is core
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 60}
    assert authentication.oauthlib_core() is not core
    assert api.get("/api/v1/tracks").status_code == 200
