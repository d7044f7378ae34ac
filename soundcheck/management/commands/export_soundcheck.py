"""Write an organization's checks and tracks as Soundcheck's YAML, which import_soundcheck
reads back."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from organizations.cli import organization_for
from soundcheck import yaml_format
from soundcheck.models import Check, Level, SoundcheckTrack


class Command(BaseCommand):
    help = (
        "Write the organization's checks and tracks as Soundcheck YAML "
        "({checks: [...], tracks: [...]}, camelCase keys, null members left out)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help="The organization to export (needed when there is more than one).",
        )
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            default="-",
            help="Where to write the YAML; '-' (the default) is standard output.",
        )

    def handle(self, organization, output, **options):
        organization = organization_for(organization)
        checks = Check.objects.filter(organization=organization).order_by("slug")
        tracks = (
            SoundcheckTrack.objects.filter(organization=organization)
            .order_by("slug")
            .prefetch_related(Prefetch("levels", queryset=Level.objects.with_checks()))
        )
        document = {
            "checks": [yaml_format.check_item(check) for check in checks],
            "tracks": [yaml_format.track_item(track) for track in tracks],
        }
        text = yaml_format.dump(document)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as exc:
            raise CommandError(f"{output}: cannot be written: {exc}") from exc
        self.stdout.write(
            f"Wrote {len(document['checks'])} checks and {len(document['tracks'])} tracks "
            f"of {organization.slug} to {output}."
        )
