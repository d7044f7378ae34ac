"""Prepared statements after a migration changed a column's type (config/prepared.py):
run again outside a transaction; inside one, the error stands until the rollback."""

import threading

import pytest
from django.db import NotSupportedError, connection, connections, transaction

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares statements"),
    pytest.mark.django_db(transaction=True),
]

QUERY = "SELECT amount FROM prepared_probe"


@pytest.fixture
def probe():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (amount integer)")
        cursor.execute("INSERT INTO prepared_probe VALUES (7)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE prepared_probe")


def prepared():
    """Runs QUERY until this connection has prepared it."""
    for _ in range(6):
        with connection.cursor() as cursor:
            cursor.execute(QUERY)
            assert cursor.fetchall() == [(7,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [QUERY])
        assert cursor.fetchone() == (1,)


def migrate_elsewhere(column_type):
    """Changes the column's type from another connection, as a deploy's migrate does."""

    def run():
        with connections["default"].cursor() as cursor:
            cursor.execute(f"ALTER TABLE prepared_probe ALTER COLUMN amount TYPE {column_type}")
        connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def test_a_statement_prepared_before_a_migration_runs_after_it(probe):
    prepared()
    migrate_elsewhere("bigint")
    with connection.cursor() as cursor:
        cursor.execute(QUERY)
        assert cursor.fetchall() == [(7,)]
    prepared()  # and is prepared again


def test_inside_a_transaction_the_error_stands_and_the_rollback_replans(probe):
    prepared()
    migrate_elsewhere("numeric")
    psycopg_connection = connection.connection
    with pytest.raises(NotSupportedError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(QUERY)
    assert connection.connection is psycopg_connection  # the same connection, working
    prepared_again = [float(amount) for amount in run_on(connection)]
    assert prepared_again == [7.0]


def run_on(connection):
    with connection.cursor() as cursor:
        cursor.execute(QUERY)
        return [amount for (amount,) in cursor.fetchall()]


def test_other_unsupported_statements_are_not_run_again(probe):
    """Only a plan revalidated against a changed table is retried: any other refusal
    (here a reference to another database) stands, and the prepared statements stay."""
    prepared()
    with pytest.raises(NotSupportedError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM elsewhere.public.prepared_probe")
    prepared()
