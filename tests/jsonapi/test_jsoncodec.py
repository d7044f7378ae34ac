"""JSON read and written exactly (config/jsoncodec.py): integers beyond 64 bits keep every
digit, in request bodies, stored values, responses and catalog files, where orjson alone
rounded them to floats or refused to write them."""

import json

import orjson
import pytest

from collections_app.models import Collection
from config import jsoncodec

pytestmark = pytest.mark.django_db

LONG = 12345678901234567890123  # orjson alone reads 1.2345678901234568e+22
NUMBERS = [
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,  # the largest orjson reads and writes
    2**64,
    -(2**63) - 1,
    -9999999999999999999,  # 19 digits, beyond 64 bits when negative
    LONG,
    -(10**300),
    1.5,
    1e300,
    -0.0,
]


@pytest.mark.parametrize("number", NUMBERS)
def test_numbers_are_read_as_json_reads_them(number):
    text = json.dumps({"n": [number, {"m": number}], "s": "1234567890123456789012"})
    value = jsoncodec.loads(text.encode())
    assert value == json.loads(text)
    assert type(value["n"][0]) is type(number)
    assert jsoncodec.loads(text) == value
    assert jsoncodec.loads(memoryview(text.encode())) == value
    assert jsoncodec.loads(bytearray(text.encode())) == value


@pytest.mark.parametrize("number", NUMBERS)
def test_numbers_are_written_as_json_writes_them(number):
    value = {"n": [number, (number,), {"m": number}], "t": True}
    assert jsoncodec.dumps(value) == json.dumps(value, separators=(",", ":")).encode()


def test_a_value_without_long_integers_is_orjsons_own():
    value = {"a": [1, 2.5, None, "é"]}
    assert jsoncodec.dumps(value) == orjson.dumps(value)


def test_writing_keeps_fragments_and_the_default():
    value = {"f": orjson.Fragment(b'{"x":1}'), "n": LONG, "o": object()}
    assert (
        jsoncodec.dumps(value, default=lambda _: "d")
        == f'{{"f":{{"x":1}},"n":{LONG},"o":"d"}}'.encode()
    )


def test_other_errors_of_orjson_are_raised():
    with pytest.raises(TypeError):
        jsoncodec.dumps({"o": object(), "n": LONG})


@pytest.mark.parametrize(
    "text",
    [
        b'{"n": NaN}',
        b'{"n": Infinity, "m": 12345678901234567890123}',
        b'["\\ud800", 12345678901234567890123]',  # a lone surrogate
        b"[1" + b"0" * 400 + b"]",  # no double holds it
        b'{"n": 12345678901234567890123',
        b"[" * 1024 + b"12345678901234567890123" + b"]" * 1024,  # deeper than json reads
    ],
)
def test_what_is_not_strict_json_is_refused(text):
    with pytest.raises(ValueError):
        jsoncodec.loads(text)


def test_a_long_integer_in_a_request_body_is_stored_and_answered_exactly(api):
    metadata = {"isni": LONG, "negative": -(2**70), "plain": 7, "list": [2**64]}
    document = {"data": {"type": "collections", "attributes": {"title": "T", "metadata": metadata}}}
    response = api.post_doc("/api/v1/collections", json.dumps(document))
    assert response.status_code == 201, response.document
    assert Collection.objects.get().metadata == metadata
    assert json.loads(response.content)["data"]["attributes"]["metadata"] == metadata
    resource = api.get(f"/api/v1/collections/{response.document['data']['id']}")
    assert json.loads(resource.content)["data"]["attributes"]["metadata"] == metadata
    listed = api.get("/api/v1/collections")
    assert json.loads(listed.content)["data"][0]["attributes"]["metadata"] == metadata


def test_a_long_integer_counts_by_its_digits_against_the_metadata_limit(api):
    filler = "x" * (16 * 1024 - len('{"k":"","n":}') - len(str(LONG)))
    accepted = {
        "data": {
            "type": "collections",
            "attributes": {"title": "T", "metadata": {"k": filler, "n": LONG}},
        }
    }
    assert api.post_doc("/api/v1/collections", json.dumps(accepted)).status_code == 201
    refused = {
        "data": {
            "type": "collections",
            "attributes": {"title": "T", "metadata": {"k": filler + "x", "n": LONG}},
        }
    }
    response = api.post_doc("/api/v1/collections", json.dumps(refused))
    assert response.status_code == 422
    assert response.document["errors"][0]["source"]["pointer"] == "/data/attributes/metadata"


def test_a_body_too_deep_to_read_exactly_is_400(api):
    body = '{"data": ' + "[" * 1000 + "12345678901234567890123" + "]" * 1000 + "}"
    response = api.post_doc("/api/v1/collections", body)
    assert response.status_code == 400
    assert not Collection.objects.exists()
