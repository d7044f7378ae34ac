"""Prepared statements that outlive a migration.

With ``DATABASE_PREPARE_THRESHOLD`` a connection prepares the statements it repeats. A
migration that changes the type of a column such a statement returns makes PostgreSQL
refuse it from then on ("cached plan must not change result type", raised by
``RevalidateCachedQuery``), on every connection that prepared it before: a worker kept
failing the requests that ran it until it was restarted.

``replan`` (installed on each PostgreSQL connection as an execute wrapper) undoes that.
Outside a transaction the connection's prepared statements are dropped, psycopg's
record of them with them (a rollback clears both), and the statement runs once more, so
the request never sees the migration; the refusal comes before the statement runs, so
nothing runs twice. Inside a transaction the refusal has aborted it and stands; the
rollback that ends the transaction drops the prepared statements the same way.
"""

from django.db import NotSupportedError


def replan(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        diagnostic = getattr(error.__cause__, "diag", None)
        if getattr(diagnostic, "source_function", None) != "RevalidateCachedQuery":
            raise
        connection = context["connection"]
        if not connection.get_autocommit() or connection.in_atomic_block:
            raise
        psycopg_connection = connection.connection
        psycopg_connection.execute("BEGIN")
        psycopg_connection.rollback()  # ROLLBACK, then DEALLOCATE ALL and psycopg forgets
        return execute(sql, params, many, context)


def install(connection, **kwargs):
    """A ``connection_created`` receiver: ``replan`` on PostgreSQL connections."""
    if connection.vendor == "postgresql" and replan not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, replan)
