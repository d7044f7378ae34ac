"""Load ISO 639 languages from pycountry: the 639-1 code where one exists, else 639-3."""

from django.db import migrations


def load_languages(apps, schema_editor):
    import pycountry

    Language = apps.get_model("products", "Language")
    languages = {}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None) or language.alpha_3
        languages.setdefault(code, language.name)
    Language.objects.bulk_create(
        [Language(code=code, name=name) for code, name in sorted(languages.items())],
        ignore_conflicts=True,
        batch_size=1000,
    )


def unload_languages(apps, schema_editor):
    apps.get_model("products", "Language").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]

    operations = [migrations.RunPython(load_languages, unload_languages)]
