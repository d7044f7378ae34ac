"""The compiled read path (config/jsonapi/plans.py) renders collections byte for byte as
the instance path does.

Each collection here is requested twice over the same rows: as the view serves it, and
with the compiled path switched off (model instances and their serializer fields), and
the two responses must be the same bytes, with the same number of queries. The rows
carry what needs converting: datetimes with and without microseconds, dates, floats,
JSON of every shape, UUIDs, choices, nulls, text beyond ASCII, self-references and
related ids that are not primary keys.
"""

import datetime
import json
import uuid
import zoneinfo

import orjson
import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from collections_app.models import Collection
from collections_app.serializers import CollectionSerializer, CollectionTrackSerializer
from config.jsonapi import plans
from products.models import Product
from products.serializers import ProductSerializer
from soundcheck.models import CheckResult
from tests.client import JsonApiClient
from tests.factories import (
    make_check,
    make_check_result,
    make_collection,
    make_collection_track,
    make_organization,
    make_product,
    make_track,
    make_webhook_delivery,
)
from tracks.models import Track
from tracks.serializers import TrackSerializer

pytestmark = pytest.mark.django_db

# URL, and whether the compiled path renders it (False: the instance path must).
CASES = [
    ("/api/v1/tracks?page[size]=100&include=product,audio-language,label", True),
    ("/api/v1/tracks?include=product.label,product.language,stem-of", True),
    ("/api/v1/tracks?fields[tracks]=title,createdAt,bpm,product&sort=-title", True),
    ("/api/v1/tracks?fields[tracks]=stem-of&fields[products]=release-date&include=product", True),
    ("/api/v1/tracks?fields[tracks]=records,remix-of", True),
    ("/api/v1/tracks?filter[product-id]={product}&page[number]=2&page[size]=1", True),
    ("/api/v1/tracks?include=remix-of", False),  # to-many include: prefetched instances
    ("/api/v1/products?include=label,language", True),
    ("/api/v1/products?include=tracks", False),
    ("/api/v1/products/{product}/tracks?include=stem-of", True),
    ("/api/v1/labels?include=organization", True),
    ("/api/v1/languages?filter[id]=en,es,ja", True),
    ("/api/v1/collections", False),  # cover: URLs built from the request
    ("/api/v1/collections?fields[collections]=title,metadata,creator-id,createdAt", True),
    (
        "/api/v1/collection-tracks?include=collection&fields[collection-tracks]=title,format,"
        "status,duration,collection&fields[collections]=title,player-color",
        True,
    ),
    (
        "/api/v1/collection-tracks?page[offset]=1&page[limit]=1&fields[collection-tracks]=title",
        True,
    ),
    ("/api/v1/soundcheck/tracks", False),  # levels: read from several rows
    ("/api/v1/soundcheck/tracks?fields[soundcheck-tracks]=name,start-date,milestones", True),
    ("/api/v1/soundcheck/check-results?include=check", True),
    ("/api/v1/webhook-endpoints", True),
    ("/api/v1/webhook-deliveries?include=endpoint", True),
]


@pytest.fixture
def rows():
    """Rows whose members need every kind of reading; returns the first product."""
    product = make_product(
        upc_code="036000291452",
        release_date=datetime.date(1999, 12, 31),
        production_year=1999,
        product_type="album",
        copyright_line="© Ñandú",
    )
    other = make_product(name="Zeta")
    parent = make_track(product=product, title="Ångström", bpm=120.5, genre="Electronic")
    make_track(
        product=product,
        title="stem",
        stem_of=parent,
        stem_category="bass",
        explicit_content=True,
        release_date=datetime.date(2024, 2, 29),
        duration=0.1,
        is_stream_gated=True,
        stream_conditions={"usdc-purchase": {"price": 1.5, "splits": [{"percentage": 100}]}},
        tags="a,b",
        territory_codes=["ES", "FR"],
        composer=[],
        lyrics="línea\nnext",
    )
    remix = make_track(product=other, title="remix", explicit_content=False, bpm=1e-7)
    remix.remix_of.set([parent])
    Track.objects.filter(pk=parent.pk).update(
        created_at=datetime.datetime(2023, 8, 11, 20, 45, 15, tzinfo=datetime.UTC)
    )
    Product.objects.filter(pk=other.pk).update(
        created_at=datetime.datetime(2001, 1, 2, 3, 4, 5, 600, tzinfo=datetime.UTC)
    )
    collection = make_collection(
        metadata={"nested": {"list": [1, 2.5, None, True, "x"]}, "empty": {}},
        creator_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        player_title="Título",
    )
    make_collection(title="Second")
    make_collection_track(collection=collection, title="one", duration=12.25)
    make_collection_track(collection=collection, title=None)
    make_check_result()
    make_webhook_delivery()
    return product


def served(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.document
    assert response.document["data"], url  # something was rendered
    return response.content, len(queries)


def spy(monkeypatch, name):
    """The calls of ``CollectionReading.<name>`` (which still does its work)."""
    calls = []
    method = getattr(plans.CollectionReading, name)

    def spied(self, argument):
        calls.append(argument)
        return method(self, argument)

    monkeypatch.setattr(plans.CollectionReading, name, spied)
    return calls


@pytest.mark.parametrize(("url", "compiled"), CASES)
def test_compiled_and_instance_paths_render_the_same_bytes(api, rows, monkeypatch, url, compiled):
    url = url.format(product=rows.pk)
    readings = spy(monkeypatch, "document")
    content, queries = served(api, url)
    assert bool(readings) == compiled
    assert served(api, url) == (content, queries)  # again, from the kept statements

    monkeypatch.setattr(plans, "document_plan", lambda *args: None)
    expected, expected_queries = served(api, url)
    assert content == expected
    # Never more queries; fewer where the viewset prefetches for members left out.
    assert queries <= expected_queries


# A single resource, and whether the compiled path reads it.
SINGLE_CASES = [
    ("/api/v1/tracks/{track}", True, 200),
    ("/api/v1/tracks/{track}?include=product.label,audio-language,label,stem-of", True, 200),
    ("/api/v1/tracks/{track}?fields[tracks]=title,product&include=product", True, 200),
    ("/api/v1/tracks/{track}?include=remix-of", False, 200),  # to-many: instances
    ("/api/v1/products/{product}?include=label,language", True, 200),
    ("/api/v1/collections/{collection}", False, 200),  # cover: URLs built from the request
    ("/api/v1/collections/{collection}?fields[collections]=title,metadata,createdAt", True, 200),
    ("/api/v1/soundcheck/checks/{check}", True, 200),
    ("/api/v1/tracks/999999999", True, 404),
    ("/api/v1/tracks/not-a-number", True, 404),
    ("/api/v1/tracks/99999999999999999999999", True, 404),
    ("/api/v1/soundcheck/checks/no-such-check", True, 404),
]


@pytest.mark.parametrize(("url", "compiled", "status"), SINGLE_CASES)
def test_a_single_resource_reads_as_a_row_as_the_instance_path_renders_it(
    api, rows, monkeypatch, url, compiled, status
):
    track = Track.objects.get(title="stem")
    url = url.format(
        track=track.pk,
        product=rows.pk,
        collection=Collection.objects.get(title__isnull=False, metadata__has_key="nested").pk,
        check=CheckResult.objects.get().check_definition.slug,
    )
    singles = spy(monkeypatch, "single")
    response = api.get(url)
    assert response.status_code == status, response.content
    assert bool(singles) == (compiled and status == 200)
    again = api.get(url)  # from the kept statements
    monkeypatch.setattr(plans, "document_plan", lambda *args: None)
    expected = api.get(url)
    assert expected.status_code == status
    if status == 200:
        assert response.content == again.content == expected.content
    else:  # errors carry an id of their own
        for error in (*response.document["errors"], *expected.document["errors"]):
            error.pop("id")
        assert response.document == expected.document


def test_a_client_id_several_organizations_use_must_be_told_apart_on_rows_too(
    make_token, admin_user
):
    first = make_check(slug="shared")
    make_check(slug="shared", organization=make_organization(slug="globex"))
    everywhere = JsonApiClient(make_token(admin_user, organization=None))
    response = everywhere.get("/api/v1/soundcheck/checks/shared")
    assert response.status_code == 403
    assert response.document["errors"][0]["code"] == "organization_required"
    named = everywhere.get(
        "/api/v1/soundcheck/checks/shared", HTTP_X_ORGANIZATION=first.organization.slug
    )
    assert named.document["data"]["id"] == "shared"


def test_a_page_past_the_end_reads_no_rows(api, rows):
    response = api.get("/api/v1/tracks?page[number]=9&page[size]=100&include=product")
    assert response.status_code == 200
    assert response.document["data"] == response.document["included"] == []


# The plans: which types and fieldsets columns can render, and their caches.


def test_a_member_that_needs_the_request_leaves_the_type_to_the_instance_path():
    schema = CollectionSerializer.schema()
    assert plans.document_plan(schema, {}, {}) is None  # cover: URLs from the request
    assert plans.document_plan(schema, {}, {"collections": {"title", "cover"}}) is None
    plan = plans.document_plan(schema, {}, {"collections": {"title", "metadata"}})
    assert plan.columns == ["pk", "title", "metadata"]


def test_an_include_columns_cannot_give_leaves_the_document_to_the_instance_path():
    schema = CollectionTrackSerializer.schema()
    own = {"collection-tracks": {"title", "collection"}}
    assert plans.document_plan(schema, {"collection": {}}, own) is None  # cover
    fields = {**own, "collections": {"title"}}
    assert plans.document_plan(schema, {"collection": {}}, fields) is not None
    tracks = TrackSerializer.schema()
    assert plans.document_plan(tracks, {"product": {}}, {}) is not None
    assert plans.document_plan(tracks, {"product": {"tracks": {}}}, {}) is None  # to-many


def test_a_field_that_reads_the_whole_object_is_not_a_column():
    class Titles(serializers.ModelSerializer):
        title = serializers.ModelField(model_field=Track._meta.get_field("title"))

        class Meta:
            model = Track
            fields = ["title", "bpm"]

    fields = Titles().fields
    assert plans.model_column(fields["title"], Track) is None  # its get_attribute: the row
    assert plans.model_column(fields["bpm"], Track).name == "bpm"


def test_to_one_includes_are_columns_of_the_same_query():
    plan = plans.document_plan(
        TrackSerializer.schema(),
        {"product": {"label": {}}},
        {"tracks": {"title", "product"}, "products": {"name", "label"}, "labels": {"name"}},
    )
    assert plan.columns == [
        "pk",
        "title",
        "product",
        "product__pk",
        "product__name",
        "product__label",
        "product__label__pk",
        "product__label__name",
    ]


def test_a_linkage_column_two_types_share_is_selected_once():
    plan = plans.document_plan(
        TrackSerializer.schema(),
        {"product": {}},
        {"tracks": {"label"}, "products": {"label"}},
    )
    assert plan.columns == ["pk", "product__label", "product__pk"]
    assert plan.primary[1] == [0, 1]
    assert plan.includes[0][0][1] == [2, 1]  # the product's label: the track's column


def test_plans_are_built_once_per_serializer_class_and_fieldset():
    everything = plans.column_plan(TrackSerializer, None)
    assert plans.column_plan(TrackSerializer, None) is everything
    sparse = plans.column_plan(TrackSerializer, frozenset({"title"}))
    assert sparse is not everything
    assert sparse.members == ("title",)
    assert plans.column_plan(ProductSerializer, None).schema.type == "products"
    assert plans.attribute_plans(TrackSerializer, None) is plans.attribute_plans(
        TrackSerializer, None
    )


def test_only_members_drf_would_change_are_converted():
    converted = {member for _, member, _ in plans.column_plan(TrackSerializer, None).conversions}
    assert converted == {"production-date", "release-date", "createdAt", "updatedAt"}


# The datetime converter against DRF's DateTimeField.

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
DATETIMES = [
    datetime.datetime(2023, 8, 11, 20, 45, 15, tzinfo=datetime.UTC),
    datetime.datetime(2023, 8, 11, 20, 45, 15, 1, tzinfo=datetime.UTC),
    datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=MADRID),
    datetime.datetime(2024, 3, 31, 2, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))),
    datetime.datetime(1000, 1, 1, 0, 30, tzinfo=MADRID),  # 999 in UTC: left to DRF
    datetime.datetime(1000, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    datetime.datetime(2023, 8, 11, 20, 45, 15, 120000),  # naive: left to DRF
    # In the zone's own tzinfo object, or datetime.UTC for UTC (as psycopg reads them).
    datetime.datetime(2023, 8, 11, 20, 45, 15, 7, tzinfo=zoneinfo.ZoneInfo("UTC")),
    datetime.datetime(2024, 10, 27, 2, 30, tzinfo=MADRID, fold=1),
    datetime.datetime(999, 12, 31, 23, 0, tzinfo=MADRID),  # before 1000: left to DRF
]


@pytest.mark.parametrize("value", DATETIMES, ids=str)
@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Madrid", "America/New_York"])
def test_the_datetime_converter_renders_as_drf(value, zone):
    field = serializers.DateTimeField()
    with timezone.override(zone or timezone.get_default_timezone()):
        assert outcome(plans.converter(field), value) == outcome(field.to_representation, value)


def outcome(convert, value):
    """What ``convert`` makes of ``value``: its result, or the error it raises (DRF's
    ValidationError for a datetime out of range in the time zone)."""
    try:
        return convert(value)
    except serializers.ValidationError as exc:
        return exc.detail


@pytest.mark.parametrize("output_format", ["iso-8601", "%d/%m/%Y %H:%M", None])
def test_other_datetime_formats_are_left_to_drf(settings, output_format):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": output_format}
    field = serializers.DateTimeField()
    convert = plans.converter(field)
    assert convert == field.to_representation
    assert convert(DATETIMES[1]) == field.to_representation(DATETIMES[1])


def test_a_field_with_its_own_time_zone_keeps_it():
    field = serializers.DateTimeField(default_timezone=MADRID)
    value = DATETIMES[0]
    assert (
        plans.converter(field)(value)
        == field.to_representation(value)
        == ("2023-08-11T22:45:15.000000Z")
    )


def test_collection_rows_are_not_model_instances(api, rows, monkeypatch):
    """The point of the path: no model instance is built for a compiled page."""
    built = []
    from_db = Track.from_db

    def counting(cls, *args):
        built.append(cls)
        return from_db(*args)

    monkeypatch.setattr(Track, "from_db", classmethod(counting))
    response = api.get("/api/v1/tracks?include=product,audio-language")
    assert response.status_code == 200
    assert len(response.document["data"]) == Track.objects.count()
    assert built == []
    assert Collection.objects.exists()  # the fixture's other rows are there too


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders")
def test_json_columns_are_decoded_by_psycopg_not_by_django_converters(api, rows, monkeypatch):
    """On PostgreSQL a compiled page's jsonb columns are decoded as they are fetched, not
    by JSONField.from_db_value called on every column of every row (the bytes are the
    instance path's: test_compiled_and_instance_paths_render_the_same_bytes)."""
    reading, converted = [], []
    from_db_value, read = models.JSONField.from_db_value, plans.DocumentPlan.read

    def counting(self, value, expression, connection):
        if reading:
            converted.append(value)
        return from_db_value(self, value, expression, connection)

    def spied(self, rows):
        reading.append(rows)
        return read(self, rows)

    monkeypatch.setattr(models.JSONField, "from_db_value", counting)
    monkeypatch.setattr(plans.DocumentPlan, "read", spied)
    response = api.get("/api/v1/tracks?include=product,audio-language")
    assert response.status_code == 200
    stem = next(t for t in response.document["data"] if t["attributes"]["title"] == "stem")
    assert stem["attributes"]["stream-conditions"] == {
        "usdc-purchase": {"price": 1.5, "splits": [{"percentage": 100}]}
    }
    assert stem["attributes"]["territory-codes"] == ["ES", "FR"]
    assert reading
    assert converted == []


JSON_TEXTS = [
    '{"price": 1.5, "splits": [{"percentage": 100}]}',
    "[0.1, 1e-07, 2.2250738585072014e-308, 5e-324, 1.7976931348623157e+308, -0.0, 1E5]",
    "[9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551616]",
    "123456789012345678901234567890",
    "0.12345678901234567890123",
    '"\\ud800 \\ud83d\\ude00 \\u00e9 \\n"',
    '"Ñandú 🎵"',
    '{"a": {"b": [true, false, null, ""]}}',
    "[" * 200 + "]" * 200,
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_jsonb_is_decoded_to_the_values_json_loads_gives(text):
    loaded = plans._JsonbLoader(0).load(text.encode())
    expected = json.loads(text)
    assert repr(loaded) == repr(expected)  # types too: 1.0 is not 1
    assert plans._JsonbLoader(0).load(memoryview(text.encode())) == expected


def test_encoded_relationships_write_what_orjson_writes_for_the_dicts():
    """Ids and prefixes with characters JSON escapes or bytes formatting reads (%) are
    filled in as orjson would encode them; a missing to-one is null."""

    prefix = 'http://testserver/api/v1/50%25/"odd"/'
    encoded = plans.EncodedRelationships(
        prefix, [("product", "products", 1), ("records", "records", None), ("stem-of", "tracks", 2)]
    )
    for row in [('a\\b"c', 7, None), ("12", "x\u00e9\n", 3)]:
        resource_id = str(row[0])

        def links(member, resource_id=resource_id):
            link = f"{prefix}{resource_id}"
            return {"self": f"{link}/relationships/{member}", "related": f"{link}/{member}"}

        expected = {
            "product": {"links": links("product"), "data": {"type": "products", "id": str(row[1])}},
            "records": {"links": links("records")},
            "stem-of": {
                "links": links("stem-of"),
                "data": None if row[2] is None else {"type": "tracks", "id": str(row[2])},
            },
        }
        rendered = orjson.dumps({"relationships": encoded.render(row, resource_id)})
        assert rendered == orjson.dumps({"relationships": expected})


def test_a_reading_is_built_once_per_plan_base_url_and_time_zone(settings):
    plan = plans.document_plan(TrackSerializer.schema(), {"product": {}}, {})
    first = plans.reading(plan, "http://testserver/api/v1/")
    assert plans.reading(plan, "http://testserver/api/v1/") is first
    assert plans.reading(plan, "http://other/api/v1/") is not first
    with timezone.override(zoneinfo.ZoneInfo("Europe/Madrid")):
        assert plans.reading(plan, "http://testserver/api/v1/") is not first
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y"}
    assert plans.reading(plan, "http://testserver/api/v1/") is not first
