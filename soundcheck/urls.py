from django.urls import path

from config.jsonapi.routes import resource_routes

from .views import (
    CertificationViewSet,
    CheckResultViewSet,
    CheckViewSet,
    SoundcheckTrackViewSet,
    TrackEntityViewSet,
)

urlpatterns = [
    *resource_routes(CheckViewSet),
    *resource_routes(SoundcheckTrackViewSet),
    path(
        "soundcheck/tracks/<rid:pk>/status",
        SoundcheckTrackViewSet.as_view({"get": "status"}),
        name="soundcheck-tracks-status",
    ),
    path(
        "soundcheck/tracks/<rid:pk>/entities",
        TrackEntityViewSet.as_view({"get": "track_entities"}),
        name="soundcheck-tracks-entities",
    ),
    *resource_routes(CheckResultViewSet, updatable=False, deletable=False),
    *resource_routes(CertificationViewSet, read_only=True),
]
