"""Partial indexes on ``is_unlisted`` and ``stem_of``: only the tracks a lookup looks for
(the unlisted ones, the stems of a track) are indexed, not every track written with the
common value (listed, no parent), which no lookup reads through an index: two fewer index
entries for almost every track written.

Changing ``stem_of``'s ``db_index`` makes Django drop and add again its foreign key
constraint, which locks the table while every row is checked; the database needs only the
index dropped, so the migration says so (the model's state changes as Django would change
it).
"""

import django.db.models.deletion
from django.db import migrations, models

STEM_OF = "tracks_track_stem_of_id_d3a533f7"  # the name 0001_initial gave it (Django's)


class Migration(migrations.Migration):
    dependencies = [("tracks", "0007_track_indexes_not_repeated")]

    operations = [
        migrations.AlterField(
            model_name="track",
            name="is_unlisted",
            field=models.BooleanField(default=False),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX {STEM_OF}",
                    f"CREATE INDEX {STEM_OF} ON tracks_track (stem_of_id)",
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="track",
                    name="stem_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stems",
                        to="tracks.track",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="track",
            index=models.Index(
                condition=models.Q(("is_unlisted", True)),
                fields=["is_unlisted"],
                name="track_unlisted",
            ),
        ),
        migrations.AddIndex(
            model_name="track",
            index=models.Index(
                condition=models.Q(("stem_of__isnull", False)),
                fields=["stem_of"],
                name="track_stem_of",
            ),
        ),
    ]
