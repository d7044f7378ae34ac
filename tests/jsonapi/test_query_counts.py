"""Lists run a fixed, small number of SQL queries whatever the page size and includes.

The budget: one query for the token (with the organization its application is bound to,
the one the request acts in, and the user's role there), one COUNT for pagination (none
when the first page is not full: it is the whole collection), one for the page (to-one
includes are joined into it), one per to-many level included (prefetched, with that
level's to-one includes joined in). With includes at most three levels deep that is at
most five queries.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_collection, make_label, make_product, make_track

pytestmark = pytest.mark.django_db

CASES = [
    ("/api/v1/tracks?include=product,audio-language", 3),
    ("/api/v1/tracks?include=product,audio-language,label", 3),
    ("/api/v1/tracks?include=product.label&fields[tracks]=title,product", 3),
    ("/api/v1/products?include=tracks", 4),
    ("/api/v1/products?include=tracks,label,language", 4),
    ("/api/v1/labels?include=products", 4),
    ("/api/v1/labels?include=products.tracks", 5),
    ("/api/v1/labels?include=products.tracks.audio-language,products.language", 5),
    ("/api/v1/products?include=tracks.product.label,label,language", 4),
    ("/api/v1/tracks?include=product.tracks.label", 4),
]


@pytest.fixture
def catalog(db):
    """100 labels, 100 products and 200 tracks: enough for full pages of 100."""
    for _ in range(100):
        product = make_product(label=make_label())
        make_track(product=product, track_number=1)
        make_track(product=product, track_number=2)


def queries(api, url):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.document
    return len(captured), len(response.document["data"])


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_list_query_count_is_exact_for_page_sizes_1_and_100(api, catalog, url, expected):
    one = queries(api, f"{url}&page[size]=1")
    hundred = queries(api, f"{url}&page[size]=100")
    assert one[0] == hundred[0] == expected
    assert one[1] == 1
    assert hundred[1] == 100


@pytest.mark.parametrize(
    "url", ["/api/v1/tracks?page[size]=100", "/api/v1/collections?page[limit]=100"]
)
def test_a_first_page_holding_the_whole_collection_is_not_counted(api, url):
    """Two rows, a first page of 100: the token and the page, no COUNT; the total is the
    page's rows (page numbers and AudioDN's offsets alike)."""
    make = make_track if "tracks" in url else make_collection
    make()
    make()
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.document
    assert len(captured) == 2
    assert len(response.document["data"]) == response.document["meta"]["page"]["total"] == 2


def test_a_full_first_page_is_counted(api):
    make_track()
    make_track()
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/tracks?page[size]=2")
    assert len(captured) == 3
    assert response.document["meta"]["page"]["total"] == 2


def test_a_page_past_the_end_skips_the_page_query(api, catalog):
    count, rows = queries(api, "/api/v1/tracks?include=product&page[number]=99&page[size]=100")
    assert (count, rows) == (2, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares statements")
def test_the_statements_every_request_repeats_are_prepared(api, catalog):
    """From the fifth run on a connection (DATABASE_PREPARE_THRESHOLD), PostgreSQL runs the
    token's, the COUNT's and the page's statements without planning them again."""
    url = "/api/v1/tracks?include=product,audio-language&page[size]=100"
    for _ in range(6):
        assert api.get(url).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('"oauth2_provider_accesstoken"' in statement for statement in prepared)
    assert any(statement.startswith("SELECT COUNT(*)") for statement in prepared)
    assert any(
        'FROM "tracks_track"' in statement and "LIMIT" in statement for statement in prepared
    )
