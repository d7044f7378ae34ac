"""The base viewset of every resource, and the API's URL-level error views.

A resource's viewset declares what it serves (``queryset``, ``serializer_class``,
``filterset_class``, ``sort_fields``); this class does the JSON:API work: query
parameters, documents, pagination, relationship and related endpoints.
"""

from django.core.exceptions import MultipleObjectsReturned, ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import ProtectedError, RestrictedError, signals
from django.http import Http404
from django.utils.cache import patch_vary_headers
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from config import storage, uploads

from . import tenancy
from .documents import DocumentBuilder, linkage_data, relationship_links, resource_object
from .exceptions import (
    Conflict,
    Forbidden,
    error_document,
    error_object,
    refused_request_error,
    server_error_response,
)
from .filters import filter_queryset, sort_queryset
from .middleware import is_api_path
from .query import QueryParameters
from .renderers import document_response

ACTION_PARAMETERS = {
    "list": {"include", "fields", "sort", "filter", "page"},
    "retrieve": {"include", "fields"},
    "create": {"include", "fields"},
    "partial_update": {"include", "fields"},
    "destroy": set(),
    "related": {"include", "fields", "page"},
    "relationship": set(),
    "update_relationship": set(),
    "upload_target": set(),
    "upload_targets": set(),
    "rotate_secret": set(),  # webhooks
    "redeliver": set(),  # webhooks
    "status": set(),  # soundcheck tracks
    "track_entities": {"include", "fields", "sort", "filter", "page"},  # soundcheck
}


def query_families(action, rel=None, options=()):
    """The query parameter families an action takes; a to-one related endpoint (``rel``)
    answers one resource or null, so it takes no ``page``."""
    families = ACTION_PARAMETERS.get(action, set()) | set(options)
    return families - {"page"} if rel is not None and not rel.many else families


class ResourceViewSet(viewsets.GenericViewSet):
    filterset_class = None
    sort_fields = ()
    # Query parameters of this resource's own, per action: {"destroy": {"cascade"}}.
    query_options = {}
    # Signed upload targets a created resource answers with in ``meta`` and gives again at
    # POST /{type}/{id}/upload-targets: {meta name: upload purpose} (config/uploads.py).
    upload_purposes = {}
    # DELETE answers 200 with the deleted resource object in ``meta.deleted`` (AudioDN's
    # ``deleted_track``) instead of 204.
    answer_deleted = False
    metadata_class = None  # OPTIONS is 405: the README documents the API
    query = None  # parsed after authentication, in initial()
    in_transaction = False  # dispatch runs a write in one
    # The serializer whose validated row this request is saving (see _save).
    saving = None

    def dispatch(self, request, *args, **kwargs):
        """A write runs in one transaction, rolled back with the files it stored when it
        fails; a read needs none. The database checks deferred constraints (foreign keys)
        at COMMIT, after the view has answered: such a failure becomes the answer."""
        if request.method in permissions.SAFE_METHODS or hasattr(request, "create_batch"):
            # A create of a batch writes nothing: the batch inserts, in its own transaction.
            return super().dispatch(request, *args, **kwargs)
        try:
            with storage.atomic():
                self.in_transaction = True
                try:
                    response = super().dispatch(request, *args, **kwargs)
                finally:
                    self.in_transaction = False
                if response.status_code >= 400:
                    transaction.set_rollback(True)
        except DatabaseError as exc:
            response = self.handle_exception(exc)
            return self.finalize_response(self.request, response, *args, **kwargs)
        return response

    def handle_exception(self, exc):
        """A database error inside the write's transaction is answered once dispatch has
        rolled it back: answering may need queries (``complete_errors``), which
        PostgreSQL refuses in a transaction that has failed."""
        if isinstance(exc, DatabaseError) and self.in_transaction:
            raise exc
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        """What a resource endpoint answers depends on the organization the request acts
        in, which the X-Organization header may name: caches must keep them apart."""
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, (tenancy.ORGANIZATION_HEADER,))
        return response

    @property
    def allowed_methods(self):
        return [method for method in super().allowed_methods if method != "OPTIONS"]

    @property
    def resource_schema(self):
        return self.get_serializer_class().schema()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action not in ACTION_PARAMETERS:
            return  # a method this route does not serve (OPTIONS too): DRF answers 405
        schema, rel = self.resource_schema, None
        if self.action == "related":
            member, rel = self._relationship()
            schema = schema.related_schema(member)
        options = self.query_options.get(self.action, ())
        self.query = QueryParameters(request, schema, query_families(self.action, rel, options))
        self.documents = DocumentBuilder(request, self.query, self.get_serializer_context())

    def check_permissions(self, request):
        """A method this route does not serve is a 405 for anyone authenticated, whatever
        their permissions (DRF would check the add/change/delete permission first)."""
        if self.action is None:
            if request.user is None:
                self.permission_denied(request)  # 401: not authenticated
            return
        super().check_permissions(request)

    def error_pointer(self, field_name):
        """Where a validation error on ``field_name`` points in the request document."""
        if self.action == "update_relationship" and not field_name.startswith("/"):
            return "/data"
        return self.resource_schema.pointer(field_name)

    @property
    def organization(self):
        """The organization this request acts in (None: a superuser acting in all)."""
        return tenancy.request_organization(self.request)

    def get_queryset(self):
        """The rows of the organization the request acts in: every endpoint starts here."""
        return tenancy.scoped(self._loading(super().get_queryset()), self.organization)

    def _loading(self, queryset):
        """``queryset`` loading what the document needs."""
        # On a related endpoint the include tree belongs to the related type, not to this one.
        include = self.query.include if self.query and self.action != "related" else {}
        return self.resource_schema.queryset_for(queryset, include, self.organization)

    def _written(self, instance):
        """The row this request has just written, read again for its document. The scope
        is not applied: the write happened in it, and a parent that a concurrent request
        deleted meanwhile must fail the write at COMMIT, not be a row that vanished."""
        return self._loading(self.queryset.all()).get(pk=instance.pk)

    def get_object(self):
        queryset = self.get_queryset()
        if self.request.method not in permissions.SAFE_METHODS:
            # Writes to one row take turns. A delete locks it fully: a second delete then
            # finds no row (404), and children created meanwhile are committed before it
            # looks for them. A change locks it against changes and deletes only (children
            # referring to it stay free to be created).
            no_key = self.action != "destroy"
            queryset = queryset.select_for_update(of=("self",), no_key=no_key)
        obj = find_object(queryset, self.resource_schema, self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    # Collection and resource endpoints.

    def list(self, request, *args, **kwargs):
        queryset = filter_queryset(
            self.get_queryset(),
            self.query.filters,
            self.filterset_class,
            request,
            self.resource_schema.type,
        )
        queryset = sort_queryset(queryset, self.query.sort, self.sort_fields, self.resource_schema)
        return self._paginated(queryset, self.resource_schema)

    def retrieve(self, request, *args, **kwargs):
        schema = self.resource_schema
        reading = self.documents.row_reading(schema) if self._finds_rows() else None
        if reading is None:
            return Response(self.documents.single(schema, self.get_object()))
        row = find_row(self.get_queryset(), schema, self.kwargs["pk"], reading.read)
        return Response(reading.single(row))

    def _finds_rows(self):
        """Whether a resource may be read as a row of columns, as a page is: when finding it
        is this class's ``get_object`` and no permission looks at the object."""
        unchecked = permissions.BasePermission.has_object_permission
        return type(self).get_object is ResourceViewSet.get_object and all(
            type(permission).has_object_permission is unchecked
            for permission in self.get_permissions()
        )

    def create(self, request, *args, **kwargs):
        schema = self.resource_schema
        resource = resource_object(request.data, schema.type, client_ids=schema.client_ids)
        serializer = self.get_serializer(data=resource, unique_by_database=True)
        serializer.is_valid(raise_exception=True)
        self.documents.render_with(serializer)
        batch = getattr(request, "create_batch", None)
        if batch is None:
            return self.created(self._written(self._save(serializer, self.perform_create)))
        fields = (schema.model._meta.get_field(name) for name in serializer.validated_data)
        if not any(field.many_to_many for field in fields):  # set after the INSERT
            return batch.defer(self, serializer)
        with transaction.atomic():  # dispatch left the transaction to the batch
            instance = self._save(serializer, self.perform_create)
        return self.created(self._written(instance))

    def created(self, instance):
        """The answer to a create that saved ``instance`` (read again for its document)."""
        document = self.documents.single(self.resource_schema, instance)
        if self.upload_purposes:
            document["meta"] = self._upload_targets(instance)
        headers = {"Location": document["links"]["self"]}
        return Response(document, status=status.HTTP_201_CREATED, headers=headers)

    @classmethod
    def batches_creates(cls):
        """Whether a create here is no more than the INSERT of the validated row, so that
        Atomic Operations may insert consecutive creates together (request.create_batch):
        no create or save step of the viewset's, the serializer's or the model's own, no
        signals on saving, no upload targets to issue."""
        serializer_class = cls.serializer_class
        model = serializer_class.Meta.model
        return (
            cls.create is ResourceViewSet.create
            and cls.perform_create is ResourceViewSet.perform_create
            and cls.get_serializer_class is ResourceViewSet.get_serializer_class
            and not cls.upload_purposes
            and serializer_class.create is serializers.ModelSerializer.create
            and serializer_class.save is serializers.BaseSerializer.save
            and model.save is models.Model.save
            and not signals.pre_save.has_listeners(model)
            and not signals.post_save.has_listeners(model)
            and connections[router.db_for_write(model)].features.can_return_rows_from_bulk_insert
        )

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        schema = self.resource_schema
        resource = resource_object(request.data, schema.type, schema.resource_id(instance))
        serializer = self.get_serializer(
            instance, data=resource, partial=True, unique_by_database=True
        )
        serializer.is_valid(raise_exception=True)
        self.documents.render_with(serializer)
        instance = self._written(self._save(serializer, self.perform_update))
        return Response(self.documents.single(self.resource_schema, instance))

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        if self.answer_deleted:
            deleted = self.documents.single(self.resource_schema, instance)["data"]
        try:
            self.perform_destroy(instance)
        except (ProtectedError, RestrictedError) as exc:
            raise Conflict(self._still_referenced(instance, exc), code="in_use") from exc
        if self.answer_deleted:
            return Response({"meta": {"deleted": deleted}})
        return Response(status=status.HTTP_204_NO_CONTENT)

    def upload_targets(self, request, *args, **kwargs):
        """New upload targets for a resource (they expire, and clients must not keep them)."""
        return Response({"meta": self._upload_targets(self.get_object())})

    def _upload_targets(self, instance):
        return {
            name: uploads.issue(self.request, purpose, instance.pk)
            for name, purpose in self.upload_purposes.items()
        }

    def _save(self, serializer, perform):
        """Save what ``serializer`` validated (with ``perform``), leaving uniqueness to the
        database: when its constraint fires, the exception handler asks the serializer for
        the errors a complete validation gives (``complete_errors``)."""
        self.saving = serializer
        return perform(serializer)

    def perform_create(self, serializer):
        return serializer.save()

    def perform_update(self, serializer):
        return serializer.save()

    def perform_destroy(self, instance):
        instance.delete()

    # Relationship endpoints: /{type}/{id}/relationships/{member} and /{type}/{id}/{member}.

    def _relationship(self):
        """The relationship this route serves (``resource_routes`` routes each by name)."""
        member = self.kwargs["member"]
        return member, self.resource_schema.relationships[member]

    def relationship(self, request, *args, **kwargs):
        member, rel = self._relationship()
        instance = self.get_object()
        links = relationship_links(self.documents.self_link(self.resource_schema, instance), member)
        return Response({"links": links, "data": self.documents.linkage(rel, instance)})

    def update_relationship(self, request, *args, **kwargs):
        member, rel = self._relationship()
        instance = self.get_object()
        if rel.read_only or rel.many:
            raise Forbidden(f"The relationship '{member}' cannot be changed here.", "/data")
        data = linkage_data(request.data)
        resource = {"relationships": {member: data}}
        serializer = self.get_serializer(
            instance, data=resource, partial=True, unique_by_database=True
        )
        serializer.is_valid(raise_exception=True)
        self._save(serializer, self.perform_update)
        return self.relationship(request, *args, **kwargs)

    def related(self, request, *args, **kwargs):
        member, rel = self._relationship()
        related_schema = self.resource_schema.related_schema(member)
        instance = self.get_object()
        links = {"self": request.build_absolute_uri(request.path)}
        if rel.many:
            queryset = tenancy.scoped(rel.related_queryset(instance), self.organization)
            queryset = related_schema.queryset_for(queryset, self.query.include, self.organization)
            return self._paginated(sort_queryset(queryset, [], (), related_schema), related_schema)
        identifier = rel.identifier(instance)
        target = None
        if identifier is not None:
            # The related row may be deleted between the two queries: then the relationship
            # is empty now, and null says so.
            lookup = {related_schema.id_field: identifier["id"]}
            queryset = related_schema.model._default_manager.filter(**lookup)
            queryset = tenancy.scoped(queryset, self.organization)
            target = related_schema.queryset_for(
                queryset, self.query.include, self.organization
            ).first()
        return Response(self.documents.single(related_schema, target, links=links))

    def _paginated(self, queryset, schema):
        read, render = self.documents.collection_reading(schema)
        page = self.paginator.paginate_queryset(queryset, self.request, self.query, read)
        return Response(self.paginator.paginate(render(page), len(page)))

    @staticmethod
    def _still_referenced(instance, exc):
        objects = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        counts = {}
        for obj in objects:
            name = obj._meta.verbose_name_plural
            counts[name] = counts.get(name, 0) + 1
        referrers = ", ".join(f"{count} {name}" for name, count in counts.items())
        name = instance._meta.verbose_name
        return f"This {name} cannot be deleted while {referrers} still refer to it."


def find_object(queryset, schema, resource_id):
    """The row of ``queryset`` whose resource id is ``resource_id``, or a 404. A client-named
    id is unique within an organization only: a request acting in every organization (a
    superuser naming none) may find several, and must name the one it means."""
    try:
        return get_object_or_404(queryset, **{schema.id_field: resource_id})
    except MultipleObjectsReturned as exc:
        raise _several(schema, resource_id) from exc


def find_row(queryset, schema, resource_id, read):
    """``find_object``, as ``read`` reads rows (plans.DocumentPlan.read): the same 404s
    (an id the field cannot take is not found, as DRF's ``get_object_or_404`` has it)."""
    try:
        rows = read(queryset.filter(**{schema.id_field: resource_id}).order_by()[:2])
    except (TypeError, ValueError, ValidationError) as exc:
        raise Http404 from exc
    if not rows:
        raise Http404
    if len(rows) > 1:
        raise _several(schema, resource_id)
    return rows[0]


def _several(schema, resource_id):
    return tenancy.OrganizationForbidden(
        f"Several organizations have a {schema.type} resource '{resource_id}': name "
        f"yours in the {tenancy.ORGANIZATION_HEADER} header.",
        "organization_required",
    )


def _error_response(error):
    return document_response(error_document([error]), status=int(error["status"]))


@csrf_exempt  # any method: an unknown URL is a 404, not a CSRF failure
def not_found(request, exception=None):
    """404 for any URL under /api/ that no route matches."""
    return _error_response(error_object(404, "No resource exists at this URL.", "not_found"))


# Django's error handlers (handler400, 403, 404 and 500 in the root URLconf) and its CSRF
# failure view: JSON:API documents under /api/, Django's own pages elsewhere (the admin).


def bad_request(request, exception):
    if not is_api_path(request.path_info):
        return defaults.bad_request(request, exception)
    return _error_response(refused_request_error(exception))


def permission_denied(request, exception):
    if not is_api_path(request.path_info):
        return defaults.permission_denied(request, exception)
    detail = "You do not have permission to perform this action."
    return _error_response(error_object(403, detail, "permission_denied"))


def page_not_found(request, exception):
    if not is_api_path(request.path_info):
        return defaults.page_not_found(request, exception)
    return not_found(request, exception)


def server_error(request):
    """A JSON:API document for API paths, without internals."""
    if not is_api_path(request.path_info):
        return defaults.server_error(request)
    return document_response(server_error_response().data, status=500)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. The API's views are CSRF-exempt (tokens, not cookies, authorise
    them), so under /api/ this only answers a view that forgot to be."""
    if not is_api_path(request.path_info):
        return csrf.csrf_failure(request, reason)
    return _error_response(error_object(403, f"CSRF verification failed: {reason}", "csrf_failed"))
