"""Products without Django's LIKE index on the language's code (nothing matches a pattern
on it): one fewer index to update on every product written. Its plain index stays, named
``product_language``.

Changing ``db_index`` makes Django drop and add again the foreign key constraint, which
locks the table while every row is checked; the database needs only its indexes changed,
so the migration says so (the model's state changes as Django would change it).
"""

import django.db.models.deletion
from django.db import migrations, models

# The names 0001_initial gave the indexes (Django's, the same on every database).
LANGUAGE = "products_product_language_id_d07f7d67"
LANGUAGE_LIKE = "products_product_language_id_d07f7d67_like"  # PostgreSQL only
RENAMED = "product_language"


def drop_like_index(apps, schema_editor):
    execute = schema_editor.execute
    execute(f"DROP INDEX IF EXISTS {LANGUAGE_LIKE}")
    if schema_editor.connection.vendor == "postgresql":
        execute(f"ALTER INDEX {LANGUAGE} RENAME TO {RENAMED}")
    else:
        execute(f"DROP INDEX {LANGUAGE}")
        execute(f"CREATE INDEX {RENAMED} ON products_product (language_id)")


def restore_like_index(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(f"ALTER INDEX {RENAMED} RENAME TO {LANGUAGE}")
        execute(
            f"CREATE INDEX {LANGUAGE_LIKE} ON products_product (language_id varchar_pattern_ops)"
        )
    else:
        execute(f"DROP INDEX {RENAMED}")
        execute(f"CREATE INDEX {LANGUAGE} ON products_product (language_id)")


class Migration(migrations.Migration):
    dependencies = [("products", "0005_language_retired")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_like_index, restore_like_index)],
            state_operations=[
                migrations.AlterField(
                    model_name="product",
                    name="language",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="products",
                        to="products.language",
                    ),
                ),
                migrations.AddIndex(
                    model_name="product",
                    index=models.Index(fields=["language"], name=RENAMED),
                ),
            ],
        ),
    ]
