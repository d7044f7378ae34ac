"""Atomic Operations against single requests: 1,000 track creates as 1,000 POSTs to
/api/v1/tracks, then as one POST to /api/v1/operations with 1,000 adds, same data shape,
same run, on a throwaway database beside the configured one:

1. in-process (Django's test client, as bench/read_path.py): seconds, milliseconds and
   SQL statements per track, and the ratio;
2. on PostgreSQL, also through a real server (gunicorn, one sync worker, on 127.0.0.1)
   from one keep-alive HTTP connection: each single POST then pays its own request
   (parsing, authentication, organization) and its own COMMIT.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracks python -m bench.operations
"""

import argparse
import http.client
import json
import subprocess
import sys
import time

from bench.data import create_catalog, create_database, destroy_database, setup_django
from bench.throughput import HOST, free_port, server_environment, wait_until_ready

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


def over_http(token, products, count):
    """(seconds of single POSTs, seconds of one operations request) through gunicorn."""
    from django.db import connection

    port = free_port()
    env = server_environment(connection.settings_dict, ATOMIC_MAX_OPERATIONS=str(count))
    connection.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "1", "-b", f"{HOST}:{port}",
         "--timeout", "600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_ready(f"http://{HOST}:{port}", token)
        client = http.client.HTTPConnection(HOST, port, timeout=600)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}

        def post(path, document, **extra):
            client.request("POST", path, json.dumps(document), {**headers, **extra})
            response = client.getresponse()
            body = response.read()
            assert response.status in (200, 201), body[:500]

        started = time.perf_counter()
        for n in range(count):
            post("/api/v1/tracks", {"data": track(2 * count + n, products[0])})
        single = time.perf_counter() - started
        operations = [{"op": "add", "data": track(3 * count + n, products[1])}
                      for n in range(count)]  # fmt: skip
        started = time.perf_counter()
        post("/api/v1/operations", {"atomic:operations": operations},
             **{"Content-Type": ATOMIC, "Accept": ATOMIC})  # fmt: skip
        return single, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000)
    count = parser.parse_args().tracks
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from products.models import Product

    setup_test_environment()  # the test client's host, as bench/read_path.py
    settings.ATOMIC_MAX_OPERATIONS = count
    old_name = create_database()
    try:
        token = create_catalog(products=4, tracks_per_product=0)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        rows = [
            ("single POSTs", *measure(single_posts, client, products[0], count)),
            ("one operations request", *measure(one_operations_request, client, products[1],
                                                count)),
        ]  # fmt: skip
        print(f"{count} track creates, in-process (Django test client)")
        print(f"  {'how':<24}{'seconds':>9}{'ms/track':>10}{'SQL/track':>11}")
        for name, seconds, queries in rows:
            per_track = 1000 * seconds / count
            print(f"  {name:<24}{seconds:>9.2f}{per_track:>10.2f}{queries / count:>11.3f}")
        print(f"  single POSTs / operations = {rows[0][1] / rows[1][1]:.2f}x")
        if connection.vendor == "postgresql":
            single, atomic = over_http(token, products[2:], count)
            print(f"{count} track creates through gunicorn (1 sync worker), one connection")
            print(f"  {'single POSTs':<24}{single:>9.2f}{1000 * single / count:>10.2f}")
            print(f"  {'one operations request':<24}{atomic:>9.2f}{1000 * atomic / count:>10.2f}")
            print(f"  single POSTs / operations = {single / atomic:.2f}x")
    finally:
        destroy_database(old_name)


if __name__ == "__main__":
    main()
