"""config.conditions decides a check constraint in Python as the database does, and
leaves to the database what it cannot decide alike."""

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Lower

from collections_app.models import TrackVariant
from config import conditions
from products.models import Product
from soundcheck.models import SoundcheckTrack
from tests.factories import make_collection_track, make_product, make_track
from tracks.models import Track

pytestmark = pytest.mark.django_db

TRACK_VARIATIONS = [
    {},
    {"track_number": 0},
    {"volume_number": 0},
    {"isrc_code": "usrc17607839"},
    {"isrc_code": "USRC1760783"},
    {"isrc_code": "US-RC1-76-07839"},  # compared as stored: normalised
    {"preview_end": 10},
    {"preview_end": 30},
    {"preview_end": 31},
    {"bpm": 0.0},
    {"bpm": -1.5},
    {"bpm": 120.0},
    {"is_stream_gated": True},
    {"stream_conditions": {"follow_user_id": 1}},
    {"is_stream_gated": True, "stream_conditions": {"follow_user_id": 1}},
    {"is_download_gated": True},
    {"download_conditions": {"follow_user_id": 1}},
    {"stem_category": "bass"},
    {"stem_of_id": "parent"},
    {"stem_of_id": "parent", "stem_category": "bass"},
    {"stem_of_id": "self", "stem_category": "bass"},
]


def database_refuses(constraint, model, instance):
    try:
        constraint.validate(model, instance)
    except ValidationError:
        return True
    return False


def agree(model, instance):
    """Compare Python's decision with the database's for every check constraint of
    ``model``; the number decided in Python."""
    decided = 0
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        try:
            result = conditions.decide(constraint.condition, instance)
        except conditions.Undecidable:
            continue
        decided += 1
        assert (result is False) == database_refuses(constraint, model, instance), (
            constraint.name,
            result,
        )
    return decided


@pytest.mark.parametrize("variation", TRACK_VARIATIONS, ids=repr)
def test_track_constraints_are_decided_as_the_database_decides(variation):
    parent = make_track()
    saved = make_track(product=parent.product)
    fields = {"product": parent.product, "title": "T", "track_number": 1, "volume_number": 1}
    fields |= {"isrc_code": "USRC17607839", "artist": ["A"], "audio_language_id": "en"}
    fields |= variation
    if fields.get("stem_of_id") == "parent":
        fields["stem_of_id"] = parent.pk
    if fields.get("stem_of_id") == "self":
        fields["stem_of_id"] = fields["id"] = saved.pk
    checks = sum(isinstance(rule, models.CheckConstraint) for rule in Track._meta.constraints)
    assert agree(Track, Track(**fields)) == checks


@pytest.mark.parametrize(
    "fields",
    [
        {"variant_type": "transcode", "bitrate": 128},
        {"variant_type": "transcode", "bitrate": 11},
        {"variant_type": "transcode", "bitrate": 321},
        {"variant_type": "transcode", "bitrate": 128, "preview_start": 1.0},
        {"variant_type": "preview", "bitrate": 128, "preview_start": 1.0, "preview_duration": 5},
        {"variant_type": "preview", "bitrate": 128, "preview_start": 1.0},
        {"variant_type": "transcode", "bitrate": 128, "status": "unknown"},
    ],
    ids=repr,
)
def test_variant_constraints_are_decided_as_the_database_decides(fields):
    track = make_collection_track()
    variant = TrackVariant(track=track, codec="mp3", **fields)
    assert agree(TrackVariant, variant) == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"track_type": "standard"},
        {"track_type": "campaign"},
        {"track_type": "campaign", "start_date": datetime.date(2026, 1, 2)},
        {
            "track_type": "campaign",
            "start_date": datetime.date(2026, 1, 2),
            "target_completion_date": datetime.date(2026, 1, 1),
        },
        {
            "track_type": "campaign",
            "start_date": datetime.date(2026, 1, 2),
            "target_completion_date": datetime.date(2026, 1, 2),
        },
        {"track_type": "playlist", "badge_type": "ribbon"},
    ],
    ids=repr,
)
def test_soundcheck_track_constraints_are_decided_as_the_database_decides(fields):
    track = SoundcheckTrack(slug="t", name="T", description="D", **fields)
    assert agree(SoundcheckTrack, track) == 4


def test_every_check_constraint_of_the_service_is_decided_in_python():
    """A valid row of each model: no constraint of ours needs the database's query."""
    track = make_track()
    rows = {
        Track: track,
        Product: track.product,
        TrackVariant: TrackVariant(track=make_collection_track(), codec="mp3"),
    }
    for model in apps.get_models():
        if model.__module__.split(".")[0] not in {
            "products",
            "tracks",
            "collections_app",
            "soundcheck",
            "organizations",
            "webhooks",
        }:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.CheckConstraint):
                row = rows.get(model) or model()
                try:
                    conditions.decide(constraint.condition, row)
                except conditions.Undecidable:
                    pytest.fail(f"{model.__name__}.{constraint.name} needs a query")


@pytest.fixture
def track():
    return Track(product=make_product(), title="T", track_number=2, preview_start=30, bpm=None)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Q(bpm__gt=0), None),  # NULL compared: unknown
        (~Q(bpm__gt=0), None),
        (Q(bpm__gt=0) | Q(track_number=2), True),
        (Q(bpm__gt=0) | Q(track_number=3), None),
        (Q(bpm__gt=0) & Q(track_number=3), False),
        (Q(bpm__isnull=True), True),
        (Q(bpm=None), True),
        (Q(track_number__in=[1, 2]), True),
        (Q(track_number__range=(3, 4)), False),
        (Q(track_number__lt=F("preview_start")), True),
        (Q(track_number=Value(2)), True),
        (Q(stem_of=F("id")), None),  # a new row has no id yet
    ],
    ids=str,
)
def test_three_valued_logic(track, condition, expected):
    assert conditions.decide(condition, track) is expected


@pytest.mark.parametrize(
    "condition",
    [
        Q(product__name="x"),  # a join
        Q(title__gt="S"),  # text ordering is the collation's
        Q(title__icontains="t"),  # a lookup this module does not know
        Q(artist=["A"]),  # a JSON value
        Q(track_number="2"),  # text against a number
        Q(track_number=Lower("title")),  # a function
        Q(preview_start__gt=F("product__id")),
        Q(title__regex="^T$"),  # POSIX $ does not match before a final newline, Python's does
        Q(title__regex=r"\yT"),  # PostgreSQL's word boundary, which Python's re refuses
        Q(track_number=2) ^ Q(bpm__isnull=True),  # XOR: not an OR
    ],
    ids=str,
)
def test_what_python_cannot_decide_alike_is_left_to_the_database(track, condition):
    track.artist, track.title = ["A"], "T\n"
    with pytest.raises(conditions.Undecidable):
        conditions.decide(condition, track)
