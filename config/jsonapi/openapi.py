"""The OpenAPI description of every resource, generated from its ``ResourceSchema``.

drf-spectacular walks the URL patterns; for each operation ``JsonApiAutoSchema`` says, from
the resource's schema, filterset and sort fields, what goes over the wire: the request and
response documents, every query parameter under its own name (``filter[title]``,
``fields[tracks]``), every error response and the headers. Nothing is written per resource:
a new resource is described as soon as it is routed.

Shapes the serializer fields cannot tell (a JSON member's structure, an identifier's format)
come from the model validators that enforce them, through ``describe`` below, so the rule and
its description live side by side.
"""

import inspect
import math

import django_filters
import uritemplate
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from . import JSONAPI_MEDIA_TYPE
from .fields import Base64FileField, NormalizedCharField
from .filters import (
    CharInFilter,
    IntegerFilter,
    IntegerInFilter,
    StrictBooleanFilter,
    UUIDInFilter,
)
from .middleware import REQUEST_ID_HEADER
from .relations import RESOURCE_ID
from .schema import MAX_INCLUDE_DEPTH, MAX_TO_MANY_HOPS
from .tenancy import ORGANIZATION_HEADER

ID_PATTERN = f"^{RESOURCE_ID.pattern}$"
REF = "#/components/schemas/"


def ref(name):
    return {"$ref": f"{REF}{name}"}


def component_name(resource_type, suffix):
    return (
        "".join(part.capitalize() for part in resource_type.replace("/", "-").split("-")) + suffix
    )


def obj(properties, required=(), **extra):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


# Shared pieces of every document.

LINK = {"type": "string", "format": "uri"}
JSONAPI_OBJECT = obj({"version": {"type": "string", "enum": ["1.1"]}}, ["version"])
PAGE_META = obj(
    {
        "currentPage": {"type": "integer", "minimum": 1},
        "from": {"type": "integer", "minimum": 1, "nullable": True},
        "lastPage": {"type": "integer", "minimum": 1},
        "perPage": {"type": "integer", "minimum": 1},
        "to": {"type": "integer", "minimum": 1, "nullable": True},
        "total": {"type": "integer", "minimum": 0},
    },
    ["currentPage", "from", "lastPage", "perPage", "to", "total"],
)
ERROR_OBJECT = obj(
    {
        "id": {"type": "string", "description": "The request id (X-Request-ID)."},
        "status": {"type": "string", "pattern": "^[45][0-9]{2}$"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "source": obj(
            {
                "pointer": {"type": "string", "description": "RFC 6901 JSON Pointer."},
                "parameter": {"type": "string"},
            }
        ),
    },
    ["id", "status", "title", "detail"],
)
ERROR_DOCUMENT = obj(
    {"jsonapi": ref("JsonApi"), "errors": {"type": "array", "items": ref("Error"), "minItems": 1}},
    ["jsonapi", "errors"],
)
UPLOAD_TARGET = obj(
    {
        "method": {"type": "string", "enum": ["PUT", "POST"]},
        "upload-url": {"type": "string", "format": "uri"},
        "ttl": {"type": "integer", "minimum": 1, "description": "Seconds."},
        "expires-at": {"type": "string", "format": "date-time"},
    },
    ["method", "upload-url", "ttl", "expires-at"],
    description="A signed, single-use, expiring URL that takes the file without a token "
    "(config/uploads.py); ask for a new one rather than storing it.",
)
OFFSET_PAGE_META = obj(
    {
        "offset": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
    },
    ["offset", "limit", "total"],
)
SHARED = {
    "JsonApi": JSONAPI_OBJECT,
    "PageMeta": PAGE_META,
    # page[offset]/page[limit] answer the second form (config/jsonapi/pagination.py).
    "OffsetOrPageMeta": {"oneOf": [PAGE_META, OFFSET_PAGE_META]},
    "Error": ERROR_OBJECT,
    "UploadTarget": UPLOAD_TARGET,
}

# The query parameters a resource takes of its own (ResourceViewSet.query_options).
QUERY_OPTIONS = {
    "cascade": "true deletes the resource's children with it; otherwise a resource that "
    "still has children is a 409.",
    "preserve-state-on-error": "true: an error result does not overwrite an earlier state "
    "that was not an error (the result is kept, with that state as its effective-state).",
}

ERRORS = {
    400: "A malformed document, header or query parameter.",
    401: "No token, or an invalid or expired one.",
    403: "The token's scope, the user's role in the organization or their permissions do "
    "not allow this, or the request names no organization it may act in.",
    404: "No such resource.",
    406: "Accept allows no JSON:API media type this server can produce.",
    409: "A conflict: wrong type or id, a uniqueness clash, a resource still in use, or an "
    "upload target that has received its file.",
    411: "No Content-Length: an upload must state its size.",
    413: "The file is larger than the limit.",
    415: "The body is not application/vnd.api+json without unsupported parameters.",
    422: "The document is well formed but its values are invalid (see source.pointer).",
    429: "Too many requests: retry after Retry-After seconds.",
}


@extend_schema_serializer(many=False)
class Document(serializers.Serializer):
    """Stands for one named document schema; ``DocumentExtension`` describes it."""

    def __init__(self, name, build):
        super().__init__()
        self.component_name = name
        self.build = build


class DocumentExtension(OpenApiSerializerExtension):
    target_class = Document

    def get_name(self, auto_schema, direction):
        return self.target.component_name

    def get_identity(self, auto_schema, direction):
        return self.target.component_name

    def map_serializer(self, auto_schema, direction):
        return self.target.build(auto_schema)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """OAuth2: client-credentials and password flows at /oauth/token; read and write scopes."""

    target_class = "config.authentication.BearerTokenAuthentication"
    name = "oauth2"
    priority = 1

    def get_security_requirement(self, auto_schema):
        return {self.name: ["read" if auto_schema.method == "GET" else "write"]}

    def get_security_definition(self, auto_schema):
        token_url = "/oauth/token"
        scopes = settings.OAUTH2_PROVIDER["SCOPES"]
        return {
            "type": "oauth2",
            "description": "Bearer tokens from POST /oauth/token (form-encoded).",
            "flows": {
                "clientCredentials": {"tokenUrl": token_url, "scopes": scopes},
                "password": {"tokenUrl": token_url, "scopes": scopes},
            },
        }


class ResourceDescriber:
    """The JSON Schemas of one resource type's objects, registered as components once."""

    def __init__(self, auto_schema, resource_schema):
        self.auto_schema = auto_schema
        self.schema = resource_schema
        self.fields = resource_schema.serializer_class().fields

    def register(self, suffix, build):
        name = component_name(self.schema.type, suffix)
        return register(self.auto_schema, name, build)

    def attribute(self, name, direction):
        field = self.fields[name]
        schema = self.auto_schema._map_serializer_field(field, direction)
        self.auto_schema._insert_field_validators(field, schema)
        if direction == "request" and isinstance(field, NormalizedCharField):
            # Its limits apply to the normalised code, not to what a client types.
            schema.pop("maxLength", None)
        if isinstance(field, Base64FileField):
            schema["format"] = field.content_format
        trimmed = isinstance(field, serializers.CharField) and field.trim_whitespace
        if direction == "request" and trimmed and not field.allow_blank:
            schema["pattern"] = r"\S"  # blank once trimmed is refused
        for validator in field.validators:
            hint = getattr(validator, "openapi_schema", {})
            schema.update(hint() if callable(hint) else hint)
        if direction == "request":
            schema.pop("readOnly", None)
        return schema

    def resource(self):
        """A resource object as responses render it."""

        def build():
            attributes = {
                member: self.attribute(name, "response")
                for member, name in self.schema.attributes.items()
            }
            relationships = {
                member: self.relationship_object(rel)
                for member, rel in self.schema.relationships.items()
            }
            properties = {
                "type": {"type": "string", "enum": [self.schema.type]},
                "id": {"type": "string"},
                "links": obj({"self": LINK}, ["self"]),
            }
            # Sparse fieldsets may leave any member out.
            if attributes:
                properties["attributes"] = obj(attributes)
            if relationships:
                properties["relationships"] = obj(relationships)
            return obj(properties, ["type", "id", "links"])

        return self.register("Resource", build)

    def relationship_object(self, rel):
        links = obj({"self": LINK, "related": LINK}, ["self", "related"])
        properties = {"links": links, "data": self.linkage(rel)}
        # A to-many relationship lists its linkage only when it is included.
        return obj(properties, ["links"] if rel.many else ["links", "data"])

    @staticmethod
    def linkage(rel, request=False):
        identifier = obj(
            {
                "type": {"type": "string", "enum": [rel.resource_type]},
                "id": {"type": "string", "pattern": ID_PATTERN},
            },
            ["type", "id"],
        )
        if rel.many:
            # allow_empty=False refuses an empty list in a request; a response may hold one.
            return {
                "type": "array",
                "items": identifier,
                "minItems": int(request and not rel.allow_empty),
            }
        return {**identifier, "nullable": True} if rel.allow_null else identifier

    def upload_target_request(self, serializer_class):
        """The document asking for an upload target: the members ``serializer_class``
        takes, described as the resource's own members of those names."""
        attributes = {
            member: self.attribute(member.replace("-", "_"), "request")
            for member in serializer_class.members["attributes"]
        }
        relationships = {
            member: obj(
                {"data": self.linkage(self.schema.relationships[member], request=True)}, ["data"]
            )
            for member in serializer_class.members["relationships"]
        }
        data = {
            "type": {"type": "string", "enum": [self.schema.type]},
            "attributes": obj(attributes, additionalProperties=False),
            "relationships": obj(relationships, list(relationships), additionalProperties=False),
        }
        return obj({"data": obj(data, ["type", "relationships"])}, ["data"])

    def write_document(self, partial):
        """The document of a create (``partial=False``) or an update."""
        attributes, required_attributes = {}, []
        writable = self.schema.updatable_attributes if partial else self.schema.writable_attributes
        for member, name in writable.items():
            attributes[member] = self.attribute(name, "request")
            if self.fields[name].required and not partial:
                required_attributes.append(member)
        relationships, required_relationships = {}, []
        for member, name in self.schema.writable_relationships.items():
            rel = self.fields[name]
            relationships[member] = obj({"data": self.linkage(rel, request=True)}, ["data"])
            if rel.required and not partial:
                required_relationships.append(member)
        data = {"type": {"type": "string", "enum": [self.schema.type]}}
        required = ["type"]
        if partial:
            data["id"] = {"type": "string", "pattern": ID_PATTERN}
            required.append("id")
        elif self.schema.client_ids:  # the client names the new resource
            data["id"] = self.attribute(self.schema.id_field, "request")
            required.append("id")
        data["attributes"] = obj(attributes, required_attributes, additionalProperties=False)
        create_rules = {} if partial else getattr(self.schema.serializer_class, "create_rules", {})
        data["attributes"].update(create_rules)
        data["relationships"] = obj(
            relationships, required_relationships, additionalProperties=False
        )
        if required_attributes or create_rules:  # the rules need members: attributes too
            required.append("attributes")
        if required_relationships:
            required.append("relationships")
        document = obj({"data": obj(data, required)}, ["data"])
        description = inspect.cleandoc(self.schema.serializer_class.__doc__ or "")
        if description:  # the rules between members, in the serializer's words
            document["description"] = description
        return document


def register(auto_schema, name, build):
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name)
    if component not in auto_schema.registry:
        auto_schema.registry.register(component)
        component.schema = build()
    return ref(name)


def reachable_types(schema, depth=MAX_INCLUDE_DEPTH):
    """The primary type and every type an ``include`` can bring into its documents."""
    types = {schema.type: schema}
    if depth:
        for member in schema.relationships:
            types.update(reachable_types(schema.related_schema(member), depth - 1))
    return types


def comma_list(items, **extra):
    return {"type": "array", "items": items, **extra}


FILTER_TYPES = (
    (IntegerInFilter, lambda f: comma_list(number_schema(f, "integer"), minItems=1)),
    # An item holds no comma: a comma separates items (an encoded one too, once decoded).
    (CharInFilter, lambda f: comma_list({"type": "string", "pattern": "^[^,]+$"}, minItems=1)),
    (UUIDInFilter, lambda f: comma_list({"type": "string", "format": "uuid"}, minItems=1)),
    (django_filters.UUIDFilter, lambda f: {"type": "string", "format": "uuid"}),
    (IntegerFilter, lambda f: number_schema(f, "integer")),
    (django_filters.NumberFilter, lambda f: number_schema(f, "number")),
    (StrictBooleanFilter, lambda f: {"type": "string", "enum": ["true", "false"]}),
)


def number_schema(filter_, json_type):
    """A number within the bounds the filter's form field validates (django-filter caps
    every number at 1e50)."""
    schema = {"type": json_type}
    for validator in filter_.field.validators:
        if isinstance(validator, MaxValueValidator):
            schema["maximum"] = min(schema.get("maximum", math.inf), validator.limit_value)
        elif isinstance(validator, MinValueValidator):
            schema["minimum"] = max(schema.get("minimum", -math.inf), validator.limit_value)
    return schema


def filter_schema(filter_):
    for filter_class, build in FILTER_TYPES:
        if isinstance(filter_, filter_class):
            return build(filter_)
    choices = filter_.extra.get("choices")
    if choices:
        return {"type": "string", "enum": [str(value) for value, _ in choices]}
    schema = {"type": "string", "minLength": 1}
    for validator in filter_.extra.get("validators", ()):
        regex = getattr(validator, "regex", None)
        if regex is not None:
            schema["pattern"] = regex.pattern
    return schema


def organization_parameter():
    return OpenApiParameter(
        ORGANIZATION_HEADER,
        {"type": "string"},  # any value: one naming no organization of yours is a 403
        OpenApiParameter.HEADER,
        description="The slug of the organization to act in, for a user in several "
        "(a token of an organization's application acts in that one only). Another "
        "organization's resources do not exist for the request.",
    )


class JsonApiDocumentSchema(AutoSchema):
    """What every JSON:API operation shares: the media type and the request-id headers."""

    def map_parsers(self):
        return [JSONAPI_MEDIA_TYPE]

    def map_renderers(self, attribute):
        return [JSONAPI_MEDIA_TYPE]

    def get_override_parameters(self):
        return [
            OpenApiParameter(
                REQUEST_ID_HEADER,
                {"type": "string"},
                OpenApiParameter.HEADER,
                description="Echoed back when it is plain (up to 128 of A-Z a-z 0-9 . _ : -, "
                "starting alphanumeric); otherwise the server makes a new id.",
            ),
            OpenApiParameter(
                REQUEST_ID_HEADER,
                {"type": "string"},
                OpenApiParameter.HEADER,
                response=True,
                required=True,
                description="The request id, also the id of every error object.",
            ),
            OpenApiParameter(
                "Location",
                {"type": "string", "format": "uri"},
                OpenApiParameter.HEADER,
                response=[201],
                required=True,
            ),
            OpenApiParameter(
                "Retry-After",
                {"type": "integer", "minimum": 1},
                OpenApiParameter.HEADER,
                response=[429],
                required=True,
            ),
            OpenApiParameter(
                "WWW-Authenticate", {"type": "string"}, OpenApiParameter.HEADER, response=[401]
            ),
        ]


class JsonApiAutoSchema(JsonApiDocumentSchema):
    """Describes ``ResourceViewSet`` operations from their resource schemas."""

    def get_tags(self):
        return [self.resource.type]

    @property
    def resource(self):
        return self.view.resource_schema

    @property
    def action(self):
        return self.view.action

    @property
    def member(self):
        """The relationship a relationship or related route serves (its last path segment)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def related_rel(self):
        return self.resource.relationships[self.member]

    def get_operation_id(self):
        words = {
            "list": "list",
            "retrieve": "get",
            "create": "create",
            "partial_update": "update",
            "destroy": "delete",
        }
        resource = self.resource.type.replace("/", "-")
        if self.action in words:
            return f"{words[self.action]}-{resource}"
        if self.action == "upload_target":
            return f"issue-{resource}-upload-target"
        if self.action == "upload_targets":
            return f"issue-{resource}-upload-targets"
        if self.custom_action:
            return self.custom_action["operation_id"].format(type=resource)
        kind = {
            "relationship": "get-relationship",
            "update_relationship": "update-relationship",
            "related": "get-related",
        }[self.action]
        return f"{kind}-{resource}-{self.member}"

    def get_summary(self):
        summaries = {
            "list": "List {type}",
            "retrieve": "Get a {type} resource",
            "create": "Create a {type} resource",
            "partial_update": "Update a {type} resource",
            "destroy": "Delete a {type} resource",
            "related": "Get the {member} of a {type} resource",
            "relationship": "Get the {member} linkage of a {type} resource",
            "update_relationship": "Replace the {member} linkage of a {type} resource",
            "upload_target": "Get a signed target to upload a new {type} resource's file to",
            "upload_targets": "Get new signed targets to upload a {type} resource's files to",
        }
        if self.custom_action:
            return self.custom_action["summary"].format(type=self.resource.type)
        return summaries[self.action].format(type=self.resource.type, member=self.member)

    @property
    def custom_action(self):
        """A viewset's own action, as its ``action_descriptions`` describe it: operation id,
        summary, success status and description, and a document of the resource
        (``resource``) or of top-level ``meta`` members (``meta``: {member: JSON Schema})."""
        return getattr(self.view, "action_descriptions", {}).get(self.action)

    # Parameters.

    def get_filter_backends(self):
        return []  # filters are described below, one named parameter each

    def get_override_parameters(self):
        from .views import query_families

        related = self.action == "related"
        options = self.view.query_options.get(self.action, ())
        families = query_families(self.action, self.related_rel if related else None, options)
        described = self.related_schema() if related else self.resource
        parameters = super().get_override_parameters()
        parameters.append(organization_parameter())
        parameters += [
            OpenApiParameter(
                variable,
                {"type": "string", "pattern": ID_PATTERN},
                OpenApiParameter.PATH,
                required=True,
                description=getattr(self.view, "path_parameters", {}).get(
                    variable, f"The {self.resource.type} id."
                ),
            )
            for variable in uritemplate.variables(self.path)
        ]
        if "include" in families:
            paths = described.include_paths
            if paths:
                parameters.append(
                    self.list_parameter(
                        "include",
                        {"type": "string", "enum": paths},
                        "Relationship paths to include, comma-separated (each at most "
                        f"{MAX_INCLUDE_DEPTH} deep, crossing at most {MAX_TO_MANY_HOPS} to-many).",
                    )
                )
        if "fields" in families:
            for resource_type, schema in sorted(reachable_types(described).items()):
                # "" is allowed: an empty list (fields[tracks]=) renders no members.
                members = ["", *sorted(schema.attributes.keys() | schema.relationships.keys())]
                parameters.append(
                    self.list_parameter(
                        f"fields[{resource_type}]",
                        {"type": "string", "enum": members},
                        f"Sparse fieldset: the members of {resource_type} to render.",
                        minItems=0,
                    )
                )
        if "sort" in families and self.view.sort_fields:
            keys = [k for field in self.view.sort_fields for k in (field, f"-{field}")]
            parameters.append(
                self.list_parameter(
                    "sort",
                    {"type": "string", "enum": keys},
                    "Sort keys, comma-separated; '-' for descending.",
                )
            )
        if "filter" in families and self.view.filterset_class is not None:
            for name, filter_ in self.view.filterset_class.base_filters.items():
                public = name.replace("__", ".").replace("_", "-")
                schema = filter_schema(filter_)
                explode = {} if schema["type"] != "array" else {"style": "form", "explode": False}
                parameters.append(
                    OpenApiParameter(
                        f"filter[{public}]",
                        schema,
                        required=filter_.extra.get("required", False),
                        **explode,
                    )
                )
        for option in sorted(families & set(options)):
            parameters.append(
                OpenApiParameter(
                    option,
                    {"type": "string", "enum": ["true", "false"]},
                    description=QUERY_OPTIONS[option],
                )
            )
        if "page" in families:
            parameters += [
                OpenApiParameter(p["name"], p["schema"], description=p["description"])
                for p in self.view.paginator.get_schema_operation_parameters(self.view)
            ]
        return parameters

    @staticmethod
    def list_parameter(name, items, description, **extra):
        return OpenApiParameter(
            name,
            comma_list(items, **({"minItems": 1} | extra)),
            description=description,
            style="form",
            explode=False,
        )

    # Documents.

    def related_schema(self):
        return self.resource.related_schema(self.member)

    def get_request_serializer(self):
        if self.action in ("create", "partial_update"):
            partial = self.action == "partial_update"
            resource = self.resource
            return Document(
                component_name(resource.type, "UpdateDocument" if partial else "CreateDocument"),
                lambda auto: ResourceDescriber(auto, resource).write_document(partial),
            )
        if self.action == "upload_target":
            resource, serializer_class = self.resource, self.view.upload_target_serializer
            return Document(
                component_name(resource.type, "UploadTargetRequestDocument"),
                lambda auto: ResourceDescriber(auto, resource).upload_target_request(
                    serializer_class
                ),
            )
        if self.action == "update_relationship":
            rel = self.related_rel
            name = component_name(self.resource.type, f"{self.member}-linkage-document")
            return Document(
                name,
                lambda auto: obj({"data": ResourceDescriber.linkage(rel, request=True)}, ["data"]),
            )
        return None

    def get_response_serializers(self):
        responses = {}
        success = self.success_document()
        if self.action == "destroy" and self.view.answer_deleted:
            responses[200] = OpenApiResponse(success, description="Deleted: what it was.")
        elif self.action == "destroy":
            responses[204] = OpenApiResponse(description="Deleted.")
        elif self.action == "create":
            responses[201] = OpenApiResponse(success, description="Created.")
        elif self.custom_action:
            custom = self.custom_action
            responses[custom["status"]] = OpenApiResponse(
                success, description=custom["description"]
            )
        else:
            responses[200] = OpenApiResponse(success, description="OK.")
        return {**responses, **error_responses(self.error_statuses())}

    def error_statuses(self):
        statuses = {400, 401, 403, 406, 429}
        if "{" in self.path or self.method == "POST":
            statuses.add(404)  # no such resource, or no such related resource
        if self.method in ("POST", "PATCH"):
            statuses |= {409, 415, 422}
        if self.method == "DELETE":
            statuses.add(409)
        return sorted(statuses)

    def success_document(self):
        resource = self.resource
        if self.action == "list":
            return self.collection_document(resource)
        if self.action == "create" and self.view.upload_purposes:
            return self.resource_document(resource, targets=list(self.view.upload_purposes))
        created_meta = getattr(self.view, "created_meta", None)
        if self.action == "create" and created_meta:
            return self.resource_document(resource, meta=created_meta)
        custom = self.custom_action
        if custom and custom.get("collection"):
            return self.collection_document(resource)
        if custom and custom.get("resource"):
            return self.resource_document(resource)
        if custom:
            name = component_name(f"{resource.type}-{self.action.replace('_', '-')}", "Document")
            return self.meta_document(name, lambda auto: dict(custom["meta"]))
        if self.action in ("retrieve", "create", "partial_update"):
            return self.resource_document(resource)
        if self.action == "destroy" and self.view.answer_deleted:
            return self.meta_document(
                component_name(resource.type, "DeletedDocument"),
                lambda auto: {"deleted": ResourceDescriber(auto, resource).resource()},
            )
        if self.action == "destroy":
            return None
        if self.action == "upload_targets":
            targets = list(self.view.upload_purposes)
            return self.meta_document(
                component_name(resource.type, "UploadTargetsDocument"),
                lambda auto: dict.fromkeys(targets, register_shared(auto, "UploadTarget")),
            )
        if self.action == "upload_target":
            meta = self.view.upload_target_meta
            return Document(
                component_name(resource.type, "UploadTargetDocument"),
                lambda auto: obj(
                    {
                        "jsonapi": register_shared(auto, "JsonApi"),
                        "meta": obj({meta: register_shared(auto, "UploadTarget")}, [meta]),
                    },
                    ["jsonapi", "meta"],
                ),
            )
        rel = self.related_rel
        if self.action == "related":
            related = self.related_schema()
            if rel.many:
                return self.collection_document(related)
            return self.resource_document(related, nullable=True)
        name = component_name(resource.type, f"{self.member}-relationship-document")
        return Document(
            name,
            lambda auto: obj(
                {
                    "jsonapi": register_shared(auto, "JsonApi"),
                    "links": obj({"self": LINK, "related": LINK}, ["self", "related"]),
                    "data": ResourceDescriber.linkage(rel),
                },
                ["jsonapi", "links", "data"],
            ),
        )

    def included(self, auto, resource):
        types = reachable_types(resource)
        refs = [ResourceDescriber(auto, schema).resource() for schema in types.values()]
        return {"type": "array", "items": {"oneOf": refs} if len(refs) > 1 else refs[0]}

    def resource_document(self, resource, nullable=False, targets=(), meta=None):
        """A document of one resource; with ``targets``, a created resource's, whose meta
        holds those upload targets; with ``meta`` ({member: JSON Schema}), a created
        resource's whose meta holds those members."""
        created = targets or meta
        suffix = "NullableDocument" if nullable else "CreatedDocument" if created else "Document"

        def build(auto):
            data = ResourceDescriber(auto, resource).resource()
            properties = {
                "jsonapi": register_shared(auto, "JsonApi"),
                "data": {"allOf": [data], "nullable": True} if nullable else data,
                "included": self.included(auto, resource),
                "links": obj({"self": LINK}, ["self"]),
            }
            required = ["jsonapi", "data", "links"]
            if targets:
                target = register_shared(auto, "UploadTarget")
                properties["meta"] = obj(dict.fromkeys(targets, target), list(targets))
                required.append("meta")
            if meta:
                properties["meta"] = obj(dict(meta), list(meta))
                required.append("meta")
            return obj(properties, required)

        return Document(component_name(resource.type, suffix), build)

    @staticmethod
    def meta_document(name, members):
        """A document of top-level ``meta`` only, with ``members(auto)`` in it."""

        def build(auto):
            meta = members(auto)
            return obj(
                {"jsonapi": register_shared(auto, "JsonApi"), "meta": obj(meta, list(meta))},
                ["jsonapi", "meta"],
            )

        return Document(name, build)

    def collection_document(self, resource):
        meta_component = self.view.paginator.meta_component

        def build(auto):
            data = ResourceDescriber(auto, resource).resource()
            links = {name: LINK for name in ("self", "first", "last", "prev", "next")}
            return obj(
                {
                    "jsonapi": register_shared(auto, "JsonApi"),
                    "data": {"type": "array", "items": data},
                    "included": self.included(auto, resource),
                    "links": obj(links, ["self", "first", "last"]),
                    "meta": obj({"page": register_shared(auto, meta_component)}, ["page"]),
                },
                ["jsonapi", "data", "links", "meta"],
            )

        return Document(component_name(resource.type, "CollectionDocument"), build)


def register_shared(auto_schema, name):
    return register(auto_schema, name, lambda: SHARED[name])


def error_responses(statuses):
    return {
        status: OpenApiResponse(Document("ErrorDocument", error_document), ERRORS[status])
        for status in statuses
    }


def error_document(auto_schema):
    register_shared(auto_schema, "JsonApi")
    register_shared(auto_schema, "Error")
    return ERROR_DOCUMENT


def index_document(auto_schema):
    register_shared(auto_schema, "JsonApi")
    return obj(
        {
            "jsonapi": ref("JsonApi"),
            "meta": obj(
                {"collections": {"type": "object", "additionalProperties": LINK}},
                ["collections"],
            ),
            "links": obj({"self": LINK, "describedby": LINK}, ["self", "describedby"]),
        },
        ["jsonapi", "meta", "links"],
    )


def link_created_resources(result, generator, request, public):
    """Postprocessing hook: OpenAPI links from each create to the operations that take the
    new resource's id (read, update, delete, where they exist), for clients and for
    schemathesis's stateful phase."""
    operations = {
        operation["operationId"]: (path, operation)
        for path, item in result["paths"].items()
        for operation in item.values()
    }
    for operation_id, (_, operation) in operations.items():
        if not operation_id.startswith("create-"):
            continue
        resource = operation_id.removeprefix("create-")
        links = {}
        targets = [f"{verb}-{resource}" for verb in ("get", "update", "delete")]
        item_path = operations.get(f"get-{resource}", ("",))[0]
        # The resource's own GET actions (a track's status and entities).
        targets += [
            target
            for target, (path, _) in operations.items()
            if item_path
            and path.startswith(f"{item_path}/")
            and path.count("{") == 1
            and target.startswith((f"get-{resource}-", f"list-{resource}-"))
        ]
        for target_id in targets:
            target = operations.get(target_id)
            if target:
                [name] = uritemplate.variables(target[0])
                parameters = {name: "$response.body#/data/id"}
                link_name = target_id.removesuffix(f"-{resource}").replace(f"-{resource}-", "-")
                links[link_name.title().replace("-", "")] = {
                    "operationId": target_id,
                    "parameters": parameters,
                }
        operation["responses"]["201"]["links"] = links
    return result
