"""JSON read and written exactly, at orjson's speed.

orjson reads an integer beyond 64 bits as a float, silently rounded
(``12345678901234567890123`` becomes ``1.2345678901234568e+22``), and refuses to write
one. Python's ``json`` keeps every integer exact, three times slower. So a document is
read by orjson, which also checks it strictly (RFC 8259: no ``NaN``, no lone surrogates,
no number a double cannot hold), and read again by ``json`` when its text holds a run of
19 digits or more, the shortest that can overflow (``-9999999999999999999``): it gives
the same values with the integers exact. Writing, integers beyond 64 bits go to orjson
as their own digits.
"""

import json
import re

import orjson

_LONG_DIGITS = re.compile(rb"\d{19}")
_LONG_DIGITS_TEXT = re.compile(r"\d{19}")
_WRITABLE = range(-(2**63), 2**64)  # the integers orjson writes


def loads(data):
    """The value of the JSON text ``data`` (bytes, bytearray, memoryview or str), its
    integers exact. Raises ``ValueError`` for text that is not strict JSON, or nested too
    deep to read again."""
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    value = orjson.loads(data)
    if not may_hold_long_integers(data):
        return value
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None


def may_hold_long_integers(data):
    """Whether the JSON text ``data`` (str or bytes-like) may hold an integer orjson
    reads as a float: it holds a run of 19 digits or more."""
    digits = _LONG_DIGITS_TEXT if isinstance(data, str) else _LONG_DIGITS
    return digits.search(data) is not None


def dumps(value, default=None):
    """``value`` as JSON bytes, as orjson writes it, integers beyond 64 bits included."""
    try:
        return orjson.dumps(value, default=default)
    except orjson.JSONEncodeError as error:
        if str(error) != "Integer exceeds 64-bit range":
            raise
    return orjson.dumps(_long_integers_written(value), default=default)


def _long_integers_written(value):
    """``value`` with each integer orjson cannot write replaced by its digits, as a
    ``Fragment`` orjson copies into its output."""
    if isinstance(value, dict):
        return {key: _long_integers_written(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_long_integers_written(item) for item in value]
    if type(value) is int and value not in _WRITABLE:
        return orjson.Fragment(str(value))
    return value
