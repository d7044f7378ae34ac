"""The test database's migrated data, restored a statement per table after a transactional
test (``tests.database``), is the data Django's own restore gives."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.backends.base.creation import BaseDatabaseCreation

from products.models import Language

from . import database

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrated_data():
    return {
        model: sorted(model.objects.values_list()) for model in (Language, ContentType, Permission)
    }


def test_the_suite_restores_with_bulk_statements():
    assert BaseDatabaseCreation.deserialize_db_from_string is database.deserialize_db_from_string


@pytest.mark.parametrize("emptied", [True, False], ids=["emptied", "over-itself"])
def test_the_restored_data_is_the_migrated_data(emptied, django_assert_max_num_queries):
    before = migrated_data()
    assert len(before[Language]) > 7000 and before[Permission]
    if emptied:  # as a transactional test leaves the database
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        assert not any(migrated_data().values())
    Language.objects.filter(code="en").update(name="Changed")
    with django_assert_max_num_queries(60):  # Django's save() per object: 16,000
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
    assert migrated_data() == before
