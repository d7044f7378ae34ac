"""Schemathesis hooks: how to make the values of this API's own string formats.

The description names them (``format: isrc`` and so on, from ``@describe`` beside each
validator); with these strategies the fuzzer's "valid" values are valid codes, not strings
that merely match a pattern, so a 422 for one of them is a real finding.
"""

import hashlib

import schemathesis
from hypothesis import strategies as st
from multiformats import CID, multihash
from stdnum import ean, isrc

ISRC_COUNTRIES = sorted(isrc._country_codes)
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


schemathesis.openapi.format("isrc", isrc_codes())
schemathesis.openapi.format("upc", upc_codes())
schemathesis.openapi.format("iswc", iswc_codes())
schemathesis.openapi.format("cid", cids())
