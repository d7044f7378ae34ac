"""The migration that introduced organizations moves existing rows into one, keeping what
every user and token had."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("products", "0002_load_languages")]
AFTER = [("products", "0004_label_organization_required")]


def migrate(targets):
    """Migrate products to ``targets``; the models as they then are, with those of the
    applications (auth, oauth2_provider) the migration reads."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    others = [
        leaf
        for leaf in executor.loader.graph.leaf_nodes()
        if leaf[0] in ("auth", "oauth2_provider", "organizations")
    ]
    return executor.loader.project_state(targets + others).apps


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Leave the database as the current models expect it (later migrations add columns)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_rows_move_into_a_default_organization():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    label = apps.get_model("products", "Label").objects.create(name="Old Records")
    user = User.objects.create(username="old-editor")
    User.objects.create(username="root", is_superuser=True)
    application = apps.get_model("oauth2_provider", "Application").objects.create(
        name="old-tool", user=user, client_type="confidential",
        authorization_grant_type="client-credentials",
    )  # fmt: skip

    apps = migrate(AFTER)
    default = apps.get_model("organizations", "Organization").objects.get()
    assert default.slug == "default"
    assert apps.get_model("products", "Label").objects.get(pk=label.pk).organization_id == (
        default.pk
    )
    memberships = apps.get_model("organizations", "Membership").objects.all()
    assert [(m.user.username, m.role) for m in memberships] == [("old-editor", "editor")]
    binding = apps.get_model("organizations", "OrganizationApplication").objects.get()
    assert (binding.application_id, binding.organization_id) == (application.pk, default.pk)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_empty_database_gets_no_default_organization():
    migrate(BEFORE)
    apps = migrate(AFTER)
    assert not apps.get_model("organizations", "Organization").objects.exists()
