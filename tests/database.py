"""Restoring the migrated data after a transactional test, a statement per table.

Every transactional test restores what the migrations left in the test database
(``serialized_rollback``, see ``conftest.pytest_collection_modifyitems``). Django reloads it
with a ``save()`` per object, an UPDATE then an INSERT each: for the 7,923 languages, about
8 seconds per test, most of the suite's time. ``deserialize_db_from_string`` here reloads
the same objects, in the same order and in one transaction as Django does, with one
``bulk_create`` for each run of objects of one model, updating a row of the same key as
Django's save() does; an object Django's save would do more for (its many-to-many values,
a reference left for later, a model with parents, with times set on save or with signal
listeners) is saved as Django saves it.
"""

from io import StringIO

from django.core import serializers
from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.models import signals
from django.db.transaction import atomic

from config.bulk import set_on_save


def deserialize_db_from_string(creation, data):
    connection = creation.connection
    table_names = set()
    pending = []  # a run of objects of one model
    plain = {}  # model -> _plain(model), asked once per model, not per object

    def flush():
        if pending:
            model = type(pending[0])
            meta = model._meta
            others = [f.name for f in meta.concrete_fields if not f.primary_key]
            # Django's save() updates a row of the same key: the data is still there
            # for the first transactional test, and is restored over it.
            model._base_manager.using(connection.alias).bulk_create(
                pending,
                update_conflicts=bool(others),
                ignore_conflicts=not others,
                unique_fields=[meta.pk.name] if others else None,
                update_fields=others or None,
            )
            table_names.add(meta.db_table)
            pending.clear()

    objects = serializers.deserialize("json", StringIO(data), using=connection.alias)
    with atomic(using=connection.alias):
        with connection.constraint_checks_disabled():
            for deserialized in objects:
                instance = deserialized.object
                model = type(instance)
                if model not in plain:
                    plain[model] = _plain(model)
                if deserialized.m2m_data or deserialized.deferred_fields or not plain[model]:
                    flush()
                    deserialized.save()
                    table_names.add(model._meta.db_table)
                    continue
                if pending and type(pending[0]) is not model:
                    flush()
                pending.append(instance)
            flush()
        connection.check_constraints(table_names=table_names)


def _plain(model):
    """Whether ``bulk_create`` stores ``model``'s objects as a raw ``save()`` does: no
    parents, no time set on save (``bulk_create`` would set it), no one listening to
    saves (``bulk_create`` sends no signal)."""
    return not (
        model._meta.parents
        or any(set_on_save(field) for field in model._meta.concrete_fields)
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
    )


def install():
    """Make Django's test databases restore their data with ``deserialize_db_from_string``."""
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string
