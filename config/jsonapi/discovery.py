"""The API's front door: ``/api/v1/`` names every collection and links the description."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .documents import api_base_url
from .openapi import Document, JsonApiDocumentSchema, error_responses, index_document
from .schema import registered_schemas


class ApiIndexSchema(JsonApiDocumentSchema):
    def get_operation_id(self):
        return "get-api-index"

    def get_summary(self):
        return "The collections of this API and its description"

    def get_tags(self):
        return ["api"]

    def get_response_serializers(self):
        index = Document("ApiIndexDocument", index_document)
        return {200: OpenApiResponse(index, description="OK."), **error_responses([406, 429])}


class ApiIndexView(APIView):
    """A JSON:API document whose ``meta.collections`` maps each type to its collection URL,
    readable without a token so that a client can find its way before it has one."""

    authentication_classes = []
    permission_classes = [AllowAny]
    metadata_class = None
    schema = ApiIndexSchema()

    def get(self, request):
        base = api_base_url(request)
        collections = {schema.type: f"{base}{schema.path}" for schema in registered_schemas()}
        links = {
            "self": request.build_absolute_uri(request.path),
            "describedby": request.build_absolute_uri(reverse("openapi-json")),
        }
        meta = {"collections": dict(sorted(collections.items()))}
        return Response({"meta": meta, "links": links})
