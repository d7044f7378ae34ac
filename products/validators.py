"""Rules for product codes, shared by the API, the admin and importers."""

from django.core.exceptions import ValidationError
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

from config.jsonapi.describe import describe, separated


def normalize_upc(value):
    return ean.compact(value)


@describe(
    {"format": "upc", "pattern": separated(*["[0-9]"] * 12, "[0-9]?"), "example": "036000291452"}
)
def validate_upc(value):
    """A UPC-A (12 digits) or EAN-13 with a correct check digit."""
    if len(value) not in (12, 13):
        raise ValidationError("A UPC must be a 12-digit UPC-A or a 13-digit EAN-13.", "invalid_upc")
    try:
        ean.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"The UPC is not valid: {exc.message}", "invalid_upc") from exc
