"""Import Soundcheck's YAML configuration (checks and tracks) into an organization.

Every item goes through the API's serializers, in its own savepoint: a bad item is
reported with its file, item and path and the others are imported. Checks come first, so
the tracks' levels can name them.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from config.jsonapi.exceptions import member_errors
from organizations.models import Organization
from soundcheck import yaml_format
from soundcheck.models import Check, SoundcheckTrack
from soundcheck.serializers import CheckSerializer, SoundcheckTrackSerializer

KINDS = {
    "check": (Check, CheckSerializer),
    "track": (SoundcheckTrack, SoundcheckTrackSerializer),
}


class Command(BaseCommand):
    help = (
        "Import checks and tracks from Soundcheck YAML files (lists of checks, lists of "
        "tracks under tracks: or programs:, one item, or an app-config's soundcheck:). "
        "Existing ids are updated unless --skip-existing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help="The organization to import into (needed when there is more than one).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate everything and report, but write nothing.",
        )
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help="Leave checks and tracks whose id exists as they are (default: update them).",
        )

    def handle(self, files, organization, dry_run, skip_existing, **options):
        organization = organization_for(organization)
        items = []
        try:
            for path in files:
                found = yaml_format.load(path)
                if not found:
                    self.stdout.write(f"{path}: no checks or tracks found.")
                items += found
        except yaml_format.FormatError as exc:
            raise CommandError(str(exc)) from exc
        # Checks first: the tracks' levels refer to them.
        items.sort(key=lambda item: item.kind != "check")
        run = Import(organization, skip_existing)
        progress = Progress(self.stderr, len(items))
        with transaction.atomic():  # each item in a savepoint of its own
            for item in items:
                for line in run.one(item):
                    self.report(line, progress)
                progress.advance()
            if dry_run:
                transaction.set_rollback(True)
        progress.done()
        self.summarize(run, organization, dry_run)

    def report(self, line, progress):
        level, text = line
        progress.clear()  # the line replaces the bar, drawn again after it
        (self.stderr if level == "error" else self.stdout).write(text)

    def summarize(self, run, organization, dry_run):
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}organization {organization.slug}")
        for kind in ("check", "track"):
            counts = run.counts[kind]
            self.stdout.write(
                f"  {kind}s: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['skipped']} skipped, {counts['failed']} failed"
            )
        failed = sum(counts["failed"] for counts in run.counts.values())
        if failed:
            done = "validated" if dry_run else "imported"
            raise CommandError(f"{failed} item(s) failed (reported above); the rest were {done}.")


def organization_for(slug):
    """The organization ``--organization`` names, or the only one there is."""
    if slug is not None:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization {slug!r}.")
        return organization
    organizations = list(Organization.objects.all()[:2])
    if len(organizations) != 1:
        raise CommandError(
            "Name the organization with --organization SLUG"
            + (" (there is none yet)." if not organizations else ".")
        )
    return organizations[0]


class Import:
    """Imports items one by one into ``organization`` and counts what became of them."""

    def __init__(self, organization, skip_existing):
        self.organization = organization
        self.skip_existing = skip_existing
        self.counts = {
            kind: dict.fromkeys(("created", "updated", "skipped", "failed"), 0) for kind in KINDS
        }

    def one(self, item):
        """Import ``item``; yields the report lines, ``(level, text)``."""
        counts = self.counts[item.kind]
        if not isinstance(item.raw, dict):
            counts["failed"] += 1
            yield "error", f"{item.where()}: a {item.kind} is a mapping of its members."
            return
        if not isinstance(item.id, str):
            counts["failed"] += 1
            yield "error", f"{item.where()}: /id: a {item.kind} needs its id (a string)."
            return
        model, serializer_class = KINDS[item.kind]
        existing = model.objects.filter(organization=self.organization, slug=item.id).first()
        if existing is not None and self.skip_existing:
            counts["skipped"] += 1
            yield "notice", f"{item.where()}: skipped, the {item.kind} exists."
            return
        if existing is not None and item.kind == "track" and not existing.is_editable:
            counts["skipped"] += 1
            reason = "the track is not editable (isEditable is false): change it in the admin"
            yield "notice", f"{item.where()}: not updated, {reason}."
            return
        if item.kind == "check":
            data = yaml_format.check_resource(item, creating=existing is None)
        else:
            data = yaml_format.track_resource(item)
            if self.skip_existing:
                self.refer_to_existing_checks(data)
        for warning in item.warnings:
            yield "notice", f"{item.where()}: {warning}."
        serializer = serializer_class(
            existing,
            data=data,
            partial=existing is not None,
            context={"organization": self.organization},
        )
        try:
            with transaction.atomic():
                if serializer.is_valid():
                    serializer.save()
        except DatabaseError as exc:
            counts["failed"] += 1
            yield "error", f"{item.where()}: not saved: {exc}"
            return
        if serializer.errors:
            counts["failed"] += 1
            for path, message in problems(serializer.errors, serializer_class.schema()):
                where = yaml_format.yaml_path(item.raw, path)
                yield "error", f"{item.where()}: {where + ': ' if where else ''}{message}"
            return
        counts["created" if existing is None else "updated"] += 1

    def refer_to_existing_checks(self, data):
        """With --skip-existing a level's check that exists is referred to, not updated."""
        levels = data["attributes"].get("levels")
        if not isinstance(levels, list):
            return
        checks = [
            check
            for level in levels
            if isinstance(level, dict) and isinstance(level.get("checks"), list)
            for check in level["checks"]
            if isinstance(check, dict) and isinstance(check.get("id"), str)
        ]
        existing = set(
            Check.objects.filter(
                organization=self.organization, slug__in={check["id"] for check in checks}
            ).values_list("slug", flat=True)
        )
        for check in checks:
            if check["id"] in existing:
                for member in set(check) - {"id"}:
                    del check[member]


def problems(detail, schema):
    """A serializer's error detail as ``([member, inner, ...], message)``: field names
    become members (``owner_entity_ref`` -> ``owner-entity-ref``, the id field ``id``), and
    nested detail (``{"rule": {"all": {"0": ...}}}``) a path."""
    return [
        (where.split("/") if where else [], str(message))
        for where, message in member_errors(detail, schema)
    ]


class Progress:
    """``[#####     ] 12/40`` on standard error, redrawn in place, when it is a terminal."""

    WIDTH = 30

    def __init__(self, stream, total):
        self.stream, self.total, self.count = stream, total, 0
        self.shown = total > 0 and stream.isatty()
        self.draw()

    def advance(self):
        self.count += 1
        self.draw()

    def draw(self):
        if not self.shown:
            return
        filled = self.WIDTH * self.count // self.total
        bar = "#" * filled + " " * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.count}/{self.total}", ending="", style_func=str)
        self.stream.flush()

    def clear(self):
        if self.shown:
            self.stream.write("\r\x1b[K", ending="", style_func=str)

    def done(self):
        if self.shown:
            self.stream.write("", style_func=str)
