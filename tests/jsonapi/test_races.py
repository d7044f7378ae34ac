"""Concurrent writes on PostgreSQL: no 500, the loser gets the answer a request sent a
moment later would get, exactly one delete wins, and no stored file outlives its row.

Each request runs in a thread with its own database connection. ``Hold`` stops a thread's
request at a chosen SQL statement (an execute wrapper on that thread's connection: the
statements still run on the real database), so that another request can be started in
the gap; the test releases it once the other request has finished or is waiting on a
row lock (pg_stat_activity).
"""

import re
import sqlite3
import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import RequestFactory

from config import storage
from config.jsonapi.exceptions import integrity_response
from products.models import Label, Product
from products.views import LabelViewSet
from tests.client import JsonApiClient
from tests.factories import isrc, make_label, make_product, make_track, track_document
from tests.tracks.test_records import audio_file, record_document, stored_files
from tracks.models import Record, Track
from tracks.views import TrackViewSet

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent transactions"
)
# Real commits; the reference data loaded by migrations (languages) is restored after each.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def token(admin_user, make_token):
    return make_token(admin_user)


class Hold:
    """Stops the request of the thread whose connection runs it at its first statement
    matching ``pattern`` (``after`` it ran, or before) until ``release()``."""

    def __init__(self, pattern, after=True):
        self.pattern = re.compile(pattern, re.S)
        self.after = after
        self.reached = threading.Event()
        self.go = threading.Event()

    def __call__(self, execute, sql, params, many, context):
        if self.reached.is_set() or not self.pattern.search(sql):
            return execute(sql, params, many, context)
        if not self.after:
            self._wait()
        result = execute(sql, params, many, context)
        if self.after:
            self._wait()
        return result

    def _wait(self):
        self.reached.set()
        if not self.go.wait(60):
            raise RuntimeError(f"never released after {self.pattern.pattern}")

    def release(self):
        self.go.set()


class Request(threading.Thread):
    """One request in a thread of its own, held by ``hold`` if given."""

    def __init__(self, token, method, path, document=None, hold=None):
        super().__init__()
        self.args = token, method, path, document, hold
        self.response = self.error = None
        self.start()

    def run(self):
        token, method, path, document, hold = self.args
        client = JsonApiClient(token)
        try:
            with connection.execute_wrapper(hold or Hold("(?!)")):
                if document is None:
                    self.response = client.generic(method, path)
                else:
                    self.response = client.send(method, path, document)
        except BaseException as exc:  # reported by result()
            self.error = exc
        finally:
            connections.close_all()

    def result(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.response


def lock_waiters():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(condition, what):
    """Wait (at most a minute) for another thread to get somewhere; no timing is asserted."""
    for _ in range(600):
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"waited a minute for {what}")


def finished_or_waiting(request):
    return lambda: not request.is_alive() or lock_waiters() > 0


def relationship_error(response, member):
    """A create that named a row deleted meanwhile: the relationship's does-not-exist error."""
    assert response.status_code in (404, 422), response.document
    [error] = response.document["errors"]
    pointer = f"/data/relationships/{member}" if member else "/data"
    assert (error["code"], error["source"]) == ("does_not_exist", {"pointer": pointer})


# A child created while its parent is deleted.


@postgresql_only
@committed
def test_track_created_before_its_product_is_deleted(token):
    product = make_product()
    hold = Hold(r'^INSERT INTO "tracks_track"')
    create = Request(token, "POST", "/api/v1/tracks", track_document(product), hold)
    wait_until(hold.reached.is_set, "the track's insert")
    delete = Request(token, "DELETE", f"/api/v1/products/{product.pk}")
    wait_until(finished_or_waiting(delete), "the delete to finish or wait")
    hold.release()
    assert create.result().status_code == 201, create.result().document
    response = delete.result()
    assert response.status_code == 409, response.document
    assert response.document["errors"][0]["code"] == "in_use"
    assert Track.objects.get().product == product


@postgresql_only
@committed
def test_track_created_while_its_product_is_being_deleted(token):
    product = make_product()
    hold = Hold(r'^DELETE FROM "products_product"')
    delete = Request(token, "DELETE", f"/api/v1/products/{product.pk}", hold=hold)
    wait_until(hold.reached.is_set, "the product's delete")
    create = Request(token, "POST", "/api/v1/tracks", track_document(product))
    wait_until(finished_or_waiting(create), "the create to finish or wait")
    hold.release()
    assert delete.result().status_code == 204
    relationship_error(create.result(), "product")
    assert not Product.objects.exists()
    assert not Track.objects.exists()


@postgresql_only
@committed
def test_record_uploaded_before_its_track_is_deleted(token, media_root):
    track = make_track()
    hold = Hold(r'^INSERT INTO "tracks_record"')
    document = record_document(track, audio_file())
    upload = Request(token, "POST", "/api/v1/records", document, hold)
    wait_until(hold.reached.is_set, "the record's insert")
    assert len(stored_files(media_root)) == 1
    delete = Request(token, "DELETE", f"/api/v1/tracks/{track.pk}")
    wait_until(finished_or_waiting(delete), "the delete to finish or wait")
    hold.release()
    assert upload.result().status_code == 201, upload.result().document
    assert delete.result().status_code == 204
    assert not Track.objects.exists()
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


@postgresql_only
@committed
def test_record_uploaded_while_its_track_is_being_deleted(token, media_root):
    track = make_track()
    hold = Hold(r'^DELETE FROM "tracks_track"')
    delete = Request(token, "DELETE", f"/api/v1/tracks/{track.pk}", hold=hold)
    wait_until(hold.reached.is_set, "the track's delete")
    upload = Request(token, "POST", "/api/v1/records", record_document(track, audio_file()))
    wait_until(finished_or_waiting(upload), "the upload to finish or wait")
    hold.release()
    assert delete.result().status_code == 204
    relationship_error(upload.result(), "track")
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


@committed
def test_a_foreign_key_refused_at_commit_is_an_error_and_leaves_no_file(api, media_root):
    """The track disappears just before the record's insert, on the same connection: the
    deferred foreign key fails at COMMIT, after the view answered 201."""
    track = make_track()

    def delete_track_before_insert(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "tracks_record"'):
            execute('DELETE FROM "tracks_track" WHERE "id" = %s', [track.pk], False, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_track_before_insert):
        response = api.post_doc("/api/v1/records", record_document(track, audio_file()))
    # SQLite's "FOREIGN KEY constraint failed" names no key: the error points at the resource.
    relationship_error(response, "track" if connection.vendor == "postgresql" else None)
    assert not Record.objects.exists()
    assert Track.objects.filter(pk=track.pk).exists()  # the whole write was rolled back
    assert stored_files(media_root) == []


# Deletes of one resource at once.


@postgresql_only
@committed
def test_parallel_deletes_have_one_winner(token):
    track = make_track()
    holds = [Hold(r'FROM "tracks_track" .*"tracks_track"\."id" = ') for _ in range(3)]
    deletes = [Request(token, "DELETE", f"/api/v1/tracks/{track.pk}", hold=h) for h in holds]
    reached = lambda: sum(hold.reached.is_set() for hold in holds)  # noqa: E731
    wait_until(lambda: reached() + lock_waiters() == len(holds), "every delete to read or wait")
    for hold in holds:
        hold.release()
    statuses = sorted(delete.result().status_code for delete in deletes)
    assert statuses == [204, 404, 404]
    assert not Track.objects.exists()


# Uniqueness races: the loser's 409 points where a sequential duplicate's does.


@postgresql_only
@committed
def test_same_isrc_race_loser_gets_the_sequential_conflict(token):
    product = make_product()
    documents = [track_document(product, **{"isrc-code": isrc(9999)}) for _ in range(2)]
    holds = [Hold(r'^INSERT INTO "tracks_track"', after=False) for _ in documents]
    creates = [
        Request(token, "POST", "/api/v1/tracks", d, h)
        for d, h in zip(documents, holds, strict=True)
    ]
    wait_until(lambda: all(hold.reached.is_set() for hold in holds), "both inserts")
    for hold in holds:
        hold.release()
    responses = sorted((create.result() for create in creates), key=lambda r: r.status_code)
    assert [response.status_code for response in responses] == [201, 409]
    sequential = JsonApiClient(token).post_doc("/api/v1/tracks", documents[0])
    assert sequential.status_code == 409
    assert responses[1].document["errors"] == [
        {**sequential.document["errors"][0], "id": responses[1].document["errors"][0]["id"]}
    ]
    assert responses[1].document["errors"][0]["source"] == {"pointer": "/data/attributes/isrc-code"}
    assert Track.objects.count() == 1


def view_of(viewset, method="POST"):
    view = viewset(action="create", format_kwarg=None)
    view.request = RequestFactory().generic(method, "/api/v1/anything")
    return view


def database_duplicate(create):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        create()
    return caught.value


@pytest.mark.django_db
def test_database_level_duplicates_point_at_the_member(api):
    track = make_track()
    duplicate = {f.name: getattr(track, f.name) for f in Track._meta.concrete_fields[1:]}
    exc = database_duplicate(lambda: Track.objects.create(**{**duplicate, "track_number": 99}))
    [error] = integrity_response(exc, view_of(TrackViewSet)).data["errors"]
    assert (error["status"], error["code"]) == ("409", "unique")
    assert error["source"] == {"pointer": "/data/attributes/isrc-code"}
    assert error["detail"] == "Track with this Product and ISRC code already exists."

    label = make_label()
    exc = database_duplicate(
        lambda: Label.objects.create(name=label.name, organization=label.organization)
    )
    [error] = integrity_response(exc, view_of(LabelViewSet)).data["errors"]
    assert error["source"] == {"pointer": "/data/attributes/name"}


def test_sqlite_uniqueness_messages_name_the_member():
    """SQLite names no constraint, only ``table.column``s: a real SQLite error, raised by
    the tracks table's unique columns and wrapped as Django wraps it."""
    database = sqlite3.connect(":memory:")
    database.execute('CREATE TABLE "tracks_track" (product_id INT, isrc_code TEXT)')
    database.execute('CREATE UNIQUE INDEX u ON "tracks_track" (product_id, isrc_code)')
    insert = 'INSERT INTO "tracks_track" VALUES (1, "ESA112310001")'
    database.execute(insert)
    with pytest.raises(sqlite3.IntegrityError) as caught:
        database.execute(insert)
    exc = IntegrityError(*caught.value.args)
    exc.__cause__ = caught.value
    [error] = integrity_response(exc, view_of(TrackViewSet)).data["errors"]
    assert error["source"] == {"pointer": "/data/attributes/isrc-code"}


# A row deleted between two reads of one request.


@pytest.mark.django_db
def test_to_one_related_whose_row_vanishes_is_null(api):
    track = make_track()

    def delete_product_first(execute, sql, params, many, context):
        if re.match(r'SELECT .* FROM "products_product"', sql):
            for table, pk in (("tracks_track", track.pk), ("products_product", track.product_id)):
                execute(f'DELETE FROM "{table}" WHERE "id" = %s', [pk], False, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_product_first):
        response = api.get(f"/api/v1/tracks/{track.pk}/product")
    assert response.status_code == 200, response.document
    assert response.document["data"] is None


# Files and transactions.


@committed
def test_files_follow_the_transaction_that_stored_them(media_root):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    def save(name):
        return default_storage.save(name, ContentFile(b"x"))

    with storage.atomic():
        kept = save("kept.bin")
    with pytest.raises(RuntimeError), storage.atomic():
        save("raised.bin")
        raise RuntimeError
    with storage.atomic():
        save("set-rollback.bin")
        transaction.set_rollback(True)
    with storage.atomic():
        outer = save("outer.bin")
        with storage.atomic():
            save("inner-rolled-back.bin")
            transaction.set_rollback(True)
        with storage.atomic():
            inner = save("inner.bin")
    with storage.atomic():
        save("outer-rolled-back.bin")
        with storage.atomic():
            save("inner-of-rolled-back.bin")
        transaction.set_rollback(True)
    product = make_product()
    with pytest.raises(IntegrityError), storage.atomic():
        save("refused-at-commit.bin")
        make_track(product=product)
        with connection.cursor() as cursor:  # PROTECT is Django's: the database defers it
            cursor.execute('DELETE FROM "products_product" WHERE "id" = %s', [product.pk])
    assert sorted(path.name for path in stored_files(media_root)) == sorted([kept, outer, inner])
