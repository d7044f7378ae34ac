"""The read path renders exactly the documents recorded in tests/jsonapi/golden/.

The files were recorded before the read path was optimised; any change to a member,
link, relationship or included resource shows up here byte for byte.
Re-record deliberately with RECORD_GOLDEN=1 after an intended change of the format.
"""

import datetime
import os
from pathlib import Path

import pytest
from django.db import connection

from organizations.models import Organization
from products.models import Label, Product
from tests.client import JsonApiClient
from tests.factories import make_label, make_product, make_track
from tracks.models import Track

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
FIXED = datetime.datetime(2023, 8, 11, 20, 45, 15, tzinfo=datetime.UTC)

URLS = {
    "tracks_include": "/api/v1/tracks?page[size]=100&include=product,audio-language,label",
    "tracks_sparse": "/api/v1/tracks?fields[tracks]=title,isrc-code,product&sort=-title",
    "products_include": "/api/v1/products?page[size]=100&include=tracks,label",
    "labels_nested": "/api/v1/labels?include=products.tracks",
    "track_detail": "/api/v1/tracks/{track}?include=product.label",
}


# Far above the ids the sequence gives the suite's other organizations.
ORGANIZATION_ID = 10**6


@pytest.fixture
def api(admin_user, make_token):
    """A client acting in the catalog's organization, whose id is fixed."""
    organization = Organization.objects.create(pk=ORGANIZATION_ID, name="Golden", slug="golden")
    return JsonApiClient(make_token(admin_user, organization=organization))


@pytest.fixture
def catalog(api):
    """Four labels, eight products, 24 tracks, with fixed ids and timestamps."""
    organization = Organization.objects.get(pk=ORGANIZATION_ID)
    with connection.cursor() as cursor:
        for table in ("tracks_track", "products_product", "products_label"):
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER SEQUENCE {table}_id_seq RESTART WITH 1")
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
    for n in range(4):
        label = make_label(
            name=f"Label {n}", description=None if n % 2 else "Indie", organization=organization
        )
        for p in range(2):
            product = make_product(label=label, name=f"Product {n}-{p}")
            for t in range(3):
                make_track(
                    product=product,
                    title=f"Song {n}{p}{t}",
                    track_number=t + 1,
                    isrc_code=f"ESA11231{n}{p}{t}1",
                    composer=["Composer"] if t == 1 else None,
                )
    for model in (Label, Product, Track):
        model.objects.update(created_at=FIXED, updated_at=FIXED)
    return Track.objects.order_by("pk").first()


@pytest.mark.parametrize("name", sorted(URLS))
def test_document_matches_golden_file(api, catalog, name):
    response = api.get(URLS[name].format(track=catalog.pk))
    assert response.status_code == 200
    path = GOLDEN / f"{name}.json"
    if os.environ.get("RECORD_GOLDEN") == "1":
        path.write_bytes(response.content)
    assert response.content == path.read_bytes()
