"""The views ours is measured against: the raw floor, plain DRF and stock
djangorestframework-jsonapi, each returning the same rows and fields as ours."""

import orjson
from django.http import HttpResponse
from rest_framework import (
    generics,
    negotiation,
    pagination,
    parsers,
    permissions,
    renderers,
    serializers,
    views,
    viewsets,
)
from rest_framework_json_api import pagination as dja_pagination
from rest_framework_json_api import relations as dja_relations
from rest_framework_json_api import renderers as dja_renderers
from rest_framework_json_api import serializers as dja_serializers
from rest_framework_json_api import views as dja_views

from products.models import Label, Language, Product
from products.serializers import ProductSerializer
from tracks.models import Track
from tracks.serializers import TrackSerializer


def attribute_fields(serializer_class):
    """The serializer fields that ours renders as attributes, so every variant returns the
    same fields as ours."""
    rendered = set(serializer_class.schema().attributes.values())
    return ["id", *(name for name in serializer_class.Meta.fields if name in rendered)]


TRACK_FIELDS = attribute_fields(TrackSerializer)
PRODUCT_FIELDS = attribute_fields(ProductSerializer)
TRACK_COLUMNS = ["id", *TrackSerializer.schema().orm_paths.values()]


def raw_tracks(request):
    """The floor: values() and orjson, no framework."""
    columns = [*TRACK_COLUMNS, "product_id", "audio_language_id"]
    rows = list(Track.objects.order_by("pk").values(*columns)[:100])
    return HttpResponse(orjson.dumps(rows), content_type="application/json")


class PlainPagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"


# Plain DRF: ModelSerializers, nesting the related rows that ours includes.


class PlainLanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name"]


class PlainProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [*PRODUCT_FIELDS, "label", "language"]


class PlainTrackSerializer(serializers.ModelSerializer):
    clean = serializers.BooleanField(source="is_clean")
    label = serializers.IntegerField(source="product.label_id")
    product = PlainProductSerializer()
    audio_language = PlainLanguageSerializer()

    class Meta:
        model = Track
        fields = [*TRACK_FIELDS, "label", "product", "audio_language"]


class PlainTrackListSerializer(serializers.ModelSerializer):
    clean = serializers.BooleanField(source="is_clean")

    class Meta:
        model = Track
        fields = [*TRACK_FIELDS, "product", "audio_language"]


class PlainProductWithTracksSerializer(PlainProductSerializer):
    tracks = PlainTrackListSerializer(many=True, read_only=True)

    class Meta(PlainProductSerializer.Meta):
        fields = [*PlainProductSerializer.Meta.fields, "tracks"]


class PlainView(generics.ListAPIView):
    renderer_classes = [renderers.JSONRenderer]
    pagination_class = PlainPagination


class PlainTracks(PlainView):
    queryset = Track.objects.select_related("product", "audio_language").order_by("pk")
    serializer_class = PlainTrackSerializer


class PlainTrackPage(PlainView):
    """Tracks as a plain DRF list serves them: related rows as their ids."""

    queryset = Track.objects.order_by("pk")
    serializer_class = PlainTrackListSerializer


class PlainTrack(generics.RetrieveAPIView):
    renderer_classes = [renderers.JSONRenderer]
    queryset = Track.objects.all()
    serializer_class = PlainTrackListSerializer


class PlainProducts(PlainView):
    queryset = Product.objects.prefetch_related("tracks").order_by("pk")
    serializer_class = PlainProductWithTracksSerializer


# Stock djangorestframework-jsonapi: its own serializers, relations, renderer and pagination.


def _links(view):
    return {
        "self_link_view_name": f"bench-dja-{view}-relationships",
        "related_link_view_name": f"bench-dja-{view}-related",
    }


class StockLanguageSerializer(dja_serializers.ModelSerializer):
    class Meta:
        model = Language
        resource_name = "languages"
        fields = ["name"]


class StockLabelSerializer(dja_serializers.ModelSerializer):
    class Meta:
        model = Label
        resource_name = "labels"
        fields = ["name", "description", "created_at", "updated_at"]


class StockProductSerializer(dja_serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="bench-dja-products-detail")
    label = dja_relations.ResourceRelatedField(read_only=True, **_links("products"))
    language = dja_relations.ResourceRelatedField(read_only=True, **_links("products"))
    tracks = dja_relations.ResourceRelatedField(read_only=True, many=True, **_links("products"))
    included_serializers = {
        "label": "bench.comparison.StockLabelSerializer",
        "language": "bench.comparison.StockLanguageSerializer",
        "tracks": "bench.comparison.StockTrackSerializer",
    }

    class Meta:
        model = Product
        resource_name = "products"
        fields = [*PRODUCT_FIELDS[1:], "url", "label", "language", "tracks"]


class StockTrackSerializer(dja_serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="bench-dja-tracks-detail")
    clean = serializers.BooleanField(source="is_clean")
    product = dja_relations.ResourceRelatedField(read_only=True, **_links("tracks"))
    audio_language = dja_relations.ResourceRelatedField(read_only=True, **_links("tracks"))
    label = dja_relations.ResourceRelatedField(
        read_only=True, source="product.label", model=Label, **_links("tracks")
    )
    included_serializers = {
        "product": "bench.comparison.StockProductSerializer",
        "audio_language": "bench.comparison.StockLanguageSerializer",
        "label": "bench.comparison.StockLabelSerializer",
    }

    class Meta:
        model = Track
        resource_name = "tracks"
        fields = [*TRACK_FIELDS[1:], "url", "product", "audio_language", "label"]


class StockView(dja_views.ReadOnlyModelViewSet):
    renderer_classes = [dja_renderers.JSONRenderer]
    pagination_class = dja_pagination.JsonApiPageNumberPagination
    filter_backends = []


class StockTracks(StockView):
    queryset = Track.objects.order_by("pk")
    serializer_class = StockTrackSerializer
    select_for_includes = {"__all__": ["product"], "product": ["product__label"]}
    prefetch_for_includes = {"audio_language": ["audio_language"]}


class StockProducts(StockView):
    queryset = Product.objects.order_by("pk")
    serializer_class = StockProductSerializer
    prefetch_for_includes = {"__all__": ["tracks"], "tracks": ["tracks__product"]}


# Plain DRF writes: a ModelViewSet of the same track fields, in plain JSON.


class PlainWriteTrackSerializer(serializers.ModelSerializer):
    clean = serializers.BooleanField(source="is_clean", required=False)

    class Meta:
        model = Track
        fields = [*TRACK_FIELDS, "product", "audio_language"]


class PlainTrackWrites(viewsets.ModelViewSet):
    queryset = Track.objects.all()
    serializer_class = PlainWriteTrackSerializer
    parser_classes = [parsers.JSONParser]
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = negotiation.DefaultContentNegotiation
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = []

    def get_exception_handler(self):
        return views.exception_handler
