"""Tracks without Django's index on ``product`` (the leading column of both uniqueness
rules, whose indexes serve a lookup by product) and without its LIKE index on the language's
code (nothing matches a pattern on it): two fewer indexes to update on every track written.

Changing ``db_index`` makes Django drop and add again each foreign key constraint, which
locks the table while every row is checked; the database needs only its indexes changed,
so the migration says so (the models' state changes as Django would change it).
"""

import django.db.models.deletion
from django.db import migrations, models

# The names 0001_initial gave the indexes (Django's, the same on every database).
PRODUCT = "tracks_track_product_id_116956c2"
LANGUAGE = "tracks_track_audio_language_id_eb1bf81e"
LANGUAGE_LIKE = "tracks_track_audio_language_id_eb1bf81e_like"  # PostgreSQL only
RENAMED = "track_audio_language"


def drop_indexes(apps, schema_editor):
    execute = schema_editor.execute
    execute(f"DROP INDEX IF EXISTS {PRODUCT}")
    execute(f"DROP INDEX IF EXISTS {LANGUAGE_LIKE}")
    if schema_editor.connection.vendor == "postgresql":
        execute(f"ALTER INDEX {LANGUAGE} RENAME TO {RENAMED}")
    else:
        execute(f"DROP INDEX {LANGUAGE}")
        execute(f"CREATE INDEX {RENAMED} ON tracks_track (audio_language_id)")


def restore_indexes(apps, schema_editor):
    execute = schema_editor.execute
    execute(f"CREATE INDEX {PRODUCT} ON tracks_track (product_id)")
    if schema_editor.connection.vendor == "postgresql":
        execute(f"ALTER INDEX {RENAMED} RENAME TO {LANGUAGE}")
        execute(
            f"CREATE INDEX {LANGUAGE_LIKE} ON tracks_track (audio_language_id varchar_pattern_ops)"
        )
    else:
        execute(f"DROP INDEX {RENAMED}")
        execute(f"CREATE INDEX {LANGUAGE} ON tracks_track (audio_language_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0005_language_retired"),
        ("tracks", "0006_record_source_hosts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="track",
                    name="audio_language",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="products.language",
                    ),
                ),
                migrations.AlterField(
                    model_name="track",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tracks",
                        to="products.product",
                    ),
                ),
                migrations.AddIndex(
                    model_name="track",
                    index=models.Index(fields=["audio_language"], name=RENAMED),
                ),
            ],
        ),
    ]
