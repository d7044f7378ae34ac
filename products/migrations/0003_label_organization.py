import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


def move_into_default_organization(apps, schema_editor):
    """Rows made before organizations existed go into one "default" organization, which the
    existing users (as editors) and OAuth applications join: everybody keeps what they had.
    A database with nothing in it gets no default organization."""
    Label = apps.get_model("products", "Label")
    Organization = apps.get_model("organizations", "Organization")
    Membership = apps.get_model("organizations", "Membership")
    OrganizationApplication = apps.get_model("organizations", "OrganizationApplication")
    users = apps.get_model(settings.AUTH_USER_MODEL).objects.filter(is_superuser=False)
    applications = apps.get_model(oauth2_settings.APPLICATION_MODEL).objects.all()
    if not (Label.objects.exists() or users.exists() or applications.exists()):
        return
    default, _ = Organization.objects.get_or_create(
        slug="default", defaults={"name": "Default organization"}
    )
    Label.objects.filter(organization=None).update(organization=default)
    Membership.objects.bulk_create(
        [Membership(organization=default, user=user, role="editor") for user in users],
        ignore_conflicts=True,
    )
    OrganizationApplication.objects.bulk_create(
        [OrganizationApplication(organization=default, application=app) for app in applications],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
        ("products", "0002_load_languages"),
    ]

    operations = [
        migrations.AddField(
            model_name="label",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="labels",
                to="organizations.organization",
            ),
        ),
        migrations.RunPython(move_into_default_organization, migrations.RunPython.noop),
    ]
