"""Schemathesis hooks: how to make the values of this API's own string formats.

The description names them (``format: isrc`` and so on, from ``@describe`` beside each
validator); with these strategies the fuzzer's "valid" values are valid codes, not strings
that merely match a pattern, so a 422 for one of them is a real finding.
"""

import base64
import hashlib
import io

import numpy as np
import pycountry
import schemathesis
import soundfile
from hypothesis import strategies as st
from multiformats import CID, multihash
from stdnum import ean, isrc

from soundcheck.validators import is_text

# The country codes python-stdnum accepts in an ISRC (the ones the server accepts).
ISRC_COUNTRIES = [c.alpha_2 for c in pycountry.countries if isrc.is_valid(f"{c.alpha_2}AAA0000000")]
DIGITS = "0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + DIGITS


@st.composite
def isrc_codes(draw):
    country = draw(st.sampled_from(ISRC_COUNTRIES))
    registrant = draw(st.text(ALNUM, min_size=3, max_size=3))
    rest = draw(st.text(DIGITS, min_size=7, max_size=7))
    code = f"{country}{registrant}{rest}"
    assert isrc.is_valid(code)
    return code


@st.composite
def upc_codes(draw):
    body = draw(st.text(DIGITS, min_size=11, max_size=12))
    return body + ean.calc_check_digit(body)


@st.composite
def iswc_codes(draw):
    digits = draw(st.text(DIGITS, min_size=9, max_size=9))
    check = (10 - (1 + sum(i * int(d) for i, d in enumerate(digits, start=1))) % 10) % 10
    return f"T-{digits}-{check}"


@st.composite
def cids(draw):
    digest = hashlib.sha256(draw(st.binary(max_size=16))).digest()
    return str(CID("base58btc", 0, "dag-pb", multihash.wrap(digest, "sha2-256")))


def flac_master(rate, channels, subtype, seconds):
    """A short, whole FLAC master (a sine tone), base64-encoded as records take it."""
    times = np.arange(int(rate * seconds)) / rate
    tone = 0.25 * np.sin(2 * np.pi * 440 * times)
    buffer = io.BytesIO()
    samples = np.column_stack([tone] * channels)
    soundfile.write(buffer, samples, rate, format="FLAC", subtype=subtype)
    return base64.b64encode(buffer.getvalue()).decode()


FLAC_MASTERS = [
    flac_master(8000, 1, "PCM_16", 0.2),
    flac_master(44100, 2, "PCM_16", 0.1),
    flac_master(96000, 2, "PCM_24", 0.05),
]

schemathesis.openapi.format("base64-flac", st.sampled_from(FLAC_MASTERS))
schemathesis.openapi.format("isrc", isrc_codes())
schemathesis.openapi.format("upc", upc_codes())
schemathesis.openapi.format("iswc", iswc_codes())
schemathesis.openapi.format("cid", cids())
# Soundcheck badges: safe SVG images; rules' 'matches': regular expressions Python compiles.
schemathesis.openapi.format(
    "svg",
    st.sampled_from(
        [
            '<svg xmlns="http://www.w3.org/2000/svg"/>',
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
            '<circle cx="4" cy="4" r="3" fill="#1DB954"/></svg>',
        ]
    ),
)
schemathesis.openapi.format("regex", st.sampled_from(["^prod", "[0-9]+", "service|website"]))
# Webhook endpoints: https URLs of public host names (the live server sends nothing: no
# event happens during the run).
schemathesis.openapi.format(
    "webhook-url",
    st.builds(
        "https://{}.example.com/{}".format,
        st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20),
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-_/", max_size=40),
    ),
)


# Rules between members that OpenAPI 3.0's JSON Schema cannot state (one value compared
# with another, one member required by another's value, percentages adding up). The
# description states them in words; valid ("positive") cases are brought into line with
# them here, so that a 422 for such a case is a real finding. On an update a rule broken
# together with stored values is a 409 (a conflict with the track's state), which the
# positive-data check accepts, so only what a body breaks by itself is mended.

MAX_INTEGER = 2**31 - 1


def mend_preview(attributes, creating):
    start = attributes.get("preview-start", 30 if creating else None)
    end = attributes.get("preview-end")
    if isinstance(start, int) and isinstance(end, int) and end <= start:
        attributes["preview-end"] = start + 1 if start < MAX_INTEGER else None


def mend_gates(attributes, creating):
    for kind in ("stream", "download"):
        flag, conditions = f"is-{kind}-gated", f"{kind}-conditions"
        if not creating and not (flag in attributes and conditions in attributes):
            continue
        if attributes.get(flag) is True and attributes.get(conditions) is None:
            attributes[flag] = False
        elif attributes.get(flag) is not True and attributes.get(conditions) is not None:
            attributes[conditions] = None
        purchase = (attributes.get(conditions) or {}).get("usdc-purchase")
        if isinstance(purchase, dict) and purchase.get("splits"):
            first = purchase["splits"][0]
            purchase["splits"] = [{"user-id": first["user-id"], "percentage": 100}]


def mend_stem(attributes, relationships, creating):
    if not creating and not ("stem-of" in relationships and "stem-category" in attributes):
        return
    stem_of = (relationships.get("stem-of") or {}).get("data")
    if stem_of is not None and attributes.get("stem-category") is None:
        relationships["stem-of"] = {"data": None}
    elif stem_of is None and attributes.get("stem-category") is not None:
        attributes["stem-category"] = None


def mend_variant_window(attributes):
    """A preview takes its window (within any track: at the start, one second); a
    transcode takes none."""
    if attributes.get("variant-type") == "preview":
        if attributes.get("preview-start") is None or attributes.get("preview-duration") is None:
            attributes.update({"preview-start": 0, "preview-duration": 1})
    else:
        attributes.pop("preview-start", None)
        attributes.pop("preview-duration", None)


def mend_entity_filters(attributes):
    """A filter's keys are catalog field names: not blank, at most 200 characters."""
    for member in ("filter", "exclude"):
        value = attributes.get(member)
        if isinstance(value, dict):
            attributes[member] = {
                key: condition for key, condition in value.items() if is_text(key, 200)
            }


def mend_soundcheck_track(attributes, creating):
    """Levels: ordinals 1, 2, ...; each check named once in the track and given a name, so
    that it is created rather than looked up. A campaign has its dates, in order;
    milestones fall on its start and name no level."""
    levels = attributes.get("levels")
    if isinstance(levels, list):
        for ordinal, level in enumerate(levels, 1):
            level["ordinal"] = ordinal
            for position, check in enumerate(level.get("checks", [])):
                check["id"] = f"c{ordinal}-{position}"
                check.setdefault("name", check["id"])
                mend_check_kind(check, creating=True)
    mend_entity_filters(attributes)
    start, target = attributes.get("start-date"), attributes.get("target-completion-date")
    if start and target and target < start:
        attributes["start-date"], attributes["target-completion-date"] = target, start
    if attributes.get("track-type") == "campaign":
        attributes["start-date"] = attributes.get("start-date") or "2027-01-01"
        attributes["target-completion-date"] = (
            attributes.get("target-completion-date") or attributes["start-date"]
        )
    if creating or "milestones" in attributes:
        dated = attributes.get("track-type") == "campaign" and creating
        attributes["milestones"] = [
            {"name": milestone["name"], "date": attributes["start-date"]}
            for milestone in attributes.get("milestones") or []
            if dated
        ]


def mend_check_kind(attributes, creating):
    """A rule check has its rule; other kinds none."""
    mend_entity_filters(attributes)
    if not creating and not ("kind" in attributes and "rule" in attributes):
        return
    if attributes.get("rule") is not None:
        attributes["kind"] = "rule"
    elif attributes.get("kind") == "rule":
        attributes["kind"] = "external"


SOUNDCHECK_MENDERS = {
    "/api/v1/soundcheck/tracks": mend_soundcheck_track,
    "/api/v1/soundcheck/tracks/{id}": mend_soundcheck_track,
    "/api/v1/soundcheck/checks": mend_check_kind,
    "/api/v1/soundcheck/checks/{id}": mend_check_kind,
}


def mend_pagination(query):
    """Offset pages (page[offset]/page[limit]) and numbered pages do not mix."""
    if {"page[offset]", "page[limit]"} & set(query):
        query.pop("page[number]", None)
        query.pop("page[size]", None)


# The types whose rules the hooks mend, by the path of their collection.
COLLECTIONS = {
    "tracks": "/api/v1/tracks",
    "track-variants": "/api/v1/track-variants",
    "soundcheck-tracks": "/api/v1/soundcheck/tracks",
    "checks": "/api/v1/soundcheck/checks",
}


def mend(case):
    """Bring a valid ("positive") case into line with the rules the description states in
    words."""
    if isinstance(case.query, dict):
        mend_pagination(case.query)
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.path == "/api/v1/operations":
        mend_operations(body.get("atomic:operations"))
    elif case.method in ("POST", "PATCH"):
        mend_resource(case.operation.path, case.method == "POST", body.get("data"))


def mend_operations(operations):
    """Each add or update as its own endpoint's request would be; lids declared once."""
    for index, operation in enumerate(operations if isinstance(operations, list) else []):
        data = operation.get("data") if isinstance(operation, dict) else None
        if not isinstance(data, dict) or "relationship" in (operation.get("ref") or {}):
            continue
        if "lid" in data:
            data["lid"] = f"lid-{index}"
        collection = COLLECTIONS.get(data.get("type"))
        if collection and operation.get("op") == "add":
            mend_resource(collection, True, data)
        elif collection:
            mend_resource(f"{collection}/{{id}}", False, data)


def mend_resource(path, creating, data):
    if not isinstance(data, dict):
        return
    attributes = data.setdefault("attributes", {})
    if path == "/api/v1/track-variants" and creating:
        mend_variant_window(attributes)
    if path in SOUNDCHECK_MENDERS:
        SOUNDCHECK_MENDERS[path](attributes, creating)
    if path in ("/api/v1/tracks", "/api/v1/tracks/{id}"):
        relationships = data.setdefault("relationships", {})
        mend_preview(attributes, creating)
        mend_gates(attributes, creating)
        mend_stem(attributes, relationships, creating)


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive:
        mend(case)
    return case


@schemathesis.hook
def before_add_examples(context, examples):
    """The examples phase builds valid cases from the description's examples, without
    map_case."""
    for case in examples:
        mend(case)
