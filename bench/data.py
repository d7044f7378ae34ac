"""A throwaway database filled with a benchmark catalog."""

import os

import django


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    django.setup()


def create_database():
    """A fresh database beside the configured one (test_<name>; in memory for SQLite)."""
    from django.db import connection

    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def destroy_database(old_name):
    from django.db import connection

    connection.creation.destroy_test_db(old_name, verbosity=0)


def create_catalog(products=100, tracks_per_product=10):
    """``products`` products of ``tracks_per_product`` tracks over ten labels of one
    organization; returns a read-write Bearer token acting in it."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from config.tokens import issue_access_token
    from organizations.models import Organization
    from products.models import Label, Language, Product
    from tracks.models import Track

    english = Language.objects.get(code="en")
    organization = Organization.objects.create(name="Bench", slug="bench")
    labels = Label.objects.bulk_create(
        [Label(name=f"Label {n}", organization=organization) for n in range(10)]
    )
    catalog = Product.objects.bulk_create(
        Product(name=f"Product {n}", label=labels[n % 10], language=english)
        for n in range(products)
    )
    Track.objects.bulk_create(
        Track(
            product=product,
            title=f"Track {p}-{t}",
            track_number=t + 1,
            volume_number=1,
            isrc_code=f"ESA11{p:03d}{t:04d}",
            artist=["Artist"],
            composer=["Composer"],
            audio_language=english,
        )
        for p, product in enumerate(catalog)
        for t in range(tracks_per_product)
    )
    # The planner's statistics of the catalog just loaded, as autovacuum would give them a
    # while later: otherwise the plans of the joined queries change in the middle of a run.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", None)
    token = issue_access_token(
        user, "read write", expires_in=7200, application_name="bench", organization=organization
    )
    return token.token
