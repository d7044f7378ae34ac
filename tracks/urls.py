from config.jsonapi.routes import resource_routes

from .views import TrackViewSet

urlpatterns = [*resource_routes(TrackViewSet)]
