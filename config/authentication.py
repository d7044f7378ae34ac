"""OAuth2 Bearer authentication for the API."""

import functools
import hashlib
import threading

from django.core.exceptions import SuspiciousOperation
from django.core.signals import setting_changed
from django.dispatch import receiver
from oauth2_provider import oauth2_backends, oauth2_validators
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_access_token_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from config import token_cache
from config.compiled import CompiledQuery
from config.jsonapi import tenancy


class InvalidToken(AuthenticationFailed):
    """Bearer credentials were sent but name no usable token (RFC 6750 ``invalid_token``)."""

    default_detail = "The access token is invalid or expired."
    default_code = "invalid_token"


class BearerTokenAuthentication(OAuth2Authentication):
    """OAuth2 Bearer tokens; a client-credentials token acts as its application's owner.

    django-oauth-toolkit leaves ``request.user`` empty for client-credentials tokens, which
    would leave Django's model permissions nobody to check. The application's owner is the
    accountable party, so its permissions apply.

    A request without Bearer credentials is left unauthenticated (401 "not provided"); one
    whose token is unknown, expired, revoked, or acts for a user who is no longer active
    (django-oauth-toolkit checks none of its users) is refused outright
    (401 ``invalid_token``, described in the challenge as RFC 6750 section 3 asks).
    """

    www_authenticate_realm = "tracks"

    def authenticate(self, request):
        # OAuth2Authentication.authenticate, with the oauthlib core built once per thread.
        try:
            valid, verified = oauthlib_core().verify_request(request, scopes=[])
        except ValueError as error:
            if str(error) == "Invalid hex encoding in query string.":
                raise SuspiciousOperation(error) from error
            raise
        if not valid:
            request.oauth2_error = getattr(verified, "oauth2_error", {})
            if request.oauth2_error or _bearer_scheme(request):
                raise self.invalid_token(request, request.oauth2_error.get("error_description"))
            return None
        user, token = verified.user, verified.access_token
        if user is None:
            user = token.application.user if token.application_id else None
            if user is None or not user.is_active:
                raise self.invalid_token(request, "The access token's owner is inactive.")
        elif not user.is_active:
            raise self.invalid_token(request, "The access token's user is inactive.")
        return user, token

    def invalid_token(self, request, description=None):
        description = str(description or InvalidToken.default_detail)
        request.oauth2_error = {"error": "invalid_token", "error_description": description}
        return InvalidToken(description)

    def authenticate_header(self, request):
        challenge = {"realm": self.www_authenticate_realm, **getattr(request, "oauth2_error", {})}
        return "Bearer " + ", ".join(f'{key}="{_quote(value)}"' for key, value in challenge.items())


_cores = threading.local()
_generation = 0  # of the OAUTH2_PROVIDER setting


def oauthlib_core():
    """django-oauth-toolkit's ``get_oauthlib_core()``, built once per thread rather than
    for every request: it builds an oauthlib server with each of its grant types, where
    verifying a Bearer token needs only the validator. Built again when the
    ``OAUTH2_PROVIDER`` setting changes (tests)."""
    cached = getattr(_cores, "core", None)
    if cached is None or cached[0] != _generation:
        cached = _cores.core = (_generation, oauth2_backends.get_oauthlib_core())
    return cached[1]


@receiver(setting_changed)
def _forget_oauthlib_cores(setting, **kwargs):
    global _generation
    if setting == "OAUTH2_PROVIDER":
        _generation += 1


def _bearer_scheme(request):
    words = request.headers.get("Authorization", "").split()
    return bool(words) and words[0].lower() == "bearer"


def _quote(value):
    """The content of an RFC 9110 quoted-string: no line breaks, quotes and backslashes escaped."""
    value = str(value).replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace('"', '\\"')


class OAuthLibCore(oauth2_backends.OAuthLibCore):
    """Reads form bodies only, and only at the token endpoints: a JSON:API body is no OAuth2
    input.

    The stock backend reads ``request.POST``, which makes DRF parse a JSON:API body during
    authentication: a bad body would then answer 400 or 415 before the 401 or 403 it earns.
    """

    def extract_body(self, request):
        if isinstance(request, Request):
            return []
        if request.content_type == "application/x-www-form-urlencoded":
            return super().extract_body(request)
        return []


class OAuth2Validator(oauth2_validators.OAuth2Validator):
    """Loads a Bearer token with what the request asks of it next, in the token's own
    query: its user, its application and the application's owner (a client-credentials
    token acts as them), and the organization the application is bound to with the acting
    user's role there (``tenancy.with_bound_organization``). Every check of the stock
    validator (expiry, scopes, audience, a usable application) still runs on it.

    django-oauth-toolkit loads the token in ``_load_access_token``, its one place for it;
    ``tests/jsonapi/test_query_counts.py`` notices if a release stops calling it.
    """

    def _load_access_token(self, token):
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return _token_query().first(checksum)


@functools.cache
def _token_query():
    """The token's query, with its joins and annotation, compiled once (config.compiled);
    its rows kept between requests when ``TOKEN_CACHE_SECONDS`` says so (config.token_cache)."""
    model = get_access_token_model()
    tokens = model.objects.select_related("application__user", "user")
    tokens = tenancy.with_bound_organization(tokens)
    return CompiledQuery(
        model, lambda checksum: tokens.filter(token_checksum=checksum), kept=token_cache.KeptRows()
    )
