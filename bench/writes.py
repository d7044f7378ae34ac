"""The write path against plain DRF: track creates and updates, in process (Django's test
client, as bench/read_path.py), same data shape, same run, on a throwaway database beside
the configured one. Ours validates the JSON:API document and the model's every rule
(fields, clean(), check constraints, uniqueness, organization scope) and answers the
re-read resource; plain DRF is a ``ModelViewSet`` with a ``ModelSerializer`` of the same
fields (its field validators and uniqueness checks only), in plain JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracks python -m bench.writes
"""

import argparse
import json
import statistics
import time

from bench.data import create_catalog, create_database, destroy_database, setup_django

JSONAPI = "application/vnd.api+json"


def ours_create(n, product_id):
    attributes = {
        "title": f"Song {n}",
        "track-number": n + 2,  # 1 is the catalog's
        "volume-number": 1,
        "isrc-code": f"ESB22{n:07d}",
        "artist": ["The Band"],
    }
    relationships = {
        "product": {"data": {"type": "products", "id": str(product_id)}},
        "audio-language": {"data": {"type": "languages", "id": "en"}},
    }
    document = {
        "data": {"type": "tracks", "attributes": attributes, "relationships": relationships}
    }
    return "post", "/api/v1/tracks", document, JSONAPI, 201


def plain_create(n, product_id):
    document = {
        "title": f"Song {n}",
        "track_number": n + 2,
        "volume_number": 1,
        "isrc_code": f"ESB22{n:07d}",
        "artist": ["The Band"],
        "product": product_id,
        "audio_language": "en",
    }
    return "post", "/bench/plain/writes/tracks", document, "application/json", 201


def ours_update(n, track_id):
    document = {"data": {"type": "tracks", "id": str(track_id), "attributes": {"title": f"T{n}"}}}
    return "patch", f"/api/v1/tracks/{track_id}", document, JSONAPI, 200


def plain_update(n, track_id):
    return (
        "patch",
        f"/bench/plain/writes/tracks/{track_id}",
        {"title": f"T{n}"},
        "application/json",
        200,
    )


def measure(client, request, count, arg):
    """(median ms, p95 ms, SQL statements per request) of ``count`` requests."""
    from django.db import connection

    statements = 0

    def counted(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    timings = []
    with connection.execute_wrapper(counted):
        for n in range(count):
            method, url, document, content_type, expected = request(n, arg)
            started = time.perf_counter()
            response = getattr(client, method)(url, json.dumps(document), content_type=content_type)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == expected, (url, response.content[:500])
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, statements / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    count = parser.parse_args().requests
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from products.models import Product
    from tracks.models import Track

    setup_test_environment()
    settings.ROOT_URLCONF = "bench.urls"
    old_name = create_database()
    try:
        token = create_catalog(products=4, tracks_per_product=1)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        tracks = list(Track.objects.order_by("pk").values_list("pk", flat=True))
        # Warm both paths (imports, caches) before measuring.
        measure(client, ours_create, 5, products[2])
        measure(client, lambda n, p: plain_create(n + 5, p), 5, products[2])
        rows = [
            ("create", "ours", measure(client, ours_create, count, products[0])),
            ("create", "plain DRF", measure(client, plain_create, count, products[1])),
            ("update", "ours", measure(client, ours_update, count, tracks[0])),
            ("update", "plain DRF", measure(client, plain_update, count, tracks[1])),
        ]
        print(
            f"database: {connection.vendor}, in-process Django test client, {count} requests"
            " per row"
        )
        print(f"{'write / variant':<24}{'median ms':>10}{'p95 ms':>9}{'SQL/request':>13}")
        for index, (write, variant, (median, p95, statements)) in enumerate(rows):
            if variant == "ours":
                print(write)
            print(f"  {variant:<22}{median:>10.2f}{p95:>9.2f}{statements:>13.1f}")
            if index % 2:
                ratio = rows[index - 1][2][0] / median
                print(f"  ours / plain DRF = {ratio:.2f}x (medians)")
    finally:
        destroy_database(old_name)


if __name__ == "__main__":
    main()
