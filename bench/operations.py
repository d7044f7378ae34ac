"""Atomic Operations against single requests: 1,000 track creates as 1,000 POSTs to
/api/v1/tracks, then as one POST to /api/v1/operations with 1,000 adds, same data shape,
same run, in-process (Django's test client, as bench/read_path.py), on a throwaway
database beside the configured one. Reported: seconds, milliseconds and SQL statements
per track, and the ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracks python -m bench.operations
"""

import argparse
import json
import time

from bench.data import create_catalog, create_database, destroy_database, setup_django

ATOMIC = 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"'


def track(n, product_id):
    return {
        "type": "tracks",
        "attributes": {
            "title": f"Song {n}",
            "track-number": n % 1000 + 1,
            "volume-number": 1 + n // 1000,
            "isrc-code": f"ESB22{n:07d}",
            "artist": ["The Band"],
        },
        "relationships": {
            "product": {"data": {"type": "products", "id": str(product_id)}},
            "audio-language": {"data": {"type": "languages", "id": "en"}},
        },
    }


def single_posts(client, product_id, count):
    for n in range(count):
        body = json.dumps({"data": track(n, product_id)})
        response = client.post("/api/v1/tracks", body, content_type="application/vnd.api+json")
        assert response.status_code == 201, response.content[:500]


def one_operations_request(client, product_id, count):
    operations = [{"op": "add", "data": track(count + n, product_id)} for n in range(count)]
    body = json.dumps({"atomic:operations": operations})
    response = client.post("/api/v1/operations", body, content_type=ATOMIC, HTTP_ACCEPT=ATOMIC)
    assert response.status_code == 200, response.content[:500]


def measure(run, *args):
    """(seconds, SQL statements) of ``run(*args)``."""
    from django.db import connection

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        run(*args)
        seconds = time.perf_counter() - started
    return seconds, statements


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000)
    count = parser.parse_args().tracks
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    from products.models import Product

    setup_test_environment()  # the test client's host, as bench/read_path.py
    settings.ATOMIC_MAX_OPERATIONS = count
    old_name = create_database()
    try:
        token = create_catalog(products=2, tracks_per_product=0)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        first, second = Product.objects.order_by("pk").values_list("pk", flat=True)
        rows = [
            ("single POSTs", *measure(single_posts, client, first, count)),
            ("one operations request", *measure(one_operations_request, client, second, count)),
        ]
    finally:
        destroy_database(old_name)
    print(f"{count} track creates, in-process (Django test client)")
    print(f"  {'how':<24}{'seconds':>9}{'ms/track':>10}{'SQL/track':>11}")
    for name, seconds, queries in rows:
        print(f"  {name:<24}{seconds:>9.2f}{1000 * seconds / count:>10.2f}{queries / count:>11.1f}")
    print(f"  single POSTs / operations = {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
