"""Bulk import of a generated catalog from CSV: ``manage.py import_catalog`` end to end
(rows/s, peak memory), a second run over the same file (nothing to write), a run where
every track changes (all updates), and django-import-export on the same rows for
comparison; then two floors no importer goes below: PostgreSQL storing the same tracks
alone (a COPY of the loaded rows back into the emptied table, with its indexes, checks
and foreign keys) and Python's csv module parsing the file alone. Run:
``python -m bench.imports`` (see the README, Performance)."""

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.data import create_database, destroy_database, setup_django

HEADER = [
    "product.upc-code", "product.name", "product.label", "product.language",
    "product.release-date", "product.product-type", "title", "isrc-code", "volume-number",
    "track-number", "artist", "audio-language", "genre", "bpm", "explicit-content", "composer",
]  # fmt: skip
GENRES = ["Rock", "Pop", "Jazz", "Electronic", "Folk", "Classical", "Hip-Hop/Rap", "Ambient"]
LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "ja", "sv"]


def upc(n):
    from stdnum import ean

    digits = f"{n:011d}"
    return digits + ean.calc_check_digit(digits)


def write_catalog(path, tracks, per_product=10, title="Song"):
    """``tracks`` track rows, ``per_product`` to a product, over 100 labels."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(tracks):
            p, t = divmod(n, per_product)
            writer.writerow([
                upc(10_000_000 + p), f"Album {p}", f"Label {p % 100}", LANGUAGES[p % 8],
                f"20{p % 25:02d}-0{p % 9 + 1}-1{p % 9}", "album", f"{title} {p}.{t + 1}",
                f"QZ{'ABCDEFGH'[p % 8]}{p % 100:02d}{n % 10_000_000:07d}", "1", str(t + 1),
                f"Artist {p % 5000}|Guest {n % 777}", LANGUAGES[p % 8], GENRES[n % 8],
                f"{60 + n % 120}.5", "true" if n % 7 == 0 else "false", f"Composer {p % 300}",
            ])  # fmt: skip


def import_catalog(path, env):
    """Run import_catalog in a process of its own: (seconds, its peak RSS in MiB, stdout)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finished = subprocess.run(
        [sys.executable, "manage.py", "import_catalog", str(path), "--organization", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if finished.returncode != 0:
        raise RuntimeError(finished.stdout + finished.stderr[-3000:])
    return seconds, max(peak, before) / 1024, finished.stdout


def import_export_rate(path, rows, validated):
    """django-import-export loading the first ``rows`` rows of ``path`` (products, then
    tracks, as its one-model resources need) into an empty catalog: rows/s. ``validated``:
    with the model's validation (``clean_model_instances``, Django's ``full_clean``: a
    query per check constraint), else its default (the widgets' conversions only)."""
    import tablib
    from import_export import fields, resources, widgets

    from products.models import Label, Language, Product
    from tracks.models import Track

    class ListWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            return value.split("|") if value else None

    class ProductResource(resources.ModelResource):
        upc_code = fields.Field("upc_code", "product.upc-code")
        name = fields.Field("name", "product.name")
        label = fields.Field("label", "product.label", widgets.ForeignKeyWidget(Label, "name"))
        language = fields.Field(
            "language", "product.language", widgets.ForeignKeyWidget(Language, "code")
        )
        release_date = fields.Field("release_date", "product.release-date", widgets.DateWidget())
        product_type = fields.Field("product_type", "product.product-type")

        class Meta:
            model = Product
            import_id_fields = ["upc_code"]
            fields = ["upc_code", "name", "label", "language", "release_date", "product_type"]
            clean_model_instances = validated
            skip_diff = True  # its fastest row-by-row mode (no per-row diff)

    class TrackResource(resources.ModelResource):
        product = fields.Field(
            "product", "product.upc-code", widgets.ForeignKeyWidget(Product, "upc_code")
        )
        title = fields.Field("title", "title")
        isrc_code = fields.Field("isrc_code", "isrc-code")
        volume_number = fields.Field("volume_number", "volume-number", widgets.IntegerWidget())
        track_number = fields.Field("track_number", "track-number", widgets.IntegerWidget())
        artist = fields.Field("artist", "artist", ListWidget())
        audio_language = fields.Field(
            "audio_language", "audio-language", widgets.ForeignKeyWidget(Language, "code")
        )
        genre = fields.Field("genre", "genre")
        bpm = fields.Field("bpm", "bpm", widgets.FloatWidget())
        explicit_content = fields.Field(
            "explicit_content", "explicit-content", widgets.BooleanWidget()
        )
        composer = fields.Field("composer", "composer", ListWidget())

        class Meta:
            model = Track
            import_id_fields = ["product", "isrc_code"]
            fields = [
                "product", "title", "isrc_code", "volume_number", "track_number", "artist",
                "audio_language", "genre", "bpm", "explicit_content", "composer",
            ]  # fmt: skip
            clean_model_instances = validated
            skip_diff = True  # its fastest row-by-row mode (no per-row diff)

    with open(path, encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        data = tablib.Dataset(headers=header)
        for _, values in zip(range(rows), reader, strict=False):
            data.append(values)
    for label in {row[2] for row in data}:
        Label.objects.get_or_create(name=label, organization_id=_organization_id())
    started = time.perf_counter()
    products = tablib.Dataset(headers=header)
    seen = set()
    for row in data:
        if row[0] not in seen:
            seen.add(row[0])
            products.append(row)
    for resource_class, dataset in ((ProductResource, products), (TrackResource, data)):
        result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
        assert not result.has_validation_errors(), result.invalid_rows[:3]
    return len(data) / (time.perf_counter() - started)


def floors(path, table):
    """(seconds PostgreSQL takes to store the loaded tracks (``table``) again: COPY into
    the emptied table and COMMIT, with its indexes, check constraints and deferred foreign keys;
    seconds the csv module takes to parse ``path``)."""
    from django.db import connection, transaction

    with tempfile.TemporaryFile() as copied:
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} TO STDOUT") as copy:
            for data in copy:
                copied.write(data)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
        copied.seek(0)
        started = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} FROM STDIN") as copy,
        ):
            while data := copied.read(1 << 20):
                copy.write(data)
        stored = time.perf_counter() - started
    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as stream:
        for _ in csv.reader(stream):
            pass
    return stored, time.perf_counter() - started


def _organization_id():
    from organizations.models import Organization

    return Organization.objects.get(slug="bench").pk


def database_url(settings_dict):
    from bench.throughput import database_url as url

    return url(settings_dict)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--import-export-rows", type=int, default=20_000)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from organizations.models import Organization

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    old_name = create_database()
    try:
        Organization.objects.create(name="Bench", slug="bench")
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "LOG_LEVEL": "WARNING",
            "ENV_FILE": "",
        }
        with tempfile.TemporaryDirectory() as folder:
            catalog = Path(folder) / "catalog.csv"
            changed = Path(folder) / "changed.csv"
            write_catalog(catalog, args.tracks)
            write_catalog(changed, args.tracks, title="Song, remastered")
            size = catalog.stat().st_size / 2**20
            print(
                f"import_catalog, PostgreSQL, {args.tracks:,} tracks of {args.tracks // 10:,} "
                f"products in a {size:,.0f} MiB CSV, 16 columns"
            )
            print(f"{'run':<44} {'seconds':>8} {'rows/s':>9} {'peak RSS':>10}")
            for title, path in (
                ("first run (all created)", catalog),
                ("same file again (nothing to write)", catalog),
                ("every track changed (all updated)", changed),
            ):
                seconds, peak, out = import_catalog(path, env)
                print(f"{title:<44} {seconds:8.1f} {args.tracks / seconds:9,.0f} {peak:7,.0f} MiB")
                counts = [line.strip() for line in out.splitlines()[1:5]]
                print("    " + "; ".join(counts))
            from products.models import Product
            from tracks.models import Track

            quoted = [connection.ops.quote_name(m._meta.db_table) for m in (Track, Product)]
            tables = ", ".join(quoted)
            stored, parsed = floors(changed, quoted[0])
            print(
                f"floors: PostgreSQL storing the {args.tracks:,} tracks alone (COPY, COMMIT) "
                f"{stored:.1f} s ({args.tracks / stored:,.0f} rows/s); the csv module parsing "
                f"the file alone {parsed:.1f} s ({args.tracks / parsed:,.0f} rows/s)"
            )
            for validated, rows in (
                (False, args.import_export_rows),
                (True, args.import_export_rows // 10),
            ):
                with connection.cursor() as cursor:  # an empty catalog again, at once
                    cursor.execute(f"TRUNCATE {tables} CASCADE")
                rows = min(rows, args.tracks)
                rate = import_export_rate(catalog, rows, validated)
                mode = "clean_model_instances" if validated else "default, no model validation"
                print(
                    f"django-import-export 4, first {rows:,} rows (products, then tracks; "
                    f"{mode}, skip_diff): {rate:,.0f} rows/s"
                )
    finally:
        connection.close()
        destroy_database(old_name)


if __name__ == "__main__":
    main()
