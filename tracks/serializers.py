from config.jsonapi.fields import StrictBooleanField
from config.jsonapi.relations import Relationship
from config.jsonapi.serializers import ResourceSerializer
from products.models import Language, Product

from .models import CREDIT_ROLES, Track


class TrackSerializer(ResourceSerializer):
    clean = StrictBooleanField(source="is_clean", required=False)
    product = Relationship("products", queryset=Product.objects.all())
    audio_language = Relationship("languages", queryset=Language.objects.all())
    label = Relationship("labels", source="product.label", read_only=True)

    class Meta:
        model = Track
        resource_name = "tracks"
        fields = [
            "title",
            "subtitle",
            "track_number",
            "volume_number",
            "isrc_code",
            "length",
            "production_line",
            "clean",
            "parental_advisory",
            "production_date",
            "preview_start",
            "preview_end",
            "lyrics",
            "explicit_content",
            "artist",
            *CREDIT_ROLES,
            "audio16bits",
            "audio24bits",
            "created_at",
            "updated_at",
            "product",
            "audio_language",
            "label",
        ]
