from django.urls import path

from config.jsonapi.routes import resource_routes

from . import uploads  # noqa: F401  (registers the records' upload purpose)
from .views import RecordViewSet, TrackViewSet

urlpatterns = [
    path(
        "records/upload-targets",
        RecordViewSet.as_view({"post": "upload_target"}),
        name="records-upload-targets",
    ),
    *resource_routes(TrackViewSet),
    *resource_routes(RecordViewSet, updatable=False),
]
