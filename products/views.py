from config.jsonapi.views import ResourceViewSet

from .filters import LabelFilter, LanguageFilter, ProductFilter
from .models import Label, Language, Product
from .serializers import LabelSerializer, LanguageSerializer, ProductSerializer


class LanguageViewSet(ResourceViewSet):
    """ISO 639 reference data, loaded by migration; read-only."""

    queryset = Language.objects.all()
    serializer_class = LanguageSerializer
    filterset_class = LanguageFilter
    sort_fields = ("name",)


class LabelViewSet(ResourceViewSet):
    queryset = Label.objects.all()
    serializer_class = LabelSerializer
    filterset_class = LabelFilter
    sort_fields = ("name", "createdAt")


class ProductViewSet(ResourceViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    sort_fields = ("name", "release-date", "createdAt")
