"""The JSON:API 1.1 conventions every resource of the service shares.

Apps declare what a resource is (a serializer, a filterset, a viewset); this package
decides how it travels: negotiation, parsing, documents, errors, pagination, query
parameters and request ids.
"""

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
JSONAPI_VERSION = "1.1"
