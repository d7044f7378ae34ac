"""Rules for track fields, shared by the API, the admin and importers."""

from django.core.exceptions import ValidationError
from stdnum import isrc
from stdnum.exceptions import ValidationError as StdnumError


def normalize_isrc(value):
    """Upper case, without hyphens or spaces: ``es-a11-23-10001`` -> ``ESA112310001``."""
    return isrc.compact(value)


def validate_isrc(value):
    try:
        isrc.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"ISRC code is not valid: {exc.message}", "invalid_isrc") from exc


def validate_name_list(value):
    """A credit list: an array of non-empty strings (``["Artist name"]``)."""
    if not isinstance(value, list) or not all(
        isinstance(name, str) and name.strip() for name in value
    ):
        raise ValidationError("Must be an array of non-empty strings.", "invalid_names")


def validate_required_name_list(value):
    validate_name_list(value)
    if not value:
        raise ValidationError("At least one name is required.", "empty_names")
