"""OAuth2 Bearer authentication for the API."""

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
