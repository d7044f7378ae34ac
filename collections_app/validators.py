"""Rules for collection and collection-track fields, shared by the API and the admin."""

import re

from django.core.exceptions import ValidationError

from config import jsoncodec
from config.jsonapi.describe import describe

COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
# A client's metadata is kept with every row and sent with every read: keep it small.
METADATA_MAX_BYTES = 16 * 1024


def normalize_colour(value):
    """``#1a2b3c`` is stored as ``#1A2B3C``."""
    return value.upper()


@describe({"pattern": "^#[0-9A-Fa-f]{6}$", "example": "#1DB954"})
def validate_colour(value):
    if not COLOUR.fullmatch(value):
        raise ValidationError("A colour is '#' and six hexadecimal digits (#1DB954).", "colour")


@describe({"type": "object", "description": f"At most {METADATA_MAX_BYTES} bytes as JSON."})
def validate_metadata(value):
    if not isinstance(value, dict):
        raise ValidationError("Metadata is a JSON object.", "not_an_object")
    if len(jsoncodec.dumps(value)) > METADATA_MAX_BYTES:
        raise ValidationError(
            f"Metadata is at most {METADATA_MAX_BYTES} bytes as JSON.", "metadata_too_large"
        )
