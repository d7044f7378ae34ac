"""Rules for track fields, shared by the API, the admin and importers."""

import functools
import re
import unicodedata

from django.core.exceptions import ValidationError
from stdnum import isrc
from stdnum.exceptions import ValidationError as StdnumError

from config.jsonapi.describe import describe, separated

NAMES = {"type": "array", "items": {"type": "string", "pattern": r"\S"}}


# An ISRC already in the form python-stdnum's ``compact`` gives (ASCII letters and digits,
# which it leaves as they are): a value is normalised on its way through the serializer's
# field, then seen again by the model's field and its check constraint.
_COMPACT_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")


def normalize_isrc(value):
    """Upper case, without hyphens or spaces: ``es-a11-23-10001`` -> ``ESA112310001``. A
    code already compact is returned as it is, as ``compact`` would, without its work."""
    if isinstance(value, str) and _COMPACT_ISRC.fullmatch(value):
        return value
    return isrc.compact(value)


ISRC_PATTERN = separated(*["[A-Za-z]"] * 2, *["[A-Za-z0-9]"] * 3, *["[0-9]"] * 7)


@describe({"format": "isrc", "pattern": ISRC_PATTERN, "example": "ESA112310001"})
def validate_isrc(value):
    if isinstance(value, str) and _COMPACT_ISRC.fullmatch(value):
        problem = _country_problem(value[:2])
    else:
        problem = _isrc_problem(value)
    if problem is not None:
        raise ValidationError(f"ISRC code is not valid: {problem}", "invalid_isrc")


def _isrc_problem(value):
    """python-stdnum's reason ``value`` is not an ISRC, or None."""
    try:
        isrc.validate(value)
    except StdnumError as exc:
        return exc.message
    return None


@functools.cache
def _country_problem(country):
    """python-stdnum's verdict on every ISRC in compact form (``_COMPACT_ISRC``) of
    ``country``: for those, its length and format hold, and its verdict depends on the
    country code alone (at most 676 of them)."""
    return _isrc_problem(f"{country}AAA0000000")


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
