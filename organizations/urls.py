from config.jsonapi.routes import resource_routes

from .views import OrganizationViewSet

urlpatterns = [*resource_routes(OrganizationViewSet, read_only=True)]
