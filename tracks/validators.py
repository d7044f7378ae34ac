"""Rules for track fields, shared by the API, the admin and importers."""

import unicodedata

from django.core.exceptions import ValidationError
from stdnum import isrc
from stdnum.exceptions import ValidationError as StdnumError

from config.jsonapi.describe import describe, separated

NAMES = {"type": "array", "items": {"type": "string", "pattern": r"\S"}}


def normalize_isrc(value):
    """Upper case, without hyphens or spaces: ``es-a11-23-10001`` -> ``ESA112310001``."""
    return isrc.compact(value)


ISRC_PATTERN = separated(*["[A-Za-z]"] * 2, *["[A-Za-z0-9]"] * 3, *["[0-9]"] * 7)


@describe({"format": "isrc", "pattern": ISRC_PATTERN, "example": "ESA112310001"})
def validate_isrc(value):
    try:
        isrc.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"ISRC code is not valid: {exc.message}", "invalid_isrc") from exc


@describe(NAMES)
def validate_name_list(value):
    """A credit list: an array of non-empty strings (``["Artist name"]``)."""
    if not isinstance(value, list) or not all(
        isinstance(name, str) and name.strip() for name in value
    ):
        raise ValidationError("Must be an array of non-empty strings.", "invalid_names")


@describe({**NAMES, "minItems": 1})
def validate_required_name_list(value):
    validate_name_list(value)
    if not value:
        raise ValidationError("At least one name is required.", "empty_names")


@describe({"pattern": r"^(?!\.{1,2}$)(?=.*\S)[^/\\\u0000-\u001f\u007f-\u009f]+$"})
def validate_filename(value):
    """A file's own name, as file systems and object stores can hold it: one path component
    (no "/" or "\\", not "." or ".."), no control characters or lone surrogates, at most 255
    bytes in UTF-8 (the limit of common file systems)."""
    if value in (".", "..") or "/" in value or "\\" in value:
        raise ValidationError(
            "Must be a file name without a path: no '/' or '\\', and not '.' or '..'.",
            "invalid_filename",
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValidationError("A file name cannot hold control characters.", "invalid_filename")
    if len(value.encode()) > 255:
        raise ValidationError("A file name is at most 255 bytes in UTF-8.", "invalid_filename")
