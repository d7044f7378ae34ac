"""The indexes every track and product written updates: those a lookup reads, and for a
lookup of rare rows (the unlisted tracks, the stems of a track) a partial index holding
only them."""

import re

import pytest
from django.db import connection

from products.models import Product
from tracks.models import Track

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans"),
]


def index_used(queryset):
    """The indexes PostgreSQL reads for ``queryset`` when it may use any index at all
    (an index scan "using" one, or a bitmap index scan "on" one, as the table's
    statistics make it choose)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # (the test's transaction)
    return re.findall(r"(?:Scan using|Bitmap Index Scan on) (\w+)", queryset.explain())


def indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_a_tracks_stems_are_found_through_the_partial_index():
    assert index_used(Track.objects.filter(stem_of_id=1).order_by()) == ["track_stem_of"]


def test_unlisted_tracks_are_found_through_the_partial_index():
    assert index_used(Track.objects.filter(is_unlisted=True).order_by()) == ["track_unlisted"]


def test_products_of_a_language_are_found_through_its_index():
    assert index_used(Product.objects.filter(language_id="en").order_by()) == ["product_language"]


def test_a_listed_track_without_parent_is_in_no_partial_index():
    found = indexes("tracks_track")
    assert found["track_unlisted"].endswith("WHERE is_unlisted")
    assert found["track_stem_of"].endswith("WHERE (stem_of_id IS NOT NULL)")
    assert sorted(found) == [
        "track_audio_language",
        "track_isrc_per_product",
        "track_position_per_product",
        "track_stem_of",
        "track_unlisted",
        "tracks_track_created_at_56b8f063",
        "tracks_track_pkey",
    ]


def test_no_pattern_index_on_a_products_language():
    found = indexes("products_product")
    assert not [
        name
        for name, definition in found.items()
        if "language_id varchar_pattern_ops" in definition
    ]
    assert sorted(found) == [
        "product_language",
        "products_product_created_at_3c9cea31",
        "products_product_label_id_cfc5ea05",
        "products_product_pkey",
        "products_product_upc_code_104e9058_like",
        "products_product_upc_code_key",
    ]
