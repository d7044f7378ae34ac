"""OAuth2 Bearer authentication for the API."""

from oauth2_provider import oauth2_backends
from oauth2_provider.contrib.rest_framework import OAuth2Authentication


class BearerTokenAuthentication(OAuth2Authentication):
    """OAuth2 Bearer tokens; a client-credentials token acts as its application's owner.

    django-oauth-toolkit leaves ``request.user`` empty for client-credentials tokens, which
    would leave Django's model permissions nobody to check. The application's owner is the
    accountable party, so its permissions apply.
    """

    www_authenticate_realm = "tracks"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None:
            user = token.application.user if token.application_id else None
            if user is None or not user.is_active:
                return None
        return user, token

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'


class OAuthLibCore(oauth2_backends.OAuthLibCore):
    """Reads form bodies only (the token endpoints); a JSON:API body is no OAuth2 input.

    The stock backend reads ``request.POST``, which makes DRF parse a JSON:API body during
    authentication: a bad body would then answer 400 or 415 before the 401 or 403 it earns.
    """

    def extract_body(self, request):
        if (request.content_type or "").startswith("application/x-www-form-urlencoded"):
            return super().extract_body(request)
        return []
