"""In-process benchmark of the JSON:API read path against plain DRF, stock
djangorestframework-jsonapi and the raw floor. Run: scripts/bench (see the README)."""

import argparse
import statistics
import time

from bench.data import TOKEN, create_catalog, create_database, destroy_database, setup_django

SCENARIOS = [
    (
        "tracks page of 100, include=product,audio-language",
        {
            "raw floor": "/bench/raw/tracks",
            "plain DRF": "/bench/plain/tracks",
            "stock DJA": "/bench/stock/tracks?page[size]=100&include=product,audio-language",
            "ours": "/api/v1/tracks?page[size]=100&include=product,audio-language",
        },
    ),
    (
        "products page of 100 (10 tracks each), include=tracks",
        {
            "plain DRF": "/bench/plain/products",
            "stock DJA": "/bench/stock/products?page[size]=100&include=tracks",
            "ours": "/api/v1/products?page[size]=100&include=tracks",
        },
    ),
]


def measure(client, url, iterations):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(max(3, iterations // 10)):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, len(queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ROOT_URLCONF = "bench.urls"
    old_name = create_database()
    try:
        create_catalog()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        print(f"database: {connection.vendor}, {args.iterations} requests per row, in-process")
        print(f"{'scenario / variant':<58} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for title, variants in SCENARIOS:
            print(title)
            results = {
                name: measure(client, url, args.iterations) for name, url in variants.items()
            }
            for name, (median, p95, queries) in results.items():
                print(f"  {name:<56} {median:>10.2f} {p95:>8.2f} {queries:>8}")
            ours, plain, stock = (
                results["ours"][0],
                results["plain DRF"][0],
                results["stock DJA"][0],
            )
            print(
                f"  ours / plain DRF = {ours / plain:.2f}x, stock DJA / ours = {stock / ours:.2f}x"
            )
    finally:
        destroy_database(old_name)


if __name__ == "__main__":
    main()
