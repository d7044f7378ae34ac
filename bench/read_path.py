"""In-process benchmark of the JSON:API read path against plain DRF, stock
djangorestframework-jsonapi and the raw floor. Run: scripts/bench (see the README)."""

import argparse
import statistics
import time

from bench.data import create_catalog, create_database, destroy_database, setup_django

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


def measure(client, variants, iterations, budget_seconds=30):
    """Per variant ({name: url}): requests, median and p95 ms of ``iterations`` requests
    (fewer, but at least 5, past the budget), and the queries of one. The variants are
    measured in turns, one request of each per round, so that on a shared machine they
    all meet the same load and their ratios hold even when the absolute times do not."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in variants.values():
        for _ in range(max(3, iterations // 10)):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings = {name: [] for name in variants}
    spent = dict.fromkeys(variants, 0.0)

    def wanted(name):
        taken = len(timings[name])
        return taken < iterations and (taken < 5 or spent[name] < budget_seconds)

    while active := [name for name in variants if wanted(name)]:
        for name in active:
            started = time.perf_counter()
            client.get(variants[name])
            elapsed = time.perf_counter() - started
            spent[name] += elapsed
            timings[name].append(elapsed * 1000)
    results = {}
    for name, url in variants.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        taken = sorted(timings[name])
        p95 = taken[min(len(taken) - 1, int(len(taken) * 0.95))]
        results[name] = len(taken), statistics.median(taken), p95, len(queries)
    return results


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
    # How stock djangorestframework-jsonapi must be configured to render the same members.
    settings.JSON_API_FORMAT_FIELD_NAMES = "dasherize"
    settings.JSON_API_FORMAT_TYPES = False
    settings.JSON_API_PLURALIZE_TYPES = False
    old_name = create_database()
    try:
        token = create_catalog()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        print(
            f"database: {connection.vendor}, in-process Django test client, {args.iterations}"
            " requests per row (fewer past 30 s)"
        )
        header = ("scenario / variant", "requests", "median ms", "p95 ms", "queries")
        print("{:<50} {:>8} {:>10} {:>8} {:>8}".format(*header))
        for title, variants in SCENARIOS:
            print(title)
            results = measure(client, variants, args.iterations)
            for name, (count, median, p95, queries) in results.items():
                print(f"  {name:<48} {count:>8} {median:>10.2f} {p95:>8.2f} {queries:>8}")
            ours, plain, stock = (
                results["ours"][1],
                results["plain DRF"][1],
                results["stock DJA"][1],
            )
            floor = results.get("raw floor")
            against_floor = "" if floor is None else f"ours / raw floor = {ours / floor[1]:.2f}x, "
            print(
                f"  {against_floor}ours / plain DRF = {ours / plain:.2f}x, "
                f"stock DJA / ours = {stock / ours:.2f}x"
            )
    finally:
        destroy_database(old_name)


if __name__ == "__main__":
    main()
