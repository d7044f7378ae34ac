from django.contrib import admin
from django.urls import include, path, re_path
from oauth2_provider import views as oauth2_views

from config.jsonapi.documents import API_PREFIX
from config.jsonapi.views import not_found

urlpatterns = [
    path(API_PREFIX, include("products.urls")),
    path(API_PREFIX, include("tracks.urls")),
    re_path(r"^api(/|$)", not_found),
    path("oauth/token", oauth2_views.TokenView.as_view(), name="oauth-token"),
    path("oauth/revoke", oauth2_views.RevokeTokenView.as_view(), name="oauth-revoke"),
    path("admin/", admin.site.urls),
]

handler400 = "config.jsonapi.views.bad_request"
handler403 = "config.jsonapi.views.permission_denied"
handler404 = "config.jsonapi.views.page_not_found"
handler500 = "config.jsonapi.views.server_error"
