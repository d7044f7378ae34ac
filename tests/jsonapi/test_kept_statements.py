"""The SQL of a collection's queries is compiled once per shape (config/compiled.py):
queries that differ in their parameters' values only are run again from the first one's
SQL, with their own values, and give what Django's own compilation gives."""

import pytest
from django.db import connection
from django.db.models import F, Max, Window
from django.db.models.functions import FirstValue
from django.db.models.lookups import Exact, GreaterThan
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from config.compiled import KeptStatements, shape
from config.jsonapi import plans
from products.serializers import ProductSerializer
from tests.factories import make_product, make_track
from tracks.models import Track
from tracks.serializers import TrackSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks():
    first, second = make_product(name="First"), make_product(name="Second")
    return [
        make_track(product=first, title="a", bpm=90),
        make_track(product=first, title="b", bpm=120),
        make_track(product=second, title="a", bpm=None),
    ]


@pytest.fixture
def compilations(monkeypatch):
    """The statements Django compiles (SQLCompiler.as_sql calls)."""
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return compiled


def track_plan():
    assert ProductSerializer.schema().type == "products"  # registered: tracks include it
    return plans.document_plan(TrackSerializer.schema(), {"product": {}}, {})


def test_a_query_of_a_kept_shape_runs_with_its_own_values(tracks, compilations):
    plan = track_plan()
    by_title = Track.objects.order_by("pk")
    first = plan.read(by_title.filter(title="a", product__name="First")[:10])
    compiled = len(compilations)
    second = plan.read(by_title.filter(title="a", product__name="Second")[:10])
    third = plan.read(by_title.filter(title="b", product__name="First")[:10])

    assert len(compilations) == compiled  # the same shape: not compiled again
    for rows, track in [(first, tracks[0]), (second, tracks[2]), (third, tracks[1])]:
        assert [row[0] for row in rows] == [track.pk]
    expected = list(by_title.filter(title="a", product__name="Second").values_list(*plan.columns))
    assert second == expected


@pytest.mark.parametrize(
    "other",
    [
        lambda tracks: tracks.filter(title__isnull=True),
        lambda tracks: tracks.filter(title__in=["a", "b"]),
        lambda tracks: tracks.filter(title__in=["a"]),
        lambda tracks: tracks.exclude(title="a"),
        lambda tracks: tracks.filter(bpm__gte=100),
        lambda tracks: tracks.filter(product__label__name="x"),
        lambda tracks: tracks.order_by("-title", "pk"),
        lambda tracks: tracks.distinct(),
    ],
)
def test_another_shape_is_compiled_for_itself(tracks, compilations, other):
    plan = track_plan()
    base = Track.objects.filter(title="a").order_by("pk")
    plan.read(base[:10])
    compiled = len(compilations)
    queryset = other(Track.objects.order_by("pk"))
    for page in (queryset[:10], queryset[1:3]):
        assert plan.read(page) == list(page.values_list(*plan.columns))
    assert shape(queryset.query, "default")[0] != shape(base.query, "default")[0]
    assert len(compilations) > compiled


def test_a_page_is_a_shape_of_its_own(tracks):
    plan = track_plan()
    ordered = Track.objects.order_by("pk")
    assert [row[0] for row in plan.read(ordered[:2])] == [tracks[0].pk, tracks[1].pk]
    assert [row[0] for row in plan.read(ordered[1:3])] == [tracks[1].pk, tracks[2].pk]
    assert [row[0] for row in plan.read(ordered[:1])] == [tracks[0].pk]


def test_counts_are_kept_by_shape(tracks, compilations):
    statements = KeptStatements(size=8)
    assert statements.count(Track.objects.filter(product__name="First")) == 2
    compiled = len(compilations)
    assert statements.count(Track.objects.filter(product__name="Second")) == 1
    assert statements.count(Track.objects.filter(product__name="Nobody")) == 0
    assert len(compilations) == compiled
    assert statements.count(Track.objects.filter(bpm__isnull=True)) == 1
    assert len(compilations) == compiled + 1


def test_queries_with_more_than_filters_have_no_shape(tracks):
    tracks = Track.objects.all()
    assert shape(tracks.annotate(double=F("bpm") * 2).query, "default") is None
    assert shape(tracks.values_list("title").query, "default") is None
    assert shape(tracks.order_by(F("title").asc()).query, "default") is None
    assert shape(tracks.filter(pk__in=[]).query, "default") is None  # matches nothing
    assert shape(tracks.query, "default").params == ()


def bpm_window():
    return Window(FirstValue("bpm"), partition_by=F("product_id"), order_by=F("id").asc())


def test_filters_django_moves_out_of_the_where_clause_have_no_shape(tracks):
    """A filter on a window function (QUALIFY, emulated with a subquery) or an aggregate
    (HAVING) puts its values elsewhere in the statement than the WHERE clause."""
    window = Track.objects.filter(bpm__gte=1).filter(Exact(bpm_window(), 90))
    aggregate = Track.objects.filter(GreaterThan(Max("bpm"), 0)).filter(bpm__lt=3)
    for queryset in (window, aggregate):
        assert shape(queryset.query, "default") is None
    statements = KeptStatements(size=8)
    statements.count(Track.objects.filter(bpm__gte=5.0).filter(Exact(bpm_window(), 5.0)))
    reused = Track.objects.filter(bpm__gte=1).filter(Exact(bpm_window(), 90))
    assert statements.count(reused) == reused.count() == 2  # both tracks of First


def test_a_statement_is_kept_only_when_its_parameters_are_the_where_clause(tracks):
    statements = KeptStatements(size=8)
    found = shape(Track.objects.filter(title="a").query, "default")
    key = ("some", "shape")
    with statements.first_run("default", key, found) as keep, connection.cursor() as cursor:
        cursor.execute("SELECT %s, %s", ["a", "b"])  # a value the WHERE does not hold
    keep()
    assert statements.get("default", key) is None
    with statements.first_run("default", key, found) as keep, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) WHERE %s = 'a'", ["a"])  # the value, not the clause
    keep()
    assert statements.get("default", key) is None
    with statements.first_run("default", key, found) as keep:
        Track.objects.filter(title="a").count()
    keep("reading")
    sql, reading = statements.get("default", key)
    assert "COUNT" in sql and found.where in sql and reading == "reading"


def test_equal_values_of_other_types_are_not_the_where_clause(tracks):
    statements = KeptStatements(size=8)
    found = shape(Track.objects.filter(bpm=1).query, "default")  # a float parameter: 1.0
    with statements.first_run("default", "key", found) as keep:
        Track.objects.filter(track_number=1).count()  # 1, an int, equal to 1.0
    keep()
    assert statements.get("default", "key") is None


def test_the_oldest_shapes_are_forgotten_past_the_size(tracks):
    statements = KeptStatements(size=2)
    for title in ("a", "b"):
        statements.count(Track.objects.filter(title=title))
    statements.count(Track.objects.filter(bpm__isnull=True))
    statements.count(Track.objects.filter(bpm__gte=1))
    statements.count(Track.objects.filter(title__icontains="x"))
    kept = statements._local.__dict__["default"]
    assert len(kept) == 2


def test_a_listing_read_from_kept_statements_renders_what_django_compiles(api, tracks):
    """Through the API: the same shape with other values, served from the kept SQL."""
    product = tracks[0].product
    url = "/api/v1/tracks?filter[title]={}&include=product&page[size]=1"
    first = api.get(url.format("a"))
    with CaptureQueriesContext(connection) as queries:
        second = api.get(url.format("b"))
    assert [t["id"] for t in first.document["data"]] == [str(tracks[0].pk)]
    assert first.document["meta"]["page"]["total"] == 2  # a full first page: counted
    assert [t["id"] for t in second.document["data"]] == [str(tracks[1].pk)]
    assert second.document["meta"]["page"]["total"] == 1
    assert second.document["included"][0]["id"] == str(product.pk)
    assert len(queries) == 3  # the token, the page and the count, as before
