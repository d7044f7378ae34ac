from config.jsonapi.routes import resource_routes

from .views import RecordViewSet, TrackViewSet

urlpatterns = [
    *resource_routes(TrackViewSet),
    *resource_routes(RecordViewSet, updatable=False),
]
