"""Load a small demo catalog (the "demo" organization with one label, one product and three
tracks); safe to run twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from organizations.models import Organization
from products.models import Label, Language, Product
from tracks.models import Track

DEMO_TRACKS = [
    ("Opening", "ESA112310001"),
    ("Interlude", "ESA112310002"),
    ("Finale", "ESA112310003"),
]


class Command(BaseCommand):
    help = __doc__

    @transaction.atomic
    def handle(self, **options):
        organization, _ = Organization.objects.get_or_create(
            slug="demo", defaults={"name": "Demo organization"}
        )
        label, _ = Label.objects.get_or_create(
            organization=organization,
            name="Demo Records",
            defaults={"description": "The quick start's label."},
        )
        product, _ = Product.objects.get_or_create(
            upc_code="036000291452",
            defaults={
                "name": "Demo Album",
                "label": label,
                "language": Language.objects.get(code="en"),
                "product_type": Product.ProductType.ALBUM,
                "release_date": "2024-01-19",
            },
        )
        for number, (title, isrc) in enumerate(DEMO_TRACKS, start=1):
            Track.objects.get_or_create(
                product=product,
                isrc_code=isrc,
                defaults={
                    "title": title,
                    "track_number": number,
                    "volume_number": 1,
                    "artist": ["Demo Artist"],
                    "audio_language": product.language,
                },
            )
        self.stdout.write(
            f"Demo catalog: organization {organization.slug}, label {label.pk}, "
            f"product {product.pk}, 3 tracks."
        )
