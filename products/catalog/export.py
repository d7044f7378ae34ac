"""Writing an organization's catalog out, in a format ``import_catalog`` reads back."""

from config.jsonapi.plans import converter
from products.serializers import ProductSerializer
from tracks.models import Track
from tracks.serializers import TrackSerializer

from ..models import Product
from .formats import product_members, track_members

CHUNK = 500  # products read at a time: memory stays flat whatever the catalog's size
# The column naming each relationship's target as catalog files do (formats).
PRODUCT_COLUMNS = {"label": "label__name", "language": "language_id"}
TRACK_COLUMNS = {"audio-language": "audio_language_id"}


def members_plan(serializer_class, members, relationships):
    """(member, column, conversion of its value or None) for each member: attributes as
    the API renders them (the read path's converters), relationships by the column
    holding the related row's name."""
    schema = serializer_class.schema()
    fields = serializer_class.shared_fields()
    plan = []
    for member in members:
        if member in relationships:
            plan.append((member, relationships[member], None))
        else:
            field = fields[schema.writable_attributes[member]]
            plan.append((member, field.source, converter(field)))
    return plan


def _render(plan, row):
    values = {}
    for member, column, convert in plan:
        value = row[column]
        values[member] = value if value is None or convert is None else convert(value)
    return values


def export(organization, writer):
    """Write every product of ``organization`` with its tracks to ``writer`` (a
    ``CsvWriter`` or ``NdjsonWriter``); returns (products, tracks) written."""
    product_plan = members_plan(ProductSerializer, product_members(), PRODUCT_COLUMNS)
    track_plan = members_plan(TrackSerializer, track_members(), TRACK_COLUMNS)
    product_columns = ["id", *(column for _, column, _ in product_plan)]
    track_columns = ["product_id", *(column for _, column, _ in track_plan)]
    products = Product.objects.filter(label__organization=organization).order_by("id")
    counts = [0, 0]
    last_id = 0
    while True:
        chunk = list(products.filter(id__gt=last_id).values(*product_columns)[:CHUNK])
        if not chunk:
            return tuple(counts)
        last_id = chunk[-1]["id"]
        tracks = {}
        rows = (
            Track.objects.filter(product_id__in=[product["id"] for product in chunk])
            .order_by("product_id", "volume_number", "track_number", "id")
            .values(*track_columns)
        )
        for track in rows:
            tracks.setdefault(track["product_id"], []).append(_render(track_plan, track))
        for product in chunk:
            written = tracks.get(product["id"], [])
            writer.write(_render(product_plan, product), written)
            counts[0] += 1
            counts[1] += len(written)
