"""The catalog's file formats, CSV and NDJSON, read as rows and written back.

Both name members as the API does. A row is one track with its product's members (or a
product alone); the loader takes rows whatever file they came from:
- **CSV**: one row per track; the track's members as they are (``title``, ``isrc-code``,
  ``audio-language`` by language code, ...), the product's prefixed ``product.``
  (``product.upc-code``, ``product.label`` by label name, ``product.language``, ...). An
  empty cell is null. Whole numbers, numbers and booleans (``true``/``false``) are read as
  such; a list of names (``artist``, the credits, ``territory-codes``) is its items
  separated by ``|`` (or a JSON array, when an item holds a ``|``); any other JSON member
  is JSON text. A row whose track cells are all empty is a product without tracks.
- **NDJSON**: one JSON:API document per line: the product as primary data (the label by
  name in its relationship's ``meta``, or by id as linkage; the language as linkage) and
  its tracks as ``included`` resource objects.
"""

import csv
import functools
import io
import math
import operator
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from config import jsoncodec
from config.jsonapi import fields as strict
from config.jsonapi.exceptions import InvalidDocument
from config.jsonapi.parsers import ATTRIBUTE_DEPTH, check_document
from config.jsonapi.serializers import member_error
from config.reporting import Problem
from config.validation import tuple_getter
from products.serializers import ProductSerializer
from tracks.models import CREDIT_ROLES
from tracks.serializers import TrackSerializer

PRODUCT_PREFIX = "product."
# Relationships a catalog file sets, and how: a product's label by name, languages by code.
PRODUCT_RELATIONSHIPS = ("label", "language")
TRACK_RELATIONSHIPS = ("audio-language",)
# JSON members holding a list of plain strings: ``|``-separated in a CSV cell.
LIST_MEMBERS = frozenset({"artist", *CREDIT_ROLES, "territory-codes"})
LIST_SEPARATOR = "|"


@dataclass(slots=True)
class Row:
    """One track as a file gives it, with its product's members, or a product alone
    (``track`` None). ``product`` holds ``label`` (a name) and ``language`` (a code) beside
    its attributes; ``track`` holds ``audio-language``. The pointers say where a member is
    in the file's own terms (``/product.upc-code``, ``/included/2/attributes/title``).
    Members are never changed once in a row: rows of one product may share one dict, and
    what was read of it (``CatalogLoader.read_members``)."""

    file: str
    where: str
    location: tuple
    product: dict
    track: dict | None
    product_pointer: Callable[[str], str]
    track_pointer: Callable[[str], str]
    # The members as the serializers' fields read them and the models' fields judge
    # them, once read (``CatalogLoader.read_members``, ``RowValidator.read``).
    product_read: tuple | None = None
    track_read: tuple | None = None

    def problem(self, pointer, message):
        return Problem(self.file, self.where, pointer, message, self.location)


def writable_members(serializer_class, relationships):
    """The members a catalog file carries for a type: its attributes a client may set
    when creating one, then the relationships the catalog sets."""
    return [*serializer_class.schema().writable_attributes, *relationships]


def product_members():
    return writable_members(ProductSerializer, PRODUCT_RELATIONSHIPS)


def track_members():
    return writable_members(TrackSerializer, TRACK_RELATIONSHIPS)


def csv_header():
    return [*(PRODUCT_PREFIX + member for member in product_members()), *track_members()]


class ByteCounter(io.RawIOBase):
    """A binary file that counts the bytes read from it (for progress)."""

    def __init__(self, raw):
        super().__init__()
        self.raw, self.position = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.raw.readinto(buffer)
        self.position += count or 0
        return count

    def close(self):
        self.raw.close()
        super().close()


class Reader:
    """A catalog file's rows, with how far into the file reading is (``position()`` in
    bytes, of ``size``). What cannot be read as a row is a ``Problem`` in its place (or a
    list of them, for one failure with several reasons)."""

    def __init__(self, path):
        self.path = str(path)
        self.size = os.path.getsize(path)
        self.counter = ByteCounter(open(path, "rb", buffering=0))  # noqa: SIM115 (closed by __iter__)

    def position(self):
        return self.counter.position

    def close(self):
        """Close the file without reading it (another process reads it)."""
        self.counter.close()

    def line(self):
        """The line being read, for a problem that stops the reading (None: unknown)."""
        records = getattr(self, "records", None)
        return records.line_num if records is not None else None

    def __iter__(self):
        binary = io.BufferedReader(self.counter, buffer_size=1 << 16)
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            try:
                yield from self.rows(text)
            except (UnicodeDecodeError, csv.Error) as exc:
                reason = (
                    f"not UTF-8 text: {exc.reason}" if isinstance(exc, UnicodeDecodeError) else exc
                )
                message = f"{reason}; the rest of the file is not read."
                yield file_problem(self.path, self.line(), message)


def file_problem(path, line, message):
    """A problem of the file itself at ``line`` (None: unknown), no member's."""
    if not line:
        return Problem(path, "file", "", message)
    return Problem(path, f"line {line}", "", message, (("line", line),))


# CSV


def _cell_reader(field):
    """How a CSV cell becomes the JSON value the API would be sent for ``field``: text
    that is not a valid number or boolean is left as text, so the field says why."""
    if isinstance(field, strict.StrictBooleanField):
        return lambda text: _BOOLEANS.get(text, text)
    if isinstance(field, strict.StrictIntegerField):
        return _integer
    if isinstance(field, strict.StrictFloatField):
        return _number
    if isinstance(field, strict.JSONField):
        return _json
    return None


_BOOLEANS = {"true": True, "false": False}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _integer(text):
    """A whole number, as JSON would send it; else the text, for the field to refuse (so
    too digits past Python's limit on converting them, as the API's JSON reading refuses)."""
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:
            return text
    return text


def _number(text):
    """A JSON-like number (no NaN or infinity, which JSON cannot send, nor a number past
    a double's range, which the API's JSON reading refuses); else the text."""
    if _INTEGER.fullmatch(text):
        return _integer(text)
    if _NUMBER.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else text
    return text


def _json(text):
    try:
        value = jsoncodec.loads(text)
    except ValueError:
        return text
    check_document(value, ATTRIBUTE_DEPTH)  # as the API refuses a document holding it
    return value


def _list(text):
    if text.startswith("["):
        return _json(text)
    return text.split(LIST_SEPARATOR)


def _cell_readers(serializer_class, members):
    fields = serializer_class.shared_fields()
    writable = serializer_class.schema().writable_attributes
    readers = {}
    for member in members:
        if member in LIST_MEMBERS:
            readers[member] = _list
        elif member in writable:
            readers[member] = _cell_reader(fields[writable[member]])
    return readers


class CsvReader(Reader):
    """Rows of a catalog CSV file (see the module's docstring)."""

    def rows(self, text):
        self.records = records = csv.reader(text)
        header = next(records, None)
        if header is None:
            return
        product_columns, track_columns = [], []
        for index, column in enumerate(header):
            if column.startswith(PRODUCT_PREFIX):
                product_columns.append((index, column.removeprefix(PRODUCT_PREFIX)))
            else:
                track_columns.append((index, column))
        refused = [
            *_refused_columns(
                ProductSerializer, product_columns, product_members(), PRODUCT_PREFIX
            ),
            *_refused_columns(TrackSerializer, track_columns, track_members(), ""),
        ]
        if len(set(header)) != len(header):
            duplicated = sorted({column for column in header if header.count(column) > 1})
            refused.append(("", f"Columns named twice: {', '.join(duplicated)}."))
        if refused:  # the file is not read (one failure): its every row would fail alike
            yield [Problem(self.path, "line 1", p, m, (("line", 1),)) for p, m in refused]
            return
        product_cells = _cell_readers(ProductSerializer, [m for _, m in product_columns])
        track_cells = _cell_readers(TrackSerializer, [m for _, m in track_columns])
        width = len(header)
        product_texts = tuple_getter([index for index, _ in product_columns])
        texts = product = None  # the product's cells, and its members, of the row before
        for values in records:
            line = records.line_num
            where, location = f"line {line}", (("line", line),)
            if not any(values):
                continue  # a blank line
            if len(values) != width:
                message = f"{len(values)} cells where the header has {width}."
                yield Problem(self.path, where, "", message, location)
                continue
            try:
                if "\x00" in "".join(values):  # (PostgreSQL cannot store it)
                    check_document(dict(zip(header, values, strict=True)))
                cells = product_texts(values)
                if cells != texts:  # (a product's rows follow each other)
                    product = _cells(values, product_columns, product_cells, PRODUCT_PREFIX)
                    texts = cells
                track = _cells(values, track_columns, track_cells, "")
            except InvalidDocument as exc:  # the API's refusal of such a member
                yield Problem(self.path, where, exc.pointer, str(exc.detail), location)
                continue
            yield Row(
                self.path,
                where,
                location,
                product,
                track if any(map(_given, track.values())) else None,
                _product_column,
                _track_column,
            )


_given = functools.partial(operator.is_not, None)  # (a value not None)


def _refused_columns(serializer_class, columns, members, prefix):
    """(pointer, the API's message) for each column that is not a member a catalog file
    sets (unknown, read-only, or a relationship it does not set)."""
    schema = serializer_class.schema()
    refused = []
    for _, member in columns:
        if member not in members:
            section = "relationships" if member in schema.relationships else "attributes"
            message = str(member_error(schema, section, member))
            if section == "relationships":
                message = f"A catalog file does not set {member}."
            refused.append((f"/{prefix}{member}", message))
    return refused


def _cells(values, columns, readers, prefix):
    """The members of ``columns`` (``(index, member)``), their cells read; a JSON cell
    the API would refuse raises ``InvalidDocument`` at its column's pointer."""
    members = {}
    for index, member in columns:
        text = values[index]
        if text == "":
            members[member] = None
        else:
            reader = readers.get(member)
            try:
                members[member] = text if reader is None else reader(text)
            except InvalidDocument as exc:
                exc.pointer = f"/{prefix}{member}{exc.pointer or ''}"
                raise
    return members


def _product_column(member):
    return f"/{PRODUCT_PREFIX}{member}"


def _track_column(member):
    return f"/{member}"


class CsvWriter:
    """Writes rows in the format ``CsvReader`` reads."""

    def __init__(self, stream):
        self.header = csv_header()
        self.product_members = product_members()
        self.track_members = track_members()
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(self.header)

    def write(self, product, tracks):
        """``product`` and each of ``tracks``: member -> the API's JSON value."""
        product_cells = [_cell(member, product.get(member)) for member in self.product_members]
        if not tracks:
            self.writer.writerow(product_cells + [""] * len(self.track_members))
        for track in tracks:
            track_cells = [_cell(member, track.get(member)) for member in self.track_members]
            self.writer.writerow(product_cells + track_cells)


def _cell(member, value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if member in LIST_MEMBERS and isinstance(value, list):
        plain = all(isinstance(item, str) and item and LIST_SEPARATOR not in item for item in value)
        if plain and value and not value[0].startswith("["):
            return LIST_SEPARATOR.join(value)
    if isinstance(value, (list, dict)) or member in LIST_MEMBERS:
        return jsoncodec.dumps(value).decode()
    return str(value)


# NDJSON


class NdjsonReader(Reader):
    """Rows of a catalog NDJSON file (see the module's docstring)."""

    def rows(self, text):
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            where, location = f"line {number}", (("line", number),)
            try:
                document = jsoncodec.loads(line)
            except ValueError as exc:
                yield Problem(self.path, where, "", f"not JSON: {exc}.", location)
                continue
            try:
                check_document(document)  # as the API refuses a request's
            except InvalidDocument as exc:
                yield Problem(self.path, where, exc.pointer, str(exc.detail), location)
                continue
            try:
                product, tracks = _document(document)
            except DocumentProblem as exc:
                yield Problem(self.path, where, exc.pointer, exc.message, location)
                continue
            common = (self.path, where, location, product)
            if not tracks:
                yield Row(*common, None, _product_member, _track_member(None))
            for index, track in tracks:
                yield Row(*common, track, _product_member, _track_member(index))


class DocumentProblem(Exception):
    def __init__(self, pointer, message):
        super().__init__(message)
        self.pointer, self.message = pointer, message


def _document(document):
    """(product members, [(index in included, track members)]) of one NDJSON line."""
    if not isinstance(document, dict):
        raise DocumentProblem("", "A line is a JSON:API document (an object).")
    unknown = set(document) - {"data", "included", "meta", "jsonapi", "links"}
    if unknown:
        raise DocumentProblem(f"/{sorted(unknown)[0]}", "not a member of a JSON:API document.")
    data = document.get("data")
    product = _resource(data, "products", "/data", PRODUCT_RELATIONSHIPS)
    included = document.get("included", [])
    if not isinstance(included, list):
        raise DocumentProblem("/included", "included is an array of resource objects.")
    tracks = [
        (index, _resource(track, "tracks", f"/included/{index}", TRACK_RELATIONSHIPS))
        for index, track in enumerate(included)
    ]
    return product, tracks


def _resource(resource, resource_type, pointer, relationships):
    if not isinstance(resource, dict):
        raise DocumentProblem(pointer, f"a {resource_type} resource object is required.")
    if resource.get("type") != resource_type:
        raise DocumentProblem(f"{pointer}/type", f"The type is {resource_type}.")
    attributes = resource.get("attributes", {})
    if not isinstance(attributes, dict):
        raise DocumentProblem(f"{pointer}/attributes", "attributes is an object.")
    members = dict(attributes)
    links = resource.get("relationships", {})
    if not isinstance(links, dict):
        raise DocumentProblem(f"{pointer}/relationships", "relationships is an object.")
    for member, relationship in links.items():
        at = f"{pointer}/relationships/{member}"
        if member == "tracks" and resource_type == "products":
            continue  # the linkage of the included tracks
        if member not in relationships:
            raise DocumentProblem(at, f"A catalog file does not set {member}.")
        members[member] = _related(relationship, at, member)
    return members


def _related(relationship, pointer, member):
    """A relationship as the catalog names its target: a label by name, a language by
    code (``None`` for null linkage)."""
    if not isinstance(relationship, dict):
        raise DocumentProblem(pointer, "A relationship is an object.")
    name = (relationship.get("meta") or {}).get("name") if member == "label" else None
    if name is not None and "data" not in relationship:
        return {"name": name}
    linkage = relationship.get("data")
    if linkage is None:
        return None
    if not isinstance(linkage, dict) or not isinstance(linkage.get("id"), str):
        raise DocumentProblem(f"{pointer}/data", "Linkage is {type, id}, the id a string.")
    expected = "labels" if member == "label" else "languages"
    if linkage.get("type") != expected:
        raise DocumentProblem(f"{pointer}/data/type", f"The type is {expected}.")
    return {"id": linkage["id"]} if member == "label" else linkage["id"]


def _product_member(member):
    section = "relationships" if member in PRODUCT_RELATIONSHIPS else "attributes"
    return f"/data/{section}/{member}"


def _track_member(index):
    return functools.partial(_included_member, index)  # a partial pickles, a closure not


def _included_member(index, member):
    section = "relationships" if member in TRACK_RELATIONSHIPS else "attributes"
    return f"/included/{index}/{section}/{member}"


class NdjsonWriter:
    """Writes products with their tracks in the format ``NdjsonReader`` reads."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, product, tracks):
        attributes = {m: v for m, v in product.items() if m not in PRODUCT_RELATIONSHIPS}
        document = {
            "data": {
                "type": "products",
                "attributes": attributes,
                "relationships": {
                    "label": {"meta": {"name": product["label"]}},
                    "language": {"data": {"type": "languages", "id": product["language"]}},
                    "tracks": {
                        "data": [{"type": "tracks", "lid": str(i)} for i in range(len(tracks))]
                    },
                },
            },
            "included": [
                {
                    "type": "tracks",
                    "lid": str(index),
                    "attributes": {m: v for m, v in track.items() if m not in TRACK_RELATIONSHIPS},
                    "relationships": {
                        "audio-language": {
                            "data": {"type": "languages", "id": track["audio-language"]}
                        }
                    },
                }
                for index, track in enumerate(tracks)
            ],
        }
        self.stream.write(jsoncodec.dumps(document).decode() + "\n")
