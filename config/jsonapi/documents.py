"""Building JSON:API documents, and checking those clients send.

The builder works per type, not per row: for each resource type in a document it
resolves the serializer fields, the sparse fieldset and the link prefix once, then
fills resource objects with plain dictionary work. Links are built from the prefix
(``{base}{path}/{id}``) instead of reversing URLs for every row. Collections whose
members are all columns are rendered from rows without model instances (plans.py);
everything else from model instances, here.
"""

import functools

from django.urls import get_script_prefix
from rest_framework.fields import SkipField

from . import plans, tenancy
from .exceptions import Conflict, Forbidden, InvalidDocument
from .plans import attribute_plan

_ABSENT = object()

API_PREFIX = "api/v1/"


def api_base_url(request):
    return request.build_absolute_uri(f"{get_script_prefix()}{API_PREFIX}")


def relationship_links(self_link, member):
    return {"self": f"{self_link}/relationships/{member}", "related": f"{self_link}/{member}"}


class _TypeRenderer:
    """Everything needed to render resource objects of one type in one request."""

    def __init__(self, schema, context, base_url, sparse, fields=None):
        wanted = sparse.get(schema.type)
        wanted = None if wanted is None else frozenset(wanted)
        # The plans of the fields the class shares, cached, unless the request's own are
        # given (a write's) or needed (an attribute that renders differently per request).
        attributes = None
        if fields is None:
            attributes = plans.attribute_plans(schema.serializer_class, wanted)
            if attributes is None:
                fields = schema.serializer_class(context=context).fields
        if attributes is None:
            attributes = [
                (member, *attribute_plan(fields[name], schema.model))
                for member, name in schema.attributes.items()
                if wanted is None or member in wanted
            ]
        self.schema = schema
        self.prefix = f"{base_url}{schema.path}/"
        self.attributes = attributes
        self.relationships = [
            (member, rel)
            for member, rel in schema.relationships.items()
            if wanted is None or member in wanted
        ]

    def render(self, instance, include_tree):
        resource_id = self.schema.resource_id(instance)
        self_link = f"{self.prefix}{resource_id}"
        attributes = {}
        stored = instance.__dict__
        for member, attname, as_stored, stored_type, field in self.attributes:
            value = _ABSENT if attname is None else stored.get(attname, _ABSENT)
            if value is _ABSENT:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            if value is None or (as_stored and (stored_type is None or type(value) is stored_type)):
                attributes[member] = value
            else:
                attributes[member] = field.to_representation(value)
        relationships = {}
        for member, rel in self.relationships:
            relationship = {"links": relationship_links(self_link, member)}
            if not rel.many:
                relationship["data"] = rel.identifier(instance)
            elif member in include_tree:
                relationship["data"] = [
                    {"type": rel.resource_type, "id": rel.related_id(obj)}
                    for obj in rel.related_objects(instance)
                ]
            relationships[member] = relationship
        resource = {"type": self.schema.type, "id": resource_id}
        if attributes:
            resource["attributes"] = attributes
        if relationships:
            resource["relationships"] = relationships
        resource["links"] = {"self": self_link}
        return resource


class DocumentBuilder:
    def __init__(self, request, query, context):
        self.context = context
        self.base_url = api_base_url(request)
        self.query = query
        self._renderers = {}

    def renderer(self, schema, fields=None):
        if schema.type not in self._renderers:
            self._renderers[schema.type] = _TypeRenderer(
                schema, self.context, self.base_url, self.query.fields, fields
            )
        return self._renderers[schema.type]

    def render_with(self, serializer):
        """Render ``serializer``'s type with the fields it has built for this request
        (a write's), rather than building them again."""
        self.renderer(serializer.schema(), serializer.fields)

    def self_link(self, schema, instance):
        return f"{self.base_url}{schema.path}/{schema.resource_id(instance)}"

    def single(self, schema, instance, links=None):
        document = {
            "data": None if instance is None else self._primary(schema, [instance])[0],
            "links": links or {"self": self.self_link(schema, instance)},
        }
        self._add_included(document, schema, [] if instance is None else [instance])
        return document

    def collection_reading(self, schema):
        """How to read and render a page of ``schema``'s collection: ``(read, render)``, where
        ``read`` turns the page's queryset into its rows and ``render`` the rows into the
        document. Rows of columns (plans.CollectionReading) when this request's fieldsets
        and includes are all columns, else model instances."""
        reading = self.row_reading(schema)
        if reading is None:
            return list, functools.partial(self.collection, schema)
        return reading.read, reading.document

    def row_reading(self, schema):
        """How to read and render one resource of ``schema`` as a row of columns (its
        ``read`` and ``single``), or None when this request's fieldsets and includes are
        not all columns."""
        plan = plans.document_plan(schema, self.query.include, self.query.fields)
        return None if plan is None else plans.reading(plan, self.base_url)

    def collection(self, schema, instances, links=None):
        document = {"data": self._primary(schema, instances)}
        if links:
            document["links"] = links
        self._add_included(document, schema, instances)
        return document

    def linkage(self, rel, instance):
        if rel.many:
            organization = tenancy.context_organization(self.context)
            related = tenancy.scoped(rel.related_queryset(instance), organization)
            return [
                {"type": rel.resource_type, "id": str(related_id)}
                for related_id in related.values_list(rel.target_id_field, flat=True)
            ]
        return rel.identifier(instance)

    def _primary(self, schema, instances):
        renderer = self.renderer(schema)
        return [renderer.render(instance, self.query.include) for instance in instances]

    def _add_included(self, document, schema, instances):
        if not self.query.include:
            return
        seen = {(schema.type, schema.resource_id(instance)) for instance in instances}
        included = []
        self._include(schema, instances, self.query.include, seen, included)
        document["included"] = included

    def _include(self, schema, instances, tree, seen, included):
        for member, subtree in tree.items():
            rel = schema.relationships[member]
            child = schema.related_schema(member)
            renderer = self.renderer(child)
            related = [obj for instance in instances for obj in rel.related_objects(instance)]
            for obj in related:
                key = (child.type, child.resource_id(obj))
                if key not in seen:
                    seen.add(key)
                    included.append(renderer.render(obj, subtree))
            if subtree:
                self._include(child, related, subtree, seen, included)


def _check_identifier(identifier, pointer):
    if not isinstance(identifier, dict):
        raise InvalidDocument("A resource identifier must be an object.", pointer)
    for member in ("type", "id"):
        if not isinstance(identifier.get(member), str):
            raise InvalidDocument(f"'{member}' must be a string.", f"{pointer}/{member}")


def _check_linkage(linked, pointer):
    """Resource linkage: null, one resource identifier, or an array of them."""
    if isinstance(linked, list):
        for index, identifier in enumerate(linked):
            _check_identifier(identifier, f"{pointer}/{index}")
    elif linked is not None:
        _check_identifier(linked, pointer)


def primary_data(document):
    """The primary data of a request document, once its top level is checked.

    JSON:API 1.1 (Document Structure, Top Level): a request carries ``data``; ``errors``
    must not coexist with it (and a request has no errors to report); ``meta``, ``jsonapi``
    and ``links`` are objects. ``included`` is a member the spec defines, but this server
    does not create resources from it (no sideposting), so it is refused rather than
    silently dropped. Members the spec does not define are ignored, as it asks.
    """
    if not isinstance(document, dict):
        raise InvalidDocument("The document must be a JSON object.", "")
    if "errors" in document:
        raise InvalidDocument("A request document cannot carry 'errors'.", "/errors")
    if "data" not in document:
        raise InvalidDocument("The document must have a 'data' member.", "")
    for member in ("meta", "jsonapi", "links"):
        if member in document and not isinstance(document[member], dict):
            raise InvalidDocument(f"'{member}' must be an object.", f"/{member}")
    if "included" in document:
        raise InvalidDocument(
            "Included resources are not created from a request: send each on its own.",
            "/included",
        )
    return document["data"]


def linkage_data(document):
    """The ``data`` of a relationship document: null, an identifier, or a list of them."""
    data = primary_data(document)
    _check_linkage(data, "/data")
    return data


def resource_object(document, resource_type, resource_id=None, client_ids=False):
    """Check a create (no ``resource_id``) or update document and return its resource object;
    ``client_ids``: a create names the new resource's id (JSON:API client-generated ids),
    returned as the resource object's ``id``."""
    data = primary_data(document)
    if not isinstance(data, dict):
        raise InvalidDocument("'data' must be a resource object.", "/data")
    if not isinstance(data.get("type"), str):
        raise InvalidDocument("The resource object needs a 'type' string.", "/data/type")
    if data["type"] != resource_type:
        raise Conflict(
            f"This endpoint takes '{resource_type}' resources, not '{data['type']}'.",
            "/data/type",
            "type_conflict",
        )
    if resource_id is None and client_ids:
        if not isinstance(data.get("id"), str):
            raise InvalidDocument(
                f"A new {resource_type} resource needs its 'id' (a string): the client names it.",
                "/data/id",
            )
    elif resource_id is None:
        if "id" in data or "lid" in data:
            raise Forbidden(
                "Client-generated ids are not supported; the server assigns the id.", "/data/id"
            )
    else:
        if not isinstance(data.get("id"), str):
            raise InvalidDocument("The resource object needs an 'id' string.", "/data/id")
        if data["id"] != str(resource_id):
            raise Conflict(
                f"The id '{data['id']}' does not match the URL's id '{resource_id}'.",
                "/data/id",
                "id_conflict",
            )
    for section in ("attributes", "relationships"):
        if not isinstance(data.get(section, {}), dict):
            raise InvalidDocument(f"'{section}' must be an object.", f"/data/{section}")
    for member in ("type", "id"):
        if member in data.get("attributes", {}) or member in data.get("relationships", {}):
            raise InvalidDocument(
                f"'{member}' cannot be an attribute or relationship.", f"/data/attributes/{member}"
            )
    relationships = {}
    for member, relationship in data.get("relationships", {}).items():
        pointer = f"/data/relationships/{member}"
        if not isinstance(relationship, dict) or "data" not in relationship:
            raise InvalidDocument("A relationship must be an object with 'data'.", pointer)
        _check_linkage(relationship["data"], f"{pointer}/data")
        relationships[member] = relationship["data"]
    resource = {"attributes": data.get("attributes", {}), "relationships": relationships}
    if resource_id is None and client_ids:
        resource["id"] = data["id"]
    return resource
