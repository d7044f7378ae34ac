"""Rules for the Audius metadata of tracks, as strict as the Audius SDK or stricter.

Validators raise Django's ValidationError so that the API, the admin and importers share
them. An error inside a structured member carries ``params={"path": "a/b"}``: the API turns
it into a pointer such as ``/data/attributes/stream-conditions/usdc-purchase/price``.
"""

import math
import re

import pycountry
from django.core.exceptions import ValidationError
from multiformats import CID

from config.jsonapi.describe import describe

GENRES = (
    "Electronic", "Rock", "Metal", "Alternative", "Hip-Hop/Rap", "Experimental", "Punk", "Folk",
    "Pop", "Ambient", "Soundtrack", "World", "Jazz", "Acoustic", "Funk", "R&B/Soul",
    "Devotional", "Classical", "Reggae", "Podcasts", "Country", "Spoken Word", "Comedy",
    "Blues", "Kids", "Audiobooks", "Latin", "Lo-Fi", "Hyperpop", "Dancehall", "Techno", "Trap",
    "House", "Tech House", "Deep House", "Disco", "Electro", "Jungle", "Progressive House",
    "Hardstyle", "Glitch Hop", "Trance", "Future Bass", "Future House", "Tropical House",
    "Downtempo", "Drum & Bass", "Dubstep", "Jersey Club", "Vaporwave", "Moombahton",
)  # fmt: skip
MOODS = (
    "Peaceful", "Romantic", "Sentimental", "Tender", "Easygoing", "Yearning", "Sophisticated",
    "Sensual", "Cool", "Gritty", "Melancholy", "Serious", "Brooding", "Fiery", "Defiant",
    "Aggressive", "Rowdy", "Excited", "Energizing", "Empowering", "Stirring", "Upbeat", "Other",
)  # fmt: skip
# One canonical spelling: sharps, never flats ("C# minor", not "Db minor").
TONICS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MUSICAL_KEYS = tuple(f"{tonic} {mode}" for tonic in TONICS for mode in ("major", "minor"))
STEM_CATEGORIES = (
    "instrumental", "lead_vocals", "melodic_lead", "pad", "snare", "kick", "hihat",
    "percussion", "sample", "backing_vocals", "bass", "other",
)  # fmt: skip
PARENTAL_WARNING_TYPES = (
    "Explicit", "NotExplicit", "ExplicitContentEdited", "NoAdviceAvailable", "Unknown",
)  # fmt: skip
VISIBILITY_KEYS = {"genre", "mood", "tags", "share", "play-count", "remixes"}
GATES = ("tip-user-id", "follow-user-id", "usdc-purchase", "token-gate")

ISWC = re.compile(r"T-?(\d{3})\.?(\d{3})\.?(\d{3})-?(\d)")


TERRITORIES = sorted(country.alpha_2 for country in pycountry.countries)
# The largest integer every JSON parser holds exactly (I-JSON, RFC 7493); larger ones
# arrive as floats.
MAX_COUNT = 2**53 - 1
USER_ID = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
TEXT = {"type": "string", "pattern": r"\S"}
PARTY = {"name": TEXT, "roles": {"type": "array", "items": TEXT, "minItems": 1}}


def strict_object(properties, required=()):
    """The JSON Schema of an object with exactly these members (``required`` among them)."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return {**schema, "required": list(required)} if required else schema


def choices(values):
    return [(value, value) for value in values]


def error(message, code, path=""):
    return ValidationError(message, code, params={"path": path} if path else None)


def normalize_iswc(value):
    """``T-034.524.680-1`` and ``T0345246801`` -> ``T-034524680-1`` (unchanged if not ISWC)."""
    match = ISWC.fullmatch(value.strip().upper())
    return f"T-{''.join(match.groups()[:3])}-{match[4]}" if match else value


@describe(
    {
        "format": "iswc",
        "pattern": r"^\s*[Tt]-?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]\s*$",
        "example": "T-034524680-1",
    }
)
def validate_iswc(value):
    match = ISWC.fullmatch(value)
    if not match:
        raise error("An ISWC looks like T-034.524.680-1.", "invalid_iswc")
    digits = "".join(match.groups()[:3])
    check = (10 - (1 + sum(i * int(d) for i, d in enumerate(digits, start=1))) % 10) % 10
    if check != int(match[4]):
        raise error("The ISWC check digit is wrong.", "invalid_iswc")


@describe({"format": "cid", "example": "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"})
def validate_cid(value):
    try:
        CID.decode(value)
    except Exception as exc:  # multiformats raises a family of unrelated error types
        raise error("Not a valid IPFS CID (v0 or v1).", "invalid_cid") from exc


def normalize_tags(value):
    return ",".join(tag.strip() for tag in value.split(",") if tag.strip())


@describe({"minimum": 0, "exclusiveMinimum": True})
def validate_positive(value):
    if value is not None and value <= 0:
        raise error("Must be greater than 0.", "not_positive")


@describe({"minimum": 0})
def validate_not_negative(value):
    if value is not None and value < 0:
        raise error("Must not be negative.", "negative")


def _is_count(value, minimum=1):
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_COUNT


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


SPLIT = strict_object(
    {"user-id": USER_ID, "percentage": {"type": "number", "minimum": 0, "exclusiveMinimum": True}},
    ["user-id", "percentage"],
)
PURCHASE = strict_object(
    {
        "price": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "splits": {
            "type": "array",
            "items": SPLIT,
            "minItems": 1,
            "description": "The percentages add up to 100.",
        },
    },
    ["price", "splits"],
)
TOKEN_GATE = strict_object(
    {"token-mint": TEXT, "token-amount": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}},
    ["token-mint", "token-amount"],
)
GATE_SCHEMAS = {
    "tip-user-id": USER_ID,
    "follow-user-id": USER_ID,
    "usdc-purchase": PURCHASE,
    "token-gate": TOKEN_GATE,
}


@describe(
    {
        "type": "object",
        "oneOf": [strict_object({gate: schema}, [gate]) for gate, schema in GATE_SCHEMAS.items()],
    }
)
def validate_conditions(value):
    """Exactly one access gate: tip, follow, USDC purchase or token gate."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in GATES:
        raise error(f"Conditions are an object with exactly one of {', '.join(GATES)}.",
                    "invalid_condition")  # fmt: skip
    gate, body = next(iter(value.items()))
    if gate in ("tip-user-id", "follow-user-id"):
        if not _is_count(body):
            raise error(f"Must be a user id from 1 to {MAX_COUNT}.", "invalid_condition", gate)
    elif gate == "usdc-purchase":
        _validate_purchase(body)
    else:
        _validate_token_gate(body)


def _validate_purchase(body):
    if not isinstance(body, dict) or set(body) - {"price", "splits"}:
        raise error("usdc-purchase takes price and splits.", "invalid_condition", "usdc-purchase")
    if not _is_number(body.get("price")) or body["price"] <= 0:
        raise error("The price must be a number above 0.", "invalid_condition",
                    "usdc-purchase/price")  # fmt: skip
    splits = body.get("splits")
    valid = isinstance(splits, list) and splits and all(
        isinstance(split, dict) and set(split) == {"user-id", "percentage"}
        and _is_count(split["user-id"]) and _is_number(split["percentage"])
        and split["percentage"] > 0
        for split in splits
    )  # fmt: skip
    if not valid or abs(sum(split["percentage"] for split in splits) - 100) > 1e-6:
        raise error("Splits are a non-empty array of {user-id, percentage} adding up to 100.",
                    "invalid_condition", "usdc-purchase/splits")  # fmt: skip


def _validate_token_gate(body):
    if not isinstance(body, dict) or set(body) - {"token-mint", "token-amount"}:
        raise error("token-gate takes token-mint and token-amount.", "invalid_condition",
                    "token-gate")  # fmt: skip
    mint = body.get("token-mint")
    if not isinstance(mint, str) or not mint.strip():
        raise error("token-mint is required.", "invalid_condition", "token-gate/token-mint")
    if not _is_count(body.get("token-amount")):
        raise error(f"token-amount must be a whole number from 1 to {MAX_COUNT}.",
                    "invalid_condition", "token-gate/token-amount")  # fmt: skip


@describe(strict_object({key: {"type": "boolean"} for key in sorted(VISIBILITY_KEYS)}))
def validate_field_visibility(value):
    if (
        not isinstance(value, dict)
        or set(value) - VISIBILITY_KEYS
        or not all(isinstance(flag, bool) for flag in value.values())
    ):
        raise error(f"An object of booleans for {', '.join(sorted(VISIBILITY_KEYS))}.",
                    "invalid_visibility")  # fmt: skip


@describe({"type": "object", "additionalProperties": {"type": "string"}})
def validate_ddex_release_ids(value):
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise error("An object of release identifier strings.", "invalid_ddex")


def _join(path, member):
    return f"{path}/{member}" if path else member


def _validate_party(party, path, extra_members):
    if not isinstance(party, dict) or set(party) - {"name", "roles", *extra_members}:
        raise error("Must be an object with name and roles.", "invalid_contributor", path)
    name = party.get("name")
    if not isinstance(name, str) or not name.strip():
        raise error("name must be a non-empty string.", "invalid_contributor", _join(path, "name"))
    roles = party.get("roles")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(role, str) and role.strip() for role in roles)
    ):
        raise error("roles must be a non-empty array of strings.", "invalid_contributor",
                    _join(path, "roles"))  # fmt: skip


@describe(
    {
        "type": "array",
        "items": strict_object(
            {**PARTY, "sequence-number": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}},
            ["name", "roles"],
        ),
    }
)
def validate_contributors(value):
    """DDEX contributors: an array of {name, roles, sequence-number}."""
    if not isinstance(value, list):
        raise error("Must be an array of contributors.", "invalid_contributor")
    for index, party in enumerate(value):
        _validate_party(party, str(index), {"sequence-number"})
        number = party.get("sequence-number")
        if number is not None and not _is_count(number, minimum=0):
            raise error(f"sequence-number must be a whole number from 0 to {MAX_COUNT}.",
                        "invalid_contributor", f"{index}/sequence-number")  # fmt: skip


@describe(strict_object({**PARTY, "rights-share-unknown": {"type": "boolean"}}, ["name", "roles"]))
def validate_rights_controller(value):
    _validate_party(value, "", {"rights-share-unknown"})
    if not isinstance(value.get("rights-share-unknown", False), bool):
        raise error("Must be a boolean.", "invalid_contributor", "rights-share-unknown")


@describe(
    strict_object(
        {"year": {"type": "string", "pattern": "^[0-9]{4}$"}, "text": TEXT}, ["year", "text"]
    )
)
def validate_copyright_line(value):
    if not isinstance(value, dict) or set(value) - {"year", "text"}:
        raise error("Must be an object with year and text.", "invalid_copyright")
    year = value.get("year")
    if not isinstance(year, str) or not re.fullmatch(r"[0-9]{4}", year):
        raise error('year must be a 4-digit string such as "2024".', "invalid_copyright", "year")
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise error("text must be a non-empty string.", "invalid_copyright", "text")


@describe({"type": "array", "items": {"type": "string", "enum": TERRITORIES}})
def validate_territory_codes(value):
    if not isinstance(value, list):
        raise error("Must be an array of ISO 3166-1 alpha-2 codes.", "invalid_territory")
    for index, code in enumerate(value):
        if not (isinstance(code, str) and code.isupper() and pycountry.countries.get(alpha_2=code)):
            raise error(f"{code!r} is not an ISO 3166-1 alpha-2 code.", "invalid_territory",
                        str(index))  # fmt: skip
