"""The database cache: the shared cache of every worker process when Redis is not set up.

Throttling counts requests with ``add`` and ``incr`` (config/jsonapi/throttling.py). On
Redis both are atomic. Django's database cache makes ``add`` atomic through the table's
primary key but ``incr`` is a read followed by a write, so two processes counting the
same key can both read 4 and both write 5; :class:`DatabaseCache` closes that gap.
"""

from django.conf import settings
from django.core.cache.backends import db
from django.db import connections, router, transaction


class DatabaseCache(db.DatabaseCache):
    """Django's database cache whose ``incr`` cannot lose an update.

    The row is locked before Django's read and write, in one transaction: an ``UPDATE``
    that changes nothing takes a row lock on PostgreSQL and MySQL and the write lock on
    SQLite, so concurrent increments of one key queue behind each other. Chosen over a
    ``SELECT ... FOR UPDATE`` because it means the same on every backend; the queries
    are Django's own (about five per increment), which is fine for the embedded default.
    A busy service should set ``REDIS_URL``: one round trip per increment.
    """

    def incr(self, key, delta=1, version=None):
        db_alias = router.db_for_write(self.cache_model_class)
        connection = connections[db_alias]
        quote_name = connection.ops.quote_name
        column = quote_name("cache_key")
        with transaction.atomic(using=db_alias), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote_name(self._table)} SET {column} = {column} WHERE {column} = %s",
                [self.make_and_validate_key(key, version=version)],
            )
            return super().incr(key, delta, version)


class CacheRouter:
    """Sends the database cache to the ``cache`` connection where settings.DATABASES has one.

    It is the same database as ``default`` over a second connection, outside the request's
    transaction: a write request is rolled back when it fails (ResourceViewSet.dispatch),
    and a failed request must still count, and must not keep its counter's row locked
    (and every other request of the same user waiting) until it ends.

    SQLite (development) has no such connection: its writer's commit waits until no other
    connection reads, and the request's own transaction does. There the counts share the
    request's transaction: a failed write request does not count, and a write request
    holds SQLite's single write lock from its throttle check on, as it would anyway.
    """

    def db_for_read(self, model, **hints):
        if model._meta.app_label == "django_cache" and "cache" in settings.DATABASES:
            return "cache"
        return None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, **hints):
        # The same database as "default", which holds every table.
        return False if db == "cache" else None
