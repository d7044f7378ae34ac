"""Prepared statements that outlive a migration.

With ``DATABASE_PREPARE_THRESHOLD`` a connection prepares the statements it repeats. A
migration that changes the type of a column such a statement returns makes PostgreSQL
refuse it from then on ("cached plan must not change result type", SQLSTATE 0A000), on
every connection that prepared it before, until that connection is closed: a worker kept
failing the requests that ran it until it was restarted.

``replan`` (installed on each PostgreSQL connection as an execute wrapper) undoes that.
Outside a transaction, the connection's prepared statements are dropped
(``DEALLOCATE ALL``, which psycopg notices and forgets its own) and the statement runs
once more, so the request never sees the migration. Inside one, the transaction is
already aborted and the error stands, but the connection is closed when the request or
task ends (``close_at``, as ``CONN_MAX_AGE`` does) instead of being kept, so the next one
starts afresh.
"""

import time

from django.db import NotSupportedError

FEATURE_NOT_SUPPORTED = "0A000"


def replan(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        if getattr(error.__cause__, "sqlstate", None) != FEATURE_NOT_SUPPORTED:
            raise
        connection = context["connection"]
        if not connection.get_autocommit() or connection.in_atomic_block:
            connection.close_at = time.monotonic()
            raise
        connection.connection.execute("DEALLOCATE ALL")
        return execute(sql, params, many, context)


def install(connection, **kwargs):
    """A ``connection_created`` receiver: ``replan`` on PostgreSQL connections."""
    if connection.vendor == "postgresql" and replan not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, replan)
