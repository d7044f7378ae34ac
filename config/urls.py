from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
    SpectacularYAMLAPIView,
)
from oauth2_provider import views as oauth2_views

from config.jsonapi.discovery import ApiIndexView
from config.jsonapi.documents import API_PREFIX
from config.jsonapi.operations import OperationsView
from config.jsonapi.views import not_found
from config.uploads import UploadView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="api-docs"), name="home"),
    path(API_PREFIX, ApiIndexView.as_view(), name="api-index"),
    path(f"{API_PREFIX}openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-json"),
    path(f"{API_PREFIX}openapi.yaml", SpectacularYAMLAPIView.as_view(), name="openapi-yaml"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi-json"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="openapi-json", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    path(f"{API_PREFIX}uploads/<str:token>", UploadView.as_view(), name="upload"),
    path(f"{API_PREFIX}operations", OperationsView.as_view(), name="operations"),
    path(API_PREFIX, include("organizations.urls")),
    path(API_PREFIX, include("products.urls")),
    path(API_PREFIX, include("tracks.urls")),
    path(API_PREFIX, include("collections_app.urls")),
    path(API_PREFIX, include("webhooks.urls")),
    path(API_PREFIX, include("soundcheck.urls")),
    re_path(r"^api(/|$)", not_found),
    path("oauth/token", oauth2_views.TokenView.as_view(), name="oauth-token"),
    path("oauth/revoke", oauth2_views.RevokeTokenView.as_view(), name="oauth-revoke"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:  # development: serve stored files (covers); production uses its storage's
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "config.jsonapi.views.bad_request"
handler403 = "config.jsonapi.views.permission_denied"
handler404 = "config.jsonapi.views.page_not_found"
handler500 = "config.jsonapi.views.server_error"
