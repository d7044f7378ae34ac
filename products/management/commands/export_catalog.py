"""Write an organization's products and tracks as CSV or NDJSON, as ``import_catalog``
reads them back."""

from django.core.management.base import BaseCommand

from organizations.cli import organization_for
from products.catalog.export import export
from products.catalog.formats import CsvWriter, NdjsonWriter

WRITERS = {"csv": CsvWriter, "ndjson": NdjsonWriter}


class Command(BaseCommand):
    help = (
        "Write an organization's products with their tracks as CSV (one row per track) or "
        "NDJSON (one JSON:API product with its tracks per line), to standard output or a file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help="The organization to export (needed when there is more than one).",
        )
        parser.add_argument("--format", choices=sorted(WRITERS), default="csv")
        parser.add_argument("--output", metavar="FILE", help="Default: standard output.")

    def handle(self, organization, format, output, **options):
        organization = organization_for(organization)
        if output is None:
            products, tracks = export(organization, WRITERS[format](self.stdout))
        else:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                products, tracks = export(organization, WRITERS[format](stream))
        self.stderr.write(f"{products:,} products and {tracks:,} tracks written.")
