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


def mend_pagination(query):
    """Offset pages (page[offset]/page[limit]) and numbered pages do not mix."""
    if {"page[offset]", "page[limit]"} & set(query):
        query.pop("page[number]", None)
        query.pop("page[size]", None)


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and isinstance(case.query, dict):
        mend_pagination(case.query)
    is_track_write = case.operation.path in ("/api/v1/tracks", "/api/v1/tracks/{id}")
    data = case.body.get("data") if isinstance(case.body, dict) else None
    is_variant_create = case.operation.path == "/api/v1/track-variants" and case.method == "POST"
    if positive and is_variant_create and isinstance(data, dict):
        mend_variant_window(data.setdefault("attributes", {}))
    if not (positive and is_track_write and case.method in ("POST", "PATCH")):
        return case
    if isinstance(data, dict):
        creating = case.method == "POST"
        attributes = data.setdefault("attributes", {})
        relationships = data.setdefault("relationships", {})
        mend_preview(attributes, creating)
        mend_gates(attributes, creating)
        mend_stem(attributes, relationships, creating)
    return case
