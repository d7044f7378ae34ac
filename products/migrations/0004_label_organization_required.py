import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0003: PostgreSQL cannot alter a table with the foreign key checks of
    0003's update still pending in the same transaction."""

    dependencies = [("products", "0003_label_organization")]

    operations = [
        migrations.AlterField(
            model_name="label",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="labels",
                to="organizations.organization",
            ),
        ),
        migrations.AlterField(
            model_name="label",
            name="name",
            field=models.CharField(max_length=255),
        ),
        migrations.AddConstraint(
            model_name="label",
            constraint=models.UniqueConstraint(
                fields=("organization", "name"), name="label_name_unique_per_organization"
            ),
        ),
    ]
