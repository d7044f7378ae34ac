"""What the service knows about each resource type, computed once per serializer class.

A ``ResourceSchema`` lists a type's attributes and relationships under their JSON:API
member names, so that rendering, parsing, sparse fieldsets, sorting, includes and error
pointers all read one description instead of re-deriving it per row.
"""

from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch

from .tenancy import scoped

# The distribution seed names its timestamps in camelCase; every other member is dasherized.
MEMBER_NAMES = {"created_at": "createdAt", "updated_at": "updatedAt"}
MAX_INCLUDE_DEPTH = 3
# Each to-many relationship included costs one query; a path may cross at most two, so a
# request costs at most one query per path the description lists, whatever the page size.
MAX_TO_MANY_HOPS = 2

_serializers_by_type = {}


def member_name(field_name):
    return MEMBER_NAMES.get(field_name) or field_name.replace("_", "-")


def register(serializer_class):
    resource_type = serializer_class.Meta.resource_name
    _serializers_by_type[resource_type] = serializer_class


def schema_for_type(resource_type):
    try:
        return _serializers_by_type[resource_type].schema()
    except KeyError:
        return None


def known_types():
    return _serializers_by_type.keys()


def registered_schemas():
    return [serializer.schema() for serializer in _serializers_by_type.values()]


class ResourceSchema:
    def __init__(self, serializer_class):
        from .relations import Relationship

        meta = serializer_class.Meta
        self.serializer_class = serializer_class
        self.type = meta.resource_name
        self.path = getattr(meta, "resource_path", self.type)
        self.model = meta.model
        # The order of unsorted lists (ORM paths): the primary key unless Meta says, e.g.
        # creation order for UUID keys, whose order means nothing.
        self.ordering = tuple(getattr(meta, "ordering", ()))
        # The model field the resource's ``id`` is: the primary key, or a client-generated
        # identifier unique within an organization (``Meta.id_field``, e.g. a slug). A
        # client sends such an id when it creates the resource (JSON:API client-generated ids).
        self.id_field = getattr(meta, "id_field", "pk")
        self.client_ids = self.id_field != "pk"
        self.attributes = {}  # member name -> field name, for the attributes rendered
        self.relationships = {}  # member name -> Relationship (unbound template)
        self.fields = {}  # field name -> member name
        self.writable_attributes = {}
        self.writable_relationships = {}
        self.orm_paths = {}  # attribute member -> ORM lookup path, for sorting
        for name, field in serializer_class().fields.items():
            if name in ("id", self.id_field):
                continue
            member = member_name(name)
            self.fields[name] = member
            if "." not in field.source:
                self.fields.setdefault(field.source, member)  # model errors use the source name
            if isinstance(field, Relationship):
                field.bind_path(self.model)
                self.relationships[member] = field
                if not field.read_only:
                    self.writable_relationships[member] = name
            else:
                if not field.write_only:
                    self.attributes[member] = name
                    self.orm_paths[member] = field.source.replace(".", "__")
                if not field.read_only:
                    self.writable_attributes[member] = name
        # Attributes a client sets when it creates the resource, never after (Meta.create_only).
        create_only = {member_name(name) for name in getattr(meta, "create_only", ())}
        self.updatable_attributes = {
            member: name
            for member, name in self.writable_attributes.items()
            if member not in create_only
        }
        self.members = set(self.attributes) | set(self.writable_attributes)
        self.members |= set(self.relationships)

    def resource_id(self, instance):
        return str(getattr(instance, self.id_field))

    @cached_property
    def always_selected(self):
        """Joins needed to name related ids that live one hop away (track -> product.label),
        or in the related row itself when its id is not its primary key."""
        paths = []
        for rel in self.relationships.values():
            if rel.many:
                continue
            if rel.target_id_field != "pk":
                paths.append(rel.select_path)
            elif "__" in rel.select_path:
                paths.append(rel.select_path.rpartition("__")[0])
        return paths

    @cached_property
    def include_paths(self):
        """Every relationship path ``include`` takes: at most MAX_INCLUDE_DEPTH deep and
        crossing at most MAX_TO_MANY_HOPS to-many relationships. The query parser checks
        paths against it and the OpenAPI description lists it."""
        return self._paths(MAX_INCLUDE_DEPTH, "", 0)

    def _paths(self, depth, prefix, to_many):
        paths = []
        for member, rel in self.relationships.items():
            hops = to_many + rel.many
            if hops > MAX_TO_MANY_HOPS:
                continue
            path = f"{prefix}{member}"
            paths.append(path)
            if depth > 1:
                paths += self.related_schema(member)._paths(depth - 1, f"{path}.", hops)
        return paths

    def pointer(self, field_name):
        """Where an error on ``field_name`` points; a key that is a pointer already
        (``/data/attributes/unknown``) stays as it is."""
        if field_name.startswith("/"):
            return field_name
        field_name, _, inner = field_name.partition("/")  # "stream_conditions/usdc-purchase"
        if inner:
            return f"{self.pointer(field_name)}/{inner}"
        if field_name == self.id_field:
            return "/data/id"
        member = self.fields.get(field_name)
        if member is None:
            return "/data"
        section = "relationships" if member in self.relationships else "attributes"
        return f"/data/{section}/{member}"

    def related_schema(self, member):
        rel = self.relationships[member]
        schema = schema_for_type(rel.resource_type)
        if schema is None:
            raise ImproperlyConfigured(f"No serializer is registered for type {rel.resource_type}")
        return schema

    def queryset_for(self, queryset, include_tree, organization=None, back_reference=None):
        """Load ``include_tree`` with ``queryset``: one query for the rows and every to-one
        include (joined), plus one per to-many include, whose own to-one includes are joined
        into that query in turn. A request therefore costs one query per to-many level.
        To-many includes are narrowed to ``organization`` (see tenancy)."""
        select = [path for path in self.always_selected if path.split("__")[0] != back_reference]
        prefetch = []
        self._plan(include_tree, "", select, prefetch, organization)
        if select:
            queryset = queryset.select_related(*select)
        if prefetch:
            queryset = queryset.prefetch_related(*prefetch)
        return queryset

    def _plan(self, tree, prefix, select, prefetch, organization):
        for member, subtree in tree.items():
            rel, child = self.relationships[member], self.related_schema(member)
            path = prefix + rel.select_path
            if rel.many:
                rows = scoped(child.model._default_manager.all(), organization)
                rows = child.queryset_for(rows, subtree, organization, rel.back_reference)
                prefetch.append(Prefetch(path, queryset=rows))
            else:
                select.append(path)
                select.extend(f"{path}__{extra}" for extra in child.always_selected)
                child._plan(subtree, f"{path}__", select, prefetch, organization)
