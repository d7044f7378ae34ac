"""Partial indexes on ``is_unlisted`` and ``stem_of``: only the tracks a lookup looks for
(the unlisted ones, the stems of a track) are indexed, not every track written with the
common value (listed, no parent), which no lookup reads through an index: two fewer index
entries for almost every track written.

The partial indexes are built first, then Django's full ones dropped: reads go on while
they are built (writes wait, as for any new index), and the drops at the end are instant.
Changing the fields' ``db_index`` would make Django drop and add again ``stem_of``'s
foreign key constraint (checking every row under a lock) and, on SQLite, copy the whole
table; the database needs only the indexes dropped, so the migration says so (the model's
state changes as Django would change it).
"""

import django.db.models.deletion
from django.db import migrations, models

# The names 0001_initial gave them (Django's, the same on every database).
UNLISTED = "tracks_track_is_unlisted_1ebdb9e5"
STEM_OF = "tracks_track_stem_of_id_d3a533f7"


class Migration(migrations.Migration):
    dependencies = [("tracks", "0007_track_indexes_not_repeated")]

    operations = [
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
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX {UNLISTED}",
                    f"CREATE INDEX {UNLISTED} ON tracks_track (is_unlisted)",
                ),
                migrations.RunSQL(
                    f"DROP INDEX {STEM_OF}",
                    f"CREATE INDEX {STEM_OF} ON tracks_track (stem_of_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="track",
                    name="is_unlisted",
                    field=models.BooleanField(default=False),
                ),
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
    ]
