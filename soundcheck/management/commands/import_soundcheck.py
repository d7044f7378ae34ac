"""Import Soundcheck's YAML configuration (checks and tracks) into an organization.

Every item goes through the API's serializers, in its own savepoint: a bad item is
reported with its file, item and path (on screen, and as JSON Lines with ``--report``) and
the others are imported. Checks come first, so the tracks' levels can name them.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from rest_framework.exceptions import ValidationError

from config.jsonapi.exceptions import InvalidDocument, member_errors
from config.jsonapi.parsers import ATTRIBUTE_DEPTH, check_document
from config.reporting import Problem, Progress, Report, add_import_arguments
from organizations.cli import organization_for
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
        add_import_arguments(parser)
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help="Leave checks and tracks whose id exists as they are (default: update them).",
        )

    def handle(self, files, organization, dry_run, skip_existing, report, **options):
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
        report = Report(self, report)
        report.progress = progress = Progress(self.stderr, len(items), unit="items")
        # A track that fails is tried again once the others are in: its levels may name a
        # check by id that a later track defines in its own levels.
        retried = []
        try:
            with transaction.atomic():  # each item in a savepoint of its own
                for done, item in enumerate(items, 1):
                    outcome, said = run.one(item)
                    if item.kind == "track" and outcome == "failed":
                        item.warnings.clear()
                        retried.append(item)
                    else:
                        run.counts[item.kind][outcome] += 1
                        self.tell(report, said)
                    progress.update(done, done)
                for item in retried:  # (its problems, should it fail again, come last)
                    outcome, said = run.one(item)
                    run.counts[item.kind][outcome] += 1
                    self.tell(report, said)
                if dry_run:
                    transaction.set_rollback(True)
        finally:
            report.close()
        progress.finish()
        self.summarize(run, organization, dry_run)

    @staticmethod
    def tell(report, said):
        for each in said:
            if isinstance(each, Problem):
                report.problem(each)
            else:
                report.notice(each)

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


class Import:
    """Imports items one by one into ``organization``. ``counts``: what became of them, by
    kind of item, as the caller counts them (a track tried again is counted once)."""

    def __init__(self, organization, skip_existing):
        self.organization = organization
        self.skip_existing = skip_existing
        self.counts = {
            kind: dict.fromkeys(("created", "updated", "skipped", "failed"), 0) for kind in KINDS
        }
        self.id_fields = {}  # serializer class -> its id field (see stored_id)

    def one(self, item):
        """Import ``item``: ``(what became of it, what to report)``, the one of "created",
        "updated", "skipped" or "failed", the other a list of Problems and notices' texts."""
        said = []
        return self._import(item, said), said

    def _import(self, item, said):
        """Import ``item``, putting what to report in ``said``; returns what became of it."""
        if not isinstance(item.raw, dict):
            said.append(item.problem("", f"a {item.kind} is a mapping of its members."))
            return "failed"
        if not isinstance(item.id, str):
            said.append(item.problem("/id", f"a {item.kind} needs its id (a string)."))
            return "failed"
        try:  # what the API refuses in any document (a NUL, nesting too deep)
            check_document(item.raw, ATTRIBUTE_DEPTH - 1)  # (an item: a resource's attributes)
        except InvalidDocument as exc:
            said.append(item.problem(exc.pointer, str(exc.detail)))
            return "failed"
        where = yaml_format.key_not_text(item.raw)
        if where is not None:  # (a document's members are named by strings)
            said.append(item.problem(where, "A key is a string, as in JSON."))
            return "failed"
        model, serializer_class = KINDS[item.kind]
        slug = self.stored_id(serializer_class, item.id)
        existing = model.objects.filter(organization=self.organization, slug=slug).first()
        if existing is not None and self.skip_existing:
            said.append(f"{item.where()}: skipped, the {item.kind} exists.")
            return "skipped"
        if existing is not None and item.kind == "track" and not existing.is_editable:
            reason = "the track is not editable (isEditable is false): change it in the admin"
            said.append(f"{item.where()}: not updated, {reason}.")
            return "skipped"
        if item.kind == "check":
            data = yaml_format.check_resource(item, creating=existing is None)
        else:
            data = yaml_format.track_resource(item)
            if self.skip_existing:
                self.refer_to_existing_checks(data)
        for warning in item.warnings:
            said.append(f"{item.where()}: {warning}.")
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
            said.append(item.problem("", f"not saved: {exc}"))
            return "failed"
        if serializer.errors:
            for path, message in problems(serializer.errors, serializer_class.schema()):
                said.append(item.problem(yaml_format.yaml_path(item.raw, path), message))
            return "failed"
        return "created" if existing is None else "updated"

    def stored_id(self, serializer_class, given):
        """``given`` as the serializer's id field reads it (trimmed, say), which is what a
        created item is stored under and so what to look it up by; ``given`` when the
        field refuses it (the serializer then says why)."""
        field = self.id_fields.get(serializer_class)
        if field is None:
            serializer = serializer_class(context={}, unique_by_database=True)
            field = self.id_fields[serializer_class] = serializer.fields[
                serializer_class.schema().id_field
            ]
        try:
            return field.run_validation(given)
        except ValidationError:
            return given

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
