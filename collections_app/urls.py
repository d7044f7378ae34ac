from config.jsonapi.routes import resource_routes

from .views import CollectionTrackViewSet, CollectionViewSet

urlpatterns = [
    *resource_routes(CollectionViewSet),
    *resource_routes(CollectionTrackViewSet),
]
