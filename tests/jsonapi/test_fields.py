"""The serializer fields' quicker answers are DRF's answers."""

import math

import pytest
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from config.jsonapi.fields import JSONField, ProhibitSurrogates, StrictCharField


@pytest.mark.parametrize("value", ["plain", "Café ♪ 東京", "😀", ""])
def test_a_string_without_surrogates_passes_as_with_drf(value):
    ProhibitSurrogateCharactersValidator()(value)
    ProhibitSurrogates()(value)


@pytest.mark.parametrize("value", ["a\ud800", "\udfff b", "é\ud83d\ude00"])
def test_a_string_with_a_surrogate_gets_drfs_error(value):
    with pytest.raises(serializers.ValidationError) as drf:
        ProhibitSurrogateCharactersValidator()(value)
    with pytest.raises(serializers.ValidationError) as ours:
        StrictCharField().run_validation(value)
    assert ours.value.detail == drf.value.detail
    assert ours.value.detail[0].code == "surrogate_characters_not_allowed"


def test_a_strict_string_field_checks_surrogates_once():
    validators = StrictCharField(max_length=5).validators
    assert [type(v) for v in validators if isinstance(v, ProhibitSurrogateCharactersValidator)] == [
        ProhibitSurrogates
    ]


@pytest.mark.parametrize(
    "value",
    [["A", "B"], [], ["A", 1], {"a": [1.5, None]}, [math.nan], {"a": {1, 2}}, [["A"], object()]],
)
def test_a_json_member_gets_drfs_verdict(value):
    def verdict(field):
        try:
            return field.run_validation(value)
        except serializers.ValidationError as exc:
            return exc.detail

    assert verdict(JSONField()) == verdict(serializers.JSONField())
