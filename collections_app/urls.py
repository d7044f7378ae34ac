from django.urls import path

from config.jsonapi.routes import resource_routes

from .playback import MediaView, PlaySessionView
from .views import CollectionTrackViewSet, CollectionViewSet, TrackVariantViewSet

urlpatterns = [
    *resource_routes(CollectionViewSet),
    *resource_routes(CollectionTrackViewSet),
    *resource_routes(TrackVariantViewSet, updatable=False),
    path("play-sessions", PlaySessionView.as_view(), name="play-sessions"),
    path("media/<str:token>", MediaView.as_view(), name="playback-media"),
]
