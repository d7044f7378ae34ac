"""Load products and their tracks from catalog files into an organization.

Every row gets the API's rules (``products.catalog.loader``); a bad row is reported with
its file, line (or XML element), the member's JSON pointer and why, on screen and, with
``--report``, as JSON Lines, and the other rows are loaded. The exit status is non-zero
when any row failed.
"""

import contextlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.bulk import ANALYZED_AFTER, analyze, custom_plans, fewer_collections
from config.reporting import Progress, Report, add_import_arguments
from organizations.cli import organization_for
from products.catalog.ddex import DdexReader
from products.catalog.formats import CsvReader, NdjsonReader
from products.catalog.loader import CatalogLoader
from products.catalog.readahead import ReadAhead, fork_available
from products.models import Label, Product
from tracks.models import Track

READERS = {"csv": CsvReader, "ndjson": NdjsonReader, "ddex": DdexReader}
SUFFIXES = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".xml": "ddex"}


class Command(BaseCommand):
    help = (
        "Load products and their tracks from CSV (one row per track), NDJSON (one JSON:API "
        "product with its tracks per line) or DDEX ERN 4.3 XML files. Products are matched "
        "by UPC and tracks by product and ISRC: loading a file again updates, never "
        "duplicates."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, into="load into")
        parser.add_argument(
            "--format",
            choices=sorted(READERS),
            help="The files' format (default: by extension: .csv, .ndjson or .jsonl, .xml).",
        )
        parser.add_argument(
            "--atomic",
            action="store_true",
            help="All or nothing: stop at the first bad row and write nothing.",
        )
        parser.add_argument(
            "--single-process",
            action="store_true",
            help="Read the files in this process too (default: a second process reads and "
            "parses them ahead, where processes can be forked).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            metavar="ROWS",
            help="Rows validated and written together (default 2000); a batch takes the rest "
            "of its last product's rows, up to twice as many.",
        )

    def handle(
        self, files, organization, format, dry_run, atomic, report, batch_size, single_process,
        **options,
    ):  # fmt: skip
        organization = organization_for(organization)
        if batch_size < 1:
            raise CommandError("--batch-size is at least 1.")
        readers = [self.reader(path, format) for path in files]
        report = Report(self, report)
        progress = Progress(self.stderr, sum(reader.size for reader in readers))
        report.progress = progress
        loader = CatalogLoader(organization, report, batch_size, stop_on_problem=atomic)
        if not single_process and fork_available():
            readers = [ReadAhead(reader, loader) for reader in readers]
        whole = transaction.atomic() if dry_run or atomic else contextlib.nullcontext()
        rows = read = 0
        try:
            with custom_plans(), whole, fewer_collections():
                for reader in readers:
                    done = 0  # (a run stopped in its first batch gives none)
                    for done in loader.load(reader):
                        progress.update(read + reader.position(), rows + done)
                    rows, read = rows + done, read + reader.size
                    if loader.stopped:
                        break
                if dry_run or loader.stopped:
                    transaction.set_rollback(True)
        finally:
            report.close()
        if not dry_run and not loader.stopped and loader.rows_written() >= ANALYZED_AFTER:
            analyze([Label, Product, Track])
        progress.finish()
        self.summarize(loader, organization, rows, progress.elapsed(), dry_run, atomic)

    def reader(self, path, format):
        if not Path(path).is_file():
            raise CommandError(f"{path}: no such file.")
        format = format or SUFFIXES.get(Path(path).suffix.lower())
        if format is None:
            raise CommandError(f"{path}: say its format with --format (csv, ndjson or ddex).")
        return READERS[format](path)

    def summarize(self, loader, organization, rows, elapsed, dry_run, atomic):
        counts = loader.counts
        written = not dry_run and not loader.stopped
        heading = "Loaded" if written else "Validated, nothing written:"
        rate = rows / elapsed if elapsed > 0 else 0
        self.stdout.write(
            f"{heading} {rows:,} rows into organization {organization.slug} in "
            f"{elapsed:.1f} s ({rate:,.0f} rows/s)"
        )
        for kind in ("products", "tracks"):
            self.stdout.write(
                f"  {kind}: "
                + ", ".join(
                    f"{counts[f'{kind} {action}']:,} {action}"
                    for action in ("created", "updated", "unchanged")
                )
            )
        if counts["labels created"]:
            self.stdout.write(f"  labels: {counts['labels created']:,} created")
        failed = counts["rows failed"]
        self.stdout.write(f"  rows failed: {failed:,}")
        if loader.stopped:
            raise CommandError("A row failed (reported above): with --atomic nothing was written.")
        if failed:
            done = "validated" if dry_run else "loaded"
            raise CommandError(f"{failed} row(s) failed (reported above); the rest were {done}.")
