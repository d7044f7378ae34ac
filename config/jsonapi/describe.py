"""``@describe``: the JSON Schema of the values a validator accepts, kept beside the rule.

The OpenAPI generator (``config.jsonapi.openapi``) merges it into the member's schema, so a
JSON member's structure or an identifier's format is described where it is enforced.
Formats named here (``isrc``, ``upc``, ``iswc``, ``cid``) are this API's own: the
description's text says what they mean and the fuzz tests know how to make valid ones.
"""


def separated(*character_classes):
    """A pattern for a code typed with any spaces or hyphens between its characters, as
    python-stdnum's ``compact`` accepts it (``ES-A11-23 10001``)."""
    return "^[ -]*" + "[ -]*".join(character_classes) + "[ -]*$"


def describe(schema):
    def decorate(validator):
        validator.openapi_schema = schema
        return validator

    return decorate
