"""JSON:API Atomic Operations (https://jsonapi.org/ext/atomic) at ``/api/v1/operations``.

A request carries ``atomic:operations``; they run in order, in one transaction, all or
nothing. Each operation becomes the request its resource's own endpoint would get
(``add``: a POST to the collection; ``update``: a PATCH of the resource or relationship;
``remove``: a DELETE) and is dispatched to that endpoint's view, so it meets exactly the
same parsing, validation, organization scope, permissions and rendering; an endpoint that
does not allow a method cannot be reached through operations either. The caller's
authentication and organization are resolved once, for the whole request.

Local ids (``lid``) are checked before anything runs: declared once, by an ``add``, before
they are used, and used with the type they were declared with. A failing operation stops
the request; its errors point into it (``/atomic:operations/3/data/attributes/name``).
"""

import copy
import io
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest
from django.urls import Resolver404, get_script_prefix, resolve
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config import storage

from . import JSONAPI_MEDIA_TYPE, tenancy
from .documents import API_PREFIX
from .exceptions import error_document, error_object
from .negotiation import JsonApiContentNegotiation, _is_jsonapi, accepted_ranges, content_type
from .openapi import (
    ID_PATTERN,
    Document,
    JsonApiDocumentSchema,
    ResourceDescriber,
    error_responses,
    obj,
    organization_parameter,
    register_shared,
)
from .parsers import JsonApiParser
from .relations import RESOURCE_ID, forget_referenced_rows, reuse_referenced_rows
from .renderers import JsonApiRenderer
from .schema import registered_schemas, schema_for_type
from .views import ResourceViewSet

ATOMIC_EXTENSION = "https://jsonapi.org/ext/atomic"
ATOMIC_MEDIA_TYPE = f'{JSONAPI_MEDIA_TYPE}; ext="{ATOMIC_EXTENSION}"'
OPERATIONS = "/atomic:operations"
OPS = ("add", "update", "remove")


def takes_atomic(media_type):
    """A JSON:API media type naming the atomic extension and nothing this endpoint lacks."""
    params = media_type.params
    return (
        _is_jsonapi(media_type)
        and set(params) <= {"ext", "profile"}
        and set(params.get("ext", "").split()) == {ATOMIC_EXTENSION}
    )


class AtomicNegotiation(JsonApiContentNegotiation):
    """The body must be JSON:API with the atomic extension (else 415), and ``Accept`` must
    admit the extension's media type (else 406): */*, application/*, or JSON:API naming
    the extension."""

    def select_parser(self, request, parsers):
        media_type = content_type(request)
        return parsers[0] if media_type is not None and takes_atomic(media_type) else None

    def select_renderer(self, request, renderers, format_suffix=None):
        ranges = accepted_ranges(request)
        content_type(request)
        admitted = [
            media_range
            for media_range in ranges
            if media_range.q > 0
            and (
                (media_range.type, media_range.subtype) in (("*", "*"), ("application", "*"))
                or takes_atomic(media_range)
            )
        ]
        if not admitted:
            raise exceptions.NotAcceptable(
                f"This endpoint answers {ATOMIC_MEDIA_TYPE}, which Accept does not admit."
            )
        return renderers[0], renderers[0].media_type


class AtomicParser(JsonApiParser):
    media_type = ATOMIC_MEDIA_TYPE


class AtomicRenderer(JsonApiRenderer):
    media_type = ATOMIC_MEDIA_TYPE


class ForwardedAuthentication(BaseAuthentication):
    """An operation acts as the request that carries it, authenticated once."""

    def authenticate(self, request):
        return request._request.operation_auth


class Failed(Exception):
    """An operation failed: ``errors`` (error objects, pointers rooted at it), ``status``."""

    def __init__(self, status_code, errors):
        super().__init__(status_code)
        self.status_code = status_code
        self.errors = errors


def invalid(detail, pointer, code="invalid_operation"):
    return Failed(400, [error_object(400, detail, code, pointer=pointer)])


def read_operations(document):
    """The operations of a request document, their shape checked (400s)."""
    if not isinstance(document, dict):
        raise invalid("The document must be a JSON object.", "")
    for member in ("data", "included", "errors"):
        if member in document:
            raise invalid(f"An operations document has no '{member}'.", f"/{member}")
    operations = document.get(OPERATIONS[1:])
    if not isinstance(operations, list) or not operations:
        raise invalid("'atomic:operations' must be a non-empty array.", OPERATIONS)
    limit = settings.ATOMIC_MAX_OPERATIONS
    if len(operations) > limit:
        detail = f"A request holds at most {limit} operations; this one has {len(operations)}."
        raise invalid(detail, OPERATIONS, "too_many_operations")
    for index, operation in enumerate(operations):
        check_operation(operation, f"{OPERATIONS}/{index}")
    return operations


def check_operation(operation, pointer):
    if not isinstance(operation, dict):
        raise invalid("An operation is an object.", pointer)
    if operation.get("op") not in OPS:
        raise invalid("'op' is add, update or remove.", f"{pointer}/op")
    if "ref" in operation and "href" in operation:
        raise invalid("An operation has 'ref' or 'href', not both.", f"{pointer}/href")
    ref = operation.get("ref")
    if ref is not None:
        if not isinstance(ref, dict) or not isinstance(ref.get("type"), str):
            raise invalid("'ref' is an object with a 'type' string.", f"{pointer}/ref")
        if ("id" in ref) == ("lid" in ref) or not isinstance(ref.get("id", ref.get("lid")), str):
            raise invalid("'ref' has an 'id' or a 'lid' string.", f"{pointer}/ref")
        if not isinstance(ref.get("relationship", ""), str):
            raise invalid("'relationship' is a string.", f"{pointer}/ref/relationship")
    if "href" in operation and not isinstance(operation["href"], str):
        raise invalid("'href' is a string.", f"{pointer}/href")
    if "meta" in operation and not isinstance(operation["meta"], dict):
        raise invalid("'meta' is an object.", f"{pointer}/meta")
    op, data = operation["op"], operation.get("data")
    relationship = ref is not None and "relationship" in ref
    if op in ("add", "update") and "data" not in operation:
        raise invalid(f"An '{op}' operation needs 'data'.", pointer)
    if op == "remove" and "data" in operation and not relationship:
        raise invalid("A 'remove' of a resource takes no 'data'.", f"{pointer}/data")
    untargeted = op in ("update", "remove") and ref is None and "href" not in operation
    if untargeted and not (op == "update" and isinstance(data, dict)):
        raise invalid(f"An '{op}' operation needs 'ref' or 'href'.", pointer)
    if op == "add" and not relationship and not isinstance(data, dict):
        raise invalid("'data' must be a resource object.", f"{pointer}/data")


def declared_type(lids, lid, resource_type, pointer):
    if lid not in lids:
        raise invalid(
            f"The lid '{lid}' is not declared by an earlier 'add'.", pointer, "unknown_lid"
        )
    if lids[lid] != resource_type:
        raise invalid(
            f"The lid '{lid}' names a {lids[lid]} resource, not {resource_type}.",
            pointer,
            "lid_type_conflict",
        )


def check_lids(operations):
    """Every lid declared once (by an add), before it is used, with its type: checked
    before anything is written."""
    lids = {}
    for index, operation in enumerate(operations):
        pointer = f"{OPERATIONS}/{index}"
        ref = operation.get("ref") or {}
        if "lid" in ref:
            declared_type(lids, ref["lid"], ref["type"], f"{pointer}/ref/lid")
        for where, identifier in identifiers(operation.get("data"), f"{pointer}/data"):
            if isinstance(identifier, dict) and "lid" in identifier:
                lid, resource_type = identifier["lid"], identifier.get("type")
                if not isinstance(lid, str):
                    raise invalid("'lid' is a string.", f"{where}/lid")
                declared_type(lids, lid, resource_type, f"{where}/lid")
        data = operation.get("data")
        updated_by_lid = operation["op"] == "update" and isinstance(data, dict) and "lid" in data
        if updated_by_lid and "relationship" not in ref:
            if not isinstance(data["lid"], str):
                raise invalid("'lid' is a string.", f"{pointer}/data/lid")
            declared_type(lids, data["lid"], data.get("type"), f"{pointer}/data/lid")
        declares = operation["op"] == "add" and isinstance(data, dict) and "lid" in data
        if declares and not ref:
            lid = data["lid"]
            if not isinstance(lid, str) or not lid:
                raise invalid("'lid' is a non-empty string.", f"{pointer}/data/lid")
            if lid in lids:
                raise invalid(f"The lid '{lid}' is declared twice.", f"{pointer}/data/lid",
                              "duplicate_lid")  # fmt: skip
            lids[lid] = data.get("type")


def identifiers(data, pointer):
    """(pointer, identifier) of the resource identifiers in ``data``: a resource object's
    relationships, or relationship linkage itself; the resource itself when it is updated
    by its lid."""
    if isinstance(data, list):
        return [(f"{pointer}/{i}", identifier) for i, identifier in enumerate(data)]
    if not isinstance(data, dict):
        return []
    found = []
    relationships = data.get("relationships")
    if isinstance(relationships, dict):
        for member, relationship in relationships.items():
            linkage = relationship.get("data") if isinstance(relationship, dict) else None
            where = f"{pointer}/relationships/{member}/data"
            if isinstance(linkage, list):
                found += [(f"{where}/{i}", item) for i, item in enumerate(linkage)]
            elif isinstance(linkage, dict):
                found.append((where, linkage))
    if "attributes" not in data and "relationships" not in data and "lid" in data:
        found.append((pointer, data))  # linkage of a to-one relationship
    return found


class Step(NamedTuple):
    """An operation, planned as the request to its endpoint."""

    index: int
    operation: dict
    pointer: str
    method: str
    path: str
    body: dict | None
    target: str


class Runner:
    """Runs operations in order as requests to their resources' endpoints."""

    def __init__(self, request):
        self.request = request
        self.ids = {}  # lid -> id, as adds assign them
        self.views = {}
        self.batch = []  # consecutive adds validated by their endpoints, not yet inserted
        self.deferred = None

    def run(self, operations):
        results = [None] * len(operations)
        for index, operation in enumerate(operations):
            if self.batch and not self.joins_batch(operation):
                self.insert_batch(results)
            pointer = f"{OPERATIONS}/{index}"
            step = Step(index, operation, pointer, *self.plan(operation, pointer))
            if operation["op"] != "add":
                forget_referenced_rows()  # an update or removal may change the rows read
            response = self.perform(step, batched=operation["op"] == "add")
            if self.deferred is not None:
                self.batch.append((step, *self.deferred))
                self.deferred = None
            else:  # an add the endpoint saved at once (it sets to-many relationships) too
                results[index] = self.result(operation, response, step.path)
        self.insert_batch(results)
        return results

    def perform(self, step, batched=False):
        response = self.dispatch(
            step.method, step.path, step.body, f"{step.pointer}/{step.target}", batched
        )
        if response.status_code >= 400:
            transaction.set_rollback(True)
            raise Failed(response.status_code, relocated(response.data, step.pointer, step.target))
        return response

    # Consecutive adds of one type, where the endpoint's create is the INSERT of the
    # validated row only (ResourceViewSet.batches_creates), are each validated by their
    # endpoint as they come, then inserted together and read again in one query each.

    def joins_batch(self, operation):
        """Whether ``operation`` may wait for the batch's INSERT: an add of the same type
        that names none of the batch's lids (their ids are known once it is inserted)."""
        data = operation.get("data")
        first = self.batch[0][0].operation["data"]
        if operation["op"] != "add" or not isinstance(data, dict):
            return False
        if data.get("type") != first.get("type"):
            return False
        pending = {step.operation["data"].get("lid") for step, _, _ in self.batch} - {None}
        return not any(
            isinstance(identifier, dict) and identifier.get("lid") in pending
            for _, identifier in identifiers(data, "")
        )

    def defer(self, view, serializer):
        """Called by the endpoint's create, validated: its row is inserted with the batch."""
        self.deferred = (view, serializer)
        return Response(status=status.HTTP_201_CREATED)

    def insert_batch(self, results):
        """Insert the batch's rows in one statement (or as few as the database's limit on
        parameters allows) and answer each of its operations, in ``results``, as its
        endpoint would. If the database refuses (a uniqueness rule among the rows or with
        a row of another transaction), the operations run again one by one: the one at
        fault answers as it would alone."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        model = batch[0][1].resource_schema.model
        rows = [model(**serializer.validated_data) for _, _, serializer in batch]
        try:
            with transaction.atomic():
                model._default_manager.bulk_create(rows)
        except IntegrityError:
            for step, _, _ in batch:
                results[step.index] = self.result(step.operation, self.perform(step), step.path)
            return
        first = batch[0][1]
        written = first._loading(first.queryset.all()).in_bulk([row.pk for row in rows])
        for (step, view, _), row in zip(batch, rows, strict=True):
            results[step.index] = self.result(
                step.operation, view.created(written[row.pk]), step.path
            )

    def plan(self, operation, pointer):
        """(method, path, body, what names the target) of an operation."""
        op, ref = operation["op"], operation.get("ref")
        data = self.resolved(copy.deepcopy(operation.get("data")))
        method = {"add": "POST", "update": "PATCH", "remove": "DELETE"}[op]
        if "href" in operation:
            path, target = self.href_path(operation["href"], f"{pointer}/href"), "href"
        elif ref is not None:
            path, target = self.ref_path(ref, f"{pointer}/ref"), "ref"
        elif op == "update":
            path, target = self.ref_path(data, f"{pointer}/data"), "data"
        else:
            path, target = self.collection_path(data.get("type"), f"{pointer}/data/type"), "data"
        if op == "add" and isinstance(data, dict):
            data.pop("lid", None)
        if op in ("add", "remove") and "/relationships/" in path:
            detail = "Members of a to-many relationship are not added or removed: its "
            detail += "endpoint is read-only."
            raise Failed(403, [error_object(403, detail, "operation_forbidden", f"{pointer}/op")])
        body = None if op == "remove" else {"data": data}
        return method, path, body, target

    def resolved(self, data):
        """``data`` with every lid whose id is known replaced by it."""
        for _, identifier in identifiers(data, ""):
            if isinstance(identifier, dict) and self.known(identifier.get("lid")):
                identifier["id"] = self.ids[identifier.pop("lid")]
        if isinstance(data, dict) and self.known(data.get("lid")) and "id" not in data:
            data["id"] = self.ids[data.pop("lid")]
        return data

    def known(self, lid):
        return isinstance(lid, str) and lid in self.ids

    def collection_path(self, resource_type, pointer):
        schema = schema_for_type(resource_type) if isinstance(resource_type, str) else None
        if schema is None:
            raise invalid(f"There is no resource type '{resource_type}'.", pointer, "unknown_type")
        return f"/{API_PREFIX}{schema.path}"

    def ref_path(self, ref, pointer):
        if not isinstance(ref, dict):
            raise invalid("The operation needs a target.", pointer)
        path = self.collection_path(ref.get("type"), f"{pointer}/type")
        resource_id = ref["id"] if "id" in ref else self.ids.get(ref.get("lid"))
        if not isinstance(resource_id, str):
            raise invalid("The target needs an 'id' string.", f"{pointer}/id")
        if not RESOURCE_ID.fullmatch(resource_id):
            detail = f"There is no {ref['type']} resource with id '{resource_id}'."
            raise Failed(404, [error_object(404, detail, "not_found", pointer=f"{pointer}/id")])
        path = f"{path}/{resource_id}"
        if ref.get("relationship"):
            path = f"{path}/relationships/{ref['relationship']}"
        return path

    def href_path(self, href, pointer):
        try:
            parts = urlsplit(href)
        except ValueError:  # a malformed authority ("http://[")
            raise invalid("'href' is not a URL.", pointer) from None
        prefix = get_script_prefix()
        if parts.query or parts.fragment or not parts.path.startswith(f"{prefix}{API_PREFIX}"):
            raise invalid(f"'href' is a URL of this API's resources, without a query "
                          f"({prefix}{API_PREFIX}...).", pointer)  # fmt: skip
        return "/" + parts.path.removeprefix(prefix)

    def dispatch(self, method, path, body, pointer, batched=False):
        """The response of the resource endpoint at ``path`` to this operation's request;
        ``batched``: an add, whose row waits for the batch where the endpoint allows."""
        try:
            match = resolve(path)
        except Resolver404:
            raise Failed(404, [error_object(404, "No resource exists at this URL.", "not_found",
                                            pointer=pointer)]) from None  # fmt: skip
        view_class = getattr(match.func, "cls", None)
        actions = getattr(match.func, "actions", None)
        if actions is None or not issubclass(view_class, ResourceViewSet):
            raise Failed(404, [error_object(404, "Operations reach resources only.", "not_found",
                                            pointer=pointer)])  # fmt: skip
        if method.lower() not in actions:
            detail = f"The endpoint {path} does not allow {method}: neither do operations."
            raise Failed(403, [error_object(403, detail, "operation_forbidden", pointer=pointer)])
        key = (view_class, tuple(sorted(actions.items())))
        if key not in self.views:
            self.views[key] = view_class.as_view(
                actions,
                **getattr(match.func, "initkwargs", {}),
                authentication_classes=[ForwardedAuthentication],
                throttle_classes=[],
            )
        request = self.subrequest(method, path, body)
        if batched and view_class.batches_creates():
            request.create_batch = self
        return self.views[key](request, *match.args, **match.kwargs)

    def subrequest(self, method, path, body):
        parent = self.request._request
        payload = b"" if body is None else JsonApiRenderer().render(body)
        sub = HttpRequest()
        sub.method = method
        sub.path_info = path
        sub.path = get_script_prefix().rstrip("/") + path
        sub.META = {
            **parent.META,
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": JSONAPI_MEDIA_TYPE,
            "CONTENT_LENGTH": str(len(payload)),
            "HTTP_ACCEPT": JSONAPI_MEDIA_TYPE,
        }
        sub._stream, sub._read_started = io.BytesIO(payload), False
        sub.operation_auth = (self.request.user, self.request.auth)
        sub._organization = self.request._organization
        sub._role = self.request._role
        return sub

    def result(self, operation, response, path):
        """The operation's entry of ``atomic:results``; an add records its lid's id."""
        document = response.data or {}
        if "/relationships/" in path:
            return {}
        result = {}
        if isinstance(document.get("data"), dict):
            result["data"] = document["data"]
            lid = (operation.get("data") or {}).get("lid")
            if operation["op"] == "add" and lid is not None:
                self.ids[lid] = document["data"]["id"]
        if document.get("meta"):
            result["meta"] = document["meta"]
        return result


def relocated(document, pointer, target):
    """The errors of an operation's response, their pointers rooted at the operation;
    those about the request as a whole (no pointer: the target is missing, not allowed)
    point at what named the target."""
    errors = []
    for error in (document or {}).get("errors", []):
        error = dict(error)
        source = error.get("source") or {}
        if "pointer" in source:
            error["source"] = {"pointer": f"{pointer}{source['pointer']}"}
        elif not source:
            error["source"] = {"pointer": f"{pointer}/{target}"}
        errors.append(error)
    return errors


class OperationsSchema(JsonApiDocumentSchema):
    """The operations endpoint in the description: every add, update and remove the
    resources' own endpoints allow, one branch per type, with the extension's media type."""

    def map_parsers(self):
        return [ATOMIC_MEDIA_TYPE]

    def map_renderers(self, attribute):
        return [ATOMIC_MEDIA_TYPE]

    def get_operation_id(self):
        return "run-operations"

    def get_summary(self):
        return "Run add, update and remove operations in one all-or-nothing request"

    def get_description(self):
        return (
            "JSON:API Atomic Operations (https://jsonapi.org/ext/atomic): the operations run "
            "in order, in one transaction, as the requests of the resources' own endpoints "
            "(add: POST to the collection; update: PATCH of the resource or of a to-one "
            "relationship, by ref or href; remove: DELETE), with the same validation and "
            "permissions. An add may declare a lid; later operations name the new resource "
            "by it (in ref, and as {type, lid} in relationships) instead of an id. Lids are "
            "checked before anything runs (400: duplicate, unknown, used before it is "
            "declared or with another type). The first failing operation rolls back "
            "everything; its errors point into it (/atomic:operations/3/data/attributes/...). "
            f"At most {settings.ATOMIC_MAX_OPERATIONS} operations (400 beyond)."
        )

    def get_tags(self):
        return ["operations"]

    def get_override_parameters(self):
        return [*super().get_override_parameters(), organization_parameter()]

    def get_request_serializer(self):
        return Document("OperationsDocument", operations_document)

    def get_response_serializers(self):
        results = Document("OperationsResultsDocument", results_document)
        return {
            200: OpenApiResponse(results, description="The results, in order."),
            204: OpenApiResponse(description="Done; no operation has data to answer."),
            **error_responses([400, 401, 403, 404, 406, 409, 415, 422, 429]),
        }


def routed(path, method):
    """Does the resource endpoint at ``path`` take ``method``?"""
    try:
        return method in getattr(resolve(path).func, "actions", {})
    except Resolver404:
        return False


def operations_document(auto_schema):
    branches = []
    for schema in sorted(registered_schemas(), key=lambda schema: schema.type):
        collection = f"/{API_PREFIX}{schema.path}"
        describer = ResourceDescriber(auto_schema, schema)
        name = schema.type
        target = obj(
            {"type": {"type": "string", "enum": [name]}, "id": {"type": "string",
             "pattern": ID_PATTERN}},
            ["type", "id"], additionalProperties=False,
        )  # fmt: skip
        if routed(collection, "post"):
            create = describer.register(
                "CreateDocument", lambda d=describer: d.write_document(False)
            )
            data = {"allOf": [{"$ref": create["$ref"] + "/properties/data"},
                              obj({"lid": {"type": "string", "minLength": 1}})]}  # fmt: skip
            branches.append(operation("add", data=data))
        if routed(f"{collection}/x", "patch"):
            update = describer.register(
                "UpdateDocument", lambda d=describer: d.write_document(True)
            )
            data = {"$ref": update["$ref"] + "/properties/data"}
            branches.append(operation("update", ref=target, data=data))
            for member, rel in schema.relationships.items():
                if rel.read_only or rel.many:
                    continue
                ref = obj({**target["properties"], "relationship": {"type": "string",
                           "enum": [member]}}, ["type", "id", "relationship"],
                          additionalProperties=False)  # fmt: skip
                branches.append(operation("update", ref=ref, data=describer.linkage(rel, True)))
        if routed(f"{collection}/x", "delete"):
            branches.append(operation("remove", ref=target))
    href = {"type": "string", "pattern": f"^/{API_PREFIX}[^?#]+$",
            "description": "A resource's URL path (its links.self)."}  # fmt: skip
    branches.append(operation("remove", href=href))
    items = {"oneOf": branches}
    operations = {"type": "array", "minItems": 1, "maxItems": settings.ATOMIC_MAX_OPERATIONS,
                  "items": items}  # fmt: skip
    return obj({"atomic:operations": operations}, ["atomic:operations"])


def operation(op, **members):
    properties = {"op": {"type": "string", "enum": [op]}, **members}
    return obj(properties, list(properties), additionalProperties=False)


def results_document(auto_schema):
    resources = [
        ResourceDescriber(auto_schema, schema).resource()
        for schema in sorted(registered_schemas(), key=lambda schema: schema.type)
    ]
    result = obj({"data": {"oneOf": resources}, "meta": {"type": "object"}},
                 description="An operation's result: the resource as its endpoint answers it "
                 "(with that answer's meta, such as upload targets), or {} for a remove or a "
                 "relationship update.")  # fmt: skip
    properties = {
        "jsonapi": register_shared(auto_schema, "JsonApi"),
        "atomic:results": {"type": "array", "items": result},
    }
    return obj(properties, list(properties))


class OperationsView(APIView):
    """POST /api/v1/operations: the atomic operations of one request, all or nothing."""

    permission_classes = [IsAuthenticated]
    parser_classes = [AtomicParser]
    renderer_classes = [AtomicRenderer]
    content_negotiation_class = AtomicNegotiation
    heavy_actions = ("post",)  # counted by the rate limit of bulk requests
    schema = OperationsSchema()

    def post(self, request, *args, **kwargs):
        if request.query_params:
            parameter = next(iter(request.query_params))
            raise exceptions.ParseError(f"The parameter '{parameter}' is not supported here.")
        try:
            operations = read_operations(request.data)
            check_lids(operations)
            tenancy.request_organization(request)  # once, before any operation
            with storage.atomic(), reuse_referenced_rows():
                results = Runner(request).run(operations)
        except Failed as failure:
            return Response(error_document(failure.errors), status=failure.status_code)
        except DatabaseError as exc:  # deferred constraints, checked at COMMIT
            return self.handle_exception(exc)
        if not any("data" in result for result in results):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"atomic:results": results})
