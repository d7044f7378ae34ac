"""The test database's data, restored a statement per table after a transactional test
(``tests.database``), is the data the migrations left, as Django serialized it when it
created the test database."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.backends.base.creation import BaseDatabaseCreation

from products.models import Language

from . import database

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def stored_data():
    """Every object Django restores, as it serializes them."""
    return json.loads(connection.creation.serialize_db_to_string())


def test_the_suite_restores_with_bulk_statements():
    assert BaseDatabaseCreation.deserialize_db_from_string is database.deserialize_db_from_string


@pytest.mark.parametrize("emptied", [True, False], ids=["emptied", "over-itself"])
def test_the_restored_data_is_the_migrated_data(emptied, django_assert_max_num_queries):
    migrated = json.loads(connection._test_serialized_contents)
    assert sum(o["model"] == "products.language" for o in migrated) > 7000
    if emptied:  # as a transactional test leaves the database (Django's own flush)
        call_command(
            "flush", interactive=False, inhibit_post_migrate=True, reset_sequences=False,
            verbosity=0,
        )  # fmt: skip
        assert stored_data() == []
    Language.objects.filter(code="en").update(name="Changed")
    with django_assert_max_num_queries(60):  # Django's save() per object: 16,000
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
    assert stored_data() == migrated
