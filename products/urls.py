from config.jsonapi.routes import resource_routes

from .views import LabelViewSet, LanguageViewSet, ProductViewSet

urlpatterns = [
    *resource_routes(LanguageViewSet, read_only=True),
    *resource_routes(LabelViewSet),
    *resource_routes(ProductViewSet),
]
