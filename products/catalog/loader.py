"""Loading catalog rows (products and their tracks) into an organization, a batch at a time.

Every row gets the API's rules: its members are read by the API's serializer fields and
the product and track are validated by their models (``config.bulk``). What the API asks
the database per request is asked here once per batch: the products the batch names (by
UPC), their stored tracks (matched by product and ISRC), the languages; labels are read
once per run (and created, by name, when missing, with the first product written with
them: a refused product leaves no label behind). Uniqueness is checked within the batch
and against the stored rows, and the database's constraints back it: should a batch's
writes be refused all the same (a row written meanwhile by someone else), its rows are
written again one by one, so that only the one at fault fails.

Outside a transaction on PostgreSQL, a batch is written behind (``config.bulk.WriteBehind``):
in a thread, on a connection of its own, while the next batch is validated. A batch takes
the rest of its last product's rows, so that the next batch rarely shares a product with
it; one that does waits for the writing before reading its stored rows. Problems are
reported in the order of the file all the same: a batch's after those of the batch before.

Rows are loaded in order and idempotently: a product is matched by its UPC (which an
imported product must have) and a track by its product and ISRC, so loading a file
again updates what it created, and leaves unchanged what it would not change.
"""

import contextlib
import functools
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from config.bulk import RowValidator, WriteBehind, copy_new, insert, set_on_save, upsert
from config.jsonapi.relations import Relationship
from tracks.models import Track
from tracks.serializers import TrackSerializer

from ..models import Label, Language, Product
from ..serializers import ProductSerializer
from .formats import PRODUCT_RELATIONSHIPS, TRACK_RELATIONSHIPS, Row

_MISSING_ROW = Relationship.default_error_messages["does_not_exist"]


class Group:
    """One product of a batch and the rows that carry it."""

    def __init__(self, row, members):
        self.row = row  # the first row that gave these members
        self.members = members
        self.instance = None
        self.stored = None  # the stored values, when the product exists
        self.problems = []
        self.action = None  # "created", "updated" or "unchanged"
        self.attrs = {}
        self.upc = None


class CatalogLoader:
    """Loads rows into ``organization``'s catalog and counts what became of them.

    ``report`` takes each problem. Rows are written a batch at a time, each batch in a
    transaction of its own (a savepoint inside the caller's). ``stop_on_problem``: stop
    after the first batch with a problem (the caller rolls back, for ``--atomic``).
    """

    def __init__(self, organization, report, batch_size=2000, stop_on_problem=False):
        self.organization = organization
        self.report = report
        self.batch_size = batch_size
        self.stop_on_problem = stop_on_problem
        self.products = RowValidator(ProductSerializer)
        self.tracks = RowValidator(TrackSerializer)
        self.counts = Counter()
        self.stopped = False
        self.labels = {label.name: label for label in organization.labels.all()}
        self.labels_by_id = {str(label.pk): label for label in self.labels.values()}
        self.languages = {}
        self.previous_products = {}  # UPC -> Group, of the batch before (rows of one
        # product usually follow each other, and may straddle two batches)
        self.writer = None  # a WriteBehind, during a load outside a transaction
        self.writing = None  # the UPCs of the batch it is writing (all: see write_batch)
        self.last_product_read = None  # (the members, what read_members read of them)

    def load(self, rows):
        """Load ``rows`` (``Row``s, or ``Problem``s a reader found, reported in their
        place), yielding after each batch the number of rows done so far."""
        done = 0
        self.writer = None if self.stop_on_problem else WriteBehind.for_load()
        try:
            for batch in self.batches(rows):
                done += len(batch)
                self.load_batch(batch)
                if self.stopped:
                    return
                yield done
            self.written()
        finally:
            self.stop_writing()

    def batches(self, rows):
        """``rows`` in batches of ``batch_size``, a batch taking the rest of its last
        product's rows, up to twice the size."""
        batch = []
        for row in rows:
            if len(batch) >= self.batch_size and (
                len(batch) >= 2 * self.batch_size or not _same_product(batch[-1], row)
            ):
                yield batch
                batch = []
            batch.append(row)
        if batch:
            yield batch

    def fail(self, *problems):
        """A row failed, for ``problems``."""
        self.counts["rows failed"] += 1
        for problem in problems:
            self.report.problem(problem)
        if self.stop_on_problem:
            self.stopped = True

    # A batch

    def load_batch(self, batch):
        groups, good, failures = self.validate_batch(batch)
        self.written()  # the batch before: its problems come first
        for problems in failures:
            self.fail(*problems)
        if not self.stopped:
            self.write_batch(groups, good)
        self.previous_products = groups

    def validate_batch(self, batch):
        """Validate a batch: (its products by UPC, its good rows as ``(row, its product's
        group, track or None)``, the problems of each of its failed rows, in the order of
        the file)."""
        rows = [row for row in batch if isinstance(row, Row)]  # the others: a reader's problems
        groups, row_groups = self.group_products(rows)
        if self.writing is not None and (
            self.writing is _ALL or not self.writing.isdisjoint(groups)
        ):
            self.written()  # what this batch reads is being written
        self.resolve_products(groups)
        results = self.resolve_tracks(rows, row_groups)
        good, failures = [], []
        for entry in batch:
            track = results.get(id(entry), entry if isinstance(entry, list) else [entry])
            if isinstance(track, list):
                failures.append(track)
            else:
                good.append((entry, row_groups[id(entry)], track))
        return groups, good, failures

    def write_batch(self, groups, good):
        """Write a validated batch: now, or behind (its outcome counted by ``written``)."""
        if self.writer is None:
            self.count(self.write_now(groups, good))
        else:
            # A label it creates may be given to a stored product of the next batch, which
            # Product.clean() then looks up: the next batch waits.
            new_label = any(
                _creates_label(g.instance)
                for g in groups.values()
                if g.action in ("created", "updated")
            )
            self.writer.submit(self.write_now, groups, good)
            self.writing = _ALL if new_label else set(groups)

    def written(self):
        """Wait for the batch being written behind, if any, and count what became of it."""
        if self.writing is not None:
            self.writing = None
            self.count(self.writer.wait())

    def stop_writing(self):
        """Close the writer, counting and reporting first what the batch it is writing
        did (a load stopped by an exception: that batch commits all the same)."""
        if self.writer is None:
            return
        try:
            with contextlib.suppress(Exception):  # the load's own exception stands
                self.written()
        finally:
            writer, self.writer = self.writer, None
            writer.close()

    def rows_written(self):
        """The products and tracks created or updated so far, and the labels created."""
        return self.counts["labels created"] + sum(
            self.counts[f"{kind} {action}"]
            for kind in ("products", "tracks")
            for action in ("created", "updated")
        )

    def count(self, outcome):
        counts, failures = outcome
        self.counts.update(counts)
        for problem in failures:
            self.fail(problem)

    def write_now(self, groups, good):
        """Write a batch: ``(what was done, as counts; the problems of the rows the
        database refused)``. It may run beside the validation of the next batch
        (``WriteBehind``): it changes nothing that validation reads but the labels it
        saves, and a batch creating one makes the next wait (``write_batch``)."""
        labels = []
        try:
            with transaction.atomic():
                return self.write(groups, good, labels), []
        except DatabaseError:  # a clash with a row written meanwhile, say
            self.forget_labels(labels)
            return self.write_one_by_one(groups, good)

    def group_products(self, rows):
        """The batch's products by UPC (one ``Group`` each), and each row's group. Rows of
        one product must agree on its members (with those of the same UPC earlier in the
        batch, or in the batch before)."""
        groups, by_members, row_groups = {}, {}, {}
        for row in rows:
            key = _hashable(row.product)
            group = by_members.get(key)
            if group is None:
                group = self.product_group(row)
                upc = group.upc
                if upc is not None:
                    earlier = groups.get(upc) or self.previous_products.get(upc)
                    if earlier is not None and earlier.members != group.members:
                        group = self.disagreeing(row, group, earlier)
                    elif upc in groups:
                        group = groups[upc]
                    else:
                        groups[upc] = group
                by_members[key] = group
            row_groups[id(row)] = group
        return groups, row_groups

    def product_group(self, row):
        """Read and check a product's members, without the database."""
        group = Group(row, row.product)
        group.attrs, problems, _ = self.read_members(row).product_read
        group.problems = _at(row.product_pointer, problems)
        if not group.problems and group.attrs.get("upc_code") is None:
            message = "A product is matched by its UPC: give one."
            group.problems.append((row.product_pointer("upc-code"), message))
        if not group.problems:
            group.upc = group.attrs["upc_code"]
            group.instance = self.products.new(group.attrs)
        return group

    def read_members(self, row):
        """``row`` with its members read by the serializers' fields, as the API reads a
        document's attributes, and judged by the models' fields (no database): its
        product's, and its track's, each as ``RowValidator.read`` gives them. Done ahead
        in another process (``readahead``), else here."""
        if row.product_read is None:
            last = self.last_product_read
            if last is not None and last[0] is row.product:  # (a product's rows follow
                row.product_read = last[1]  # each other, its members one dict: read once)
            else:
                row.product_read = self.products.read(row.product, PRODUCT_RELATIONSHIPS)
                self.last_product_read = (row.product, row.product_read)
        if row.track is not None and row.track_read is None:
            row.track_read = self.tracks.read(row.track, TRACK_RELATIONSHIPS)
        return row

    def disagreeing(self, row, group, earlier):
        member = next(
            (m for m in group.members if group.members.get(m) != earlier.members.get(m)), None
        )
        group = Group(row, group.members)
        group.problems = [
            (
                row.product_pointer(member or "upc-code"),
                f"The product's members differ from those of the same UPC at "
                f"{earlier.row.where} of {earlier.row.file}: rows of one product agree.",
            )
        ]
        return group

    def resolve_products(self, groups):
        """Match the batch's products with the stored ones, resolve their label and
        language, and validate each as its model does."""
        upcs = [upc for upc, group in groups.items() if not group.problems]
        names = [field.attname for field in Product._meta.concrete_fields]
        stored = {
            values[names.index("upc_code")]: values
            for values in Product.objects.filter(upc_code__in=upcs)
            .order_by()
            .values_list(*names, "label__organization_id")
        }
        self.find_languages(
            group.members.get("language") for group in groups.values() if not group.problems
        )
        for upc, group in groups.items():
            if group.problems:
                continue
            values = stored.get(upc)
            if values is not None and values[-1] != self.organization.pk:
                message = _unique_message(Product, ("upc_code",))
                group.problems.append((group.row.product_pointer("upc-code"), message))
                continue
            if values is not None:
                group.stored = Product.from_db(None, names, values[:-1])
                instance = Product.from_db(None, names, values[:-1])
                for name, value in group.attrs.items():
                    setattr(instance, name, value)
            else:
                instance = group.instance
            group.instance = instance
            self.relate_product(group)
            if group.problems:
                continue
            only = None if values is not None else frozenset((*group.attrs, "label", "language"))
            judged = group.row.product_read[2]
            problems = self.products.clean(instance, ("label", "language"), only, judged)
            group.problems += _at(group.row.product_pointer, problems)
            if not group.problems:
                group.action = _action(group.stored, instance)

    def relate_product(self, group):
        members, row, instance = group.members, group.row, group.instance
        label = members.get("label", _ABSENT)
        if label is _ABSENT or label is None:
            if label is None or instance.pk is None:
                group.problems.append((row.product_pointer("label"), "A product has a label."))
        else:
            found = self.label(label)
            if isinstance(found, str):
                group.problems.append((row.product_pointer("label"), found))
            else:
                self.products.relate(instance, "label", found)
        language = members.get("language", _ABSENT)
        if language is _ABSENT and instance.pk is not None:
            return
        found = self.language(language)
        if isinstance(found, str):
            group.problems.append((row.product_pointer("language"), found))
        else:
            self.products.relate(instance, "language", found)

    def label(self, given):
        """The organization's label ``given`` names (``{"name": ...}``, created when
        missing, or ``{"id": ...}``), or why there is none."""
        if isinstance(given, str):
            given = {"name": given}
        if "id" in given:
            return self.labels_by_id.get(given["id"]) or _MISSING_ROW.format(
                expected="labels", id=given["id"]
            )
        name = given.get("name")
        if not isinstance(name, str) or not name.strip():
            return "A label is named by a non-empty string."
        name = name.strip()
        if name not in self.labels:
            label = Label(organization=self.organization, name=name)
            try:
                label.full_clean()
            except ValidationError as exc:
                return " ".join(exc.messages)
            self.labels[name] = label  # saved with the first product written with it
        return self.labels[name]

    def save_label(self, product):
        """Save the new label ``product`` was given, as the product is written (a label is
        not created for products that fail), and link the product to it. The label's
        name when it was saved, else None."""
        label = product.label
        saved = label._state.adding
        if saved:
            label.save()
            self.labels_by_id[str(label.pk)] = label
        product.label = label  # its id (saved again, after a rollback, for another product)
        return label.name if saved else None

    def forget_labels(self, names):
        """The labels of ``names`` were saved in a transaction rolled back: new again."""
        for name in names:
            label = self.labels[name]
            del self.labels_by_id[str(label.pk)]
            label.pk = None
            label._state.adding = True

    def find_languages(self, codes):
        wanted = {code for code in codes if isinstance(code, str)} - set(self.languages)
        if wanted:
            for language in Language.objects.filter(code__in=wanted):
                self.languages[language.code] = language
            for code in wanted - set(self.languages):
                self.languages[code] = None

    def language(self, code):
        if code is None or code is _ABSENT:
            return "A language is required."
        if not isinstance(code, str):
            return "A language is named by its code (a string)."
        found = self.languages.get(code, _ABSENT)
        if found is _ABSENT:
            self.find_languages([code])
            found = self.languages[code]
        return found or _MISSING_ROW.format(expected="languages", id=code)

    def resolve_tracks(self, rows, row_groups):
        """Each row's track validated (by the row's ``id``): its instance (None for a
        product alone), or its list of ``Problem``s."""
        groups = {id(group): group for group in row_groups.values()}.values()
        stored_products = [g.stored.pk for g in groups if g.stored is not None and not g.problems]
        names = _stored_columns(Track)
        product, isrc, volume, number = map(
            names.index, ("product_id", "isrc_code", "volume_number", "track_number")
        )
        stored, positions = {}, {}
        # Unordered: ordered by id (the models' order), PostgreSQL, whose statistics lag
        # behind a bulk load, walked the whole primary key for each batch.
        wanted = Track.objects.filter(product_id__in=stored_products).order_by()
        for values in wanted.values_list(*names):
            stored[(values[product], values[isrc])] = values
            positions[(values[product], values[volume], values[number])] = values[isrc]
        self.find_languages(row.track.get("audio-language") for row in rows if row.track)
        results, taken, isrcs = {}, {}, {}
        for row in rows:
            group = row_groups[id(row)]
            if group.problems:
                results[id(row)] = self.product_problem(row, group)
                continue
            if row.track is None:
                results[id(row)] = None
                continue
            problems, track = self.track(row, group, stored, names)
            if not problems:
                problems = self.unique(row, group, track, positions, taken, isrcs)
            if problems:
                results[id(row)] = [row.problem(*problem) for problem in problems]
            else:
                results[id(row)] = track
        return results

    def product_problem(self, row, group):
        """A row whose product failed: the product's problems at its first row; the others
        refer to it."""
        if group.row is row or group.row.where == row.where:
            return [row.problem(*problem) for problem in group.problems]
        message = f"Not loaded: its product at {group.row.where} was refused."
        return [row.problem(row.product_pointer("upc-code"), message)]

    def track(self, row, group, stored, names):
        members = row.track
        attrs, problems, judged = self.read_members(row).track_read
        pointer = row.track_pointer
        if problems:
            return _at(pointer, problems), None
        product = group.instance
        values = stored.get((product.pk, attrs.get("isrc_code"))) if product.pk else None
        if values is None:
            problems = self.tracks.missing(members)
            if problems:
                return _at(pointer, problems), None
            track = self.tracks.new(attrs)
            previous = None
        else:
            track = self.tracks.stored(names, values)
            previous = dict(track.__dict__)
            for name, value in attrs.items():
                setattr(track, name, value)
        self.tracks.relate(track, "product", product)
        if "audio-language" in members or values is None:
            found = self.language(members.get("audio-language"))
            if isinstance(found, str):
                return [(pointer("audio-language"), found)], None
            self.tracks.relate(track, "audio_language", found)
        track._import_previous = previous
        # (a frozenset: the verdicts' lookups by it take it as it is, its hash kept)
        only = None if values is not None else frozenset((*attrs, "product", "audio_language"))
        problems = self.tracks.clean(track, ("product", "audio_language"), only, judged)
        return _at(pointer, problems), track

    def unique(self, row, group, track, positions, taken, isrcs):
        """The track's uniqueness within its product, against the rows before it in the
        batch and the stored tracks. A stored track holding the position is no clash when
        a row before this one moved it (the rows are written in their order)."""
        product = group.upc
        problems = []
        earlier = isrcs.get((product, track.isrc_code))
        if earlier is not None:
            message = _unique_message(Track, ("product", "isrc_code"))
            problems.append((row.track_pointer("isrc-code"), f"{message} (see {earlier})"))
        position = (track.volume_number, track.track_number)
        holder = taken.get((product, *position))
        stored = positions.get((track.product_id, *position))
        if stored is not None and (stored == track.isrc_code or (product, stored) in isrcs):
            stored = None
        if holder is not None or stored is not None:
            fields = ("product", "volume_number", "track_number")
            message = _unique_message(Track, fields)
            seen = f" (see {holder})" if holder else ""
            problems.append((row.track_pointer("track-number"), f"{message}{seen}"))
        if not problems:
            isrcs[(product, track.isrc_code)] = row.where
            taken[(product, *position)] = row.where
        return problems

    # Writing

    def write(self, groups, tracks, labels):
        """The batch's new labels (their names put in ``labels``), its products, then its
        tracks, each in one statement (or a COPY); what is unchanged is not written.
        Returns the counts."""
        done = Counter()
        for group in groups.values():
            if group.action in ("created", "updated"):
                saved = self.save_label(group.instance)
                if saved is not None:
                    labels.append(saved)
        done["labels created"] = len(labels)
        created = [g.instance for g in groups.values() if g.action == "created"]
        if created:  # a plain INSERT: a UPC taken meanwhile (by anyone) is refused
            insert(Product, created, "upc_code")
        updated = [g.instance for g in groups.values() if g.action == "updated"]
        if updated:  # rows of this organization, read in this batch (one deleted since
            # comes back with another id, and its tracks refuse the batch: one by one)
            upsert(Product, updated, ["upc_code"], _written_fields(Product, ["upc_code"]))
        writes = {"created": [], "updated": [], "unchanged": []}
        for _row, group, track in tracks:
            if track is not None:
                self.tracks.relate(track, "product", group.instance)  # its id, now it has one
                writes[_action(track._import_previous, track)].append(track)
        for action, written in writes.items():
            if written:
                done[f"tracks {action}"] += len(written)
        # Updates first: a new track may take the position a stored one leaves (unique()),
        # and the database checks each row's position as it is written.
        if writes["updated"]:
            upsert(Track, writes["updated"], _TRACK_KEY, _written_fields(Track, _TRACK_KEY))
        if writes["created"]:  # a track written meanwhile (by anyone) refuses the batch
            copy_new(Track, writes["created"])
        for group in groups.values():
            if group.action:
                done[f"products {group.action}"] += 1
        return done

    def write_one_by_one(self, groups, rows):
        """The batch's writes were refused: write each product and track on its own, so
        that the one at fault is reported and the others are written. Returns the counts
        and the refused rows' problems."""
        refused, done, failures = {}, Counter(), []
        for upc, group in groups.items():
            if group.action not in ("created", "updated"):
                continue
            label = None
            if group.action == "created":  # new again: its INSERT was rolled back
                group.instance.pk = None
                group.instance._state.adding = True
            try:
                with transaction.atomic():
                    label = self.save_label(group.instance)
                    group.instance.save()
            except DatabaseError as exc:
                if label is not None:
                    self.forget_labels([label])
                refused[upc] = self.refusal(group.instance, exc)
            else:
                done[f"products {group.action}"] += 1
                done["labels created"] += label is not None
        for group in groups.values():
            if group.action == "unchanged":
                done["products unchanged"] += 1
        for row, group, track in rows:
            if group.upc in refused:
                message = refused[group.upc]
                if group.row is not row:
                    message = f"Not loaded: its product at {group.row.where} was refused."
                failures.append(row.problem(row.product_pointer("upc-code"), message))
                continue
            if track is None:
                continue
            self.tracks.relate(track, "product", group.instance)
            action = _action(track._import_previous, track)
            if action != "unchanged":
                try:
                    with transaction.atomic():
                        if action == "created":
                            track.save()
                        else:  # the fields the batch's upsert writes (as it read them)
                            track.save(update_fields=_written_fields(Track, _TRACK_KEY))
                except DatabaseError as exc:
                    problem = row.problem(row.track_pointer("isrc-code"), self.refusal(track, exc))
                    failures.append(problem)
                    continue
            done[f"tracks {action}"] += 1
        return done, failures

    @staticmethod
    def refusal(instance, exc):
        """Why the database refused ``instance``: its uniqueness rule, as the API names it,
        else the database's own words."""
        try:
            instance.validate_unique()
            instance.validate_constraints()
        except ValidationError as error:
            return " ".join(error.messages)
        return f"Refused by the database: {exc}"


_ABSENT = object()
_TRACK_KEY = ("product", "isrc_code")  # a track's match in the stored ones
_ALL = object()  # CatalogLoader.writing: the next batch waits whatever it reads


def _at(pointer, problems):
    """``(member path, message)`` problems as ``(pointer in the file, message)``: the
    member's pointer, then the path inside it (``/stream-conditions`` + ``/usdc-purchase``)."""
    located = []
    for path, message in problems:
        member, slash, inner = path.partition("/")
        located.append((pointer(member) + slash + inner if member else "", message))
    return located


def _unique_message(model, fields):
    """The words ``full_clean`` (and so the API) uses for a uniqueness rule broken."""
    return model().unique_error_message(model, fields).messages[0]


def _creates_label(product):
    """Whether writing ``product`` saves its label first (a label not saved yet): told
    without reading a stored product's label from the database."""
    label = Product.label.field.get_cached_value(product, None)
    return label is not None and label._state.adding


def _same_product(row, other):
    return (
        isinstance(row, Row)
        and isinstance(other, Row)
        and (row.product is other.product or row.product == other.product)
    )


def _hashable(members):
    try:
        key = tuple(members.items())
        hash(key)
        return key
    except TypeError:
        return repr(sorted(members.items(), key=lambda item: item[0]))


def _written_fields(model, unique_fields):
    """The fields an import writes on an update: all but the keys and the derived ones."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in unique_fields
    ] + ["updated_at"]


def _action(previous, instance):
    """ "created", "updated" or "unchanged", comparing ``instance`` with ``previous`` (the
    stored row's instance or ``__dict__``, None for a new row)."""
    if previous is None:
        return "created"
    before = previous if isinstance(previous, dict) else previous.__dict__
    after = instance.__dict__
    for attname in _compared(type(instance)):
        if before.get(attname) != after.get(attname):
            return "updated"
    return "unchanged"


@functools.cache
def _stored_columns(model):
    """The columns of a stored row an import reads: all but the times Django sets on
    save, which nothing validates, compares or writes back (a row written one by one is
    saved with the fields the upsert writes)."""
    return [field.attname for field in model._meta.concrete_fields if not set_on_save(field)]


@functools.cache
def _compared(model):
    """The columns ``_action`` compares: all but the time of the last update."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.name != "updated_at")
