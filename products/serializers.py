from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer

from .models import Label, Language, Product


class LanguageSerializer(ResourceSerializer):
    class Meta:
        model = Language
        resource_name = "languages"
        fields = ["name", "retired"]
        read_only_fields = ["name", "retired"]


class LabelSerializer(ResourceSerializer):
    """A label of the organization the request acts in, which it belongs to for good."""

    organization = Relationship("organizations", read_only=True)
    products = Relationship("products", many=True, read_only=True)

    class Meta:
        model = Label
        resource_name = "labels"
        fields = ["name", "description", "created_at", "updated_at", "organization", "products"]


class ProductSerializer(ResourceSerializer):
    label = Relationship("labels", queryset=Label.objects.all())
    language = Relationship("languages", queryset=Language.objects.all())
    tracks = Relationship("tracks", many=True, read_only=True)

    class Meta:
        model = Product
        resource_name = "products"
        fields = [
            "name",
            "upc_code",
            "release_date",
            "copyright_line",
            "production_line",
            "production_year",
            "status",
            "product_type",
            "created_at",
            "updated_at",
            "label",
            "language",
            "tracks",
        ]
