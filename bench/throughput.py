"""Throughput through a real server: gunicorn (``BENCH_WORKERS`` sync workers, default 2)
on 127.0.0.1 against PostgreSQL, driven by wrk for a bounded time per URL, ours beside
plain DRF on the same rows in the same run (one track, pages of 20 and 100, a track
POST). Load only ever goes to 127.0.0.1."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.data import create_catalog, create_database, destroy_database, setup_django

DURATION_SECONDS = int(os.environ.get("BENCH_DURATION", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Production's token cache (config/token_cache.py); TOKEN_CACHE_SECONDS=0 measures without.
TOKEN_CACHE_SECONDS = os.environ.get("TOKEN_CACHE_SECONDS", "60")
CONNECTIONS = 8
HOST = "127.0.0.1"


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def database_url(settings_dict):
    user, password = settings_dict["USER"], settings_dict["PASSWORD"]
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def server_environment(settings_dict, **extra):
    """The environment a benchmark's gunicorn runs in: the benchmark's database, production
    settings (no debug, quiet logs, kept connections) and ``extra``."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(settings_dict),
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "TOKEN_CACHE_SECONDS": TOKEN_CACHE_SECONDS,
        **extra,
    }


def wait_until_ready(base, token, deadline=30):
    request = urllib.request.Request(
        f"{base}/api/v1/languages?page%5Bsize%5D=1", headers={"Authorization": f"Bearer {token}"}
    )
    for _ in range(deadline * 4):
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("gunicorn did not answer in time")


# Each wrk thread posts tracks of its own volume, numbered by a counter of its own, so
# that no two POSTs clash (ISRC and position are unique within a product).
POST_SCRIPT = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  counter = 0
  product = tonumber(args[1])
  jsonapi = args[2] == "jsonapi"
end
function request()
  counter = counter + 1
  local isrc = string.format("ESB2%d%07d", id, counter)
  local body
  if jsonapi then
    body = string.format('{"data":{"type":"tracks","attributes":{"title":"Song",' ..
      '"track-number":%d,"volume-number":%d,"isrc-code":"%s","artist":["Band"]},' ..
      '"relationships":{"product":{"data":{"type":"products","id":"%d"}},' ..
      '"audio-language":{"data":{"type":"languages","id":"en"}}}}}',
      counter, id + 2, isrc, product)
    wrk.headers["Content-Type"] = "application/vnd.api+json"
  else
    body = string.format('{"title":"Song","track_number":%d,"volume_number":%d,' ..
      '"isrc_code":"%s","artist":["Band"],"product":%d,"audio_language":"en"}',
      counter, id + 2, isrc, product)
    wrk.headers["Content-Type"] = "application/json"
  end
  return wrk.format("POST", nil, nil, body)
end
"""


def run_wrk(url, token, script_args=None):
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_SECONDS}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if script_args:
            script.write(POST_SCRIPT)
            script.flush()
            command += ["-s", script.name, url, "--", *script_args]
        else:
            command.append(url)
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=DURATION_SECONDS + 30, check=True
        ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, latency.get("50", "?"), latency.get("99", "?"), errors.group(1) if errors else "0"


def main():
    if shutil.which("wrk") is None:
        sys.exit("The throughput benchmark needs wrk: apt-get install wrk")
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The throughput benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    old_name = create_database()
    server = None
    try:
        token = create_catalog()
        connection.close()
        port = free_port()
        base = f"http://{HOST}:{port}"
        env = server_environment(connection.settings_dict)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bench.wsgi", "-w", str(WORKERS),
             "-b", f"{HOST}:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until_ready(base, token)
        cursor = connection.cursor()
        cursor.execute("SELECT MIN(id) FROM tracks_track")
        track_id = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(id), MAX(id) FROM products_product")
        ours_product, plain_product = cursor.fetchone()
        connection.close()
        targets = [
            ("one track", f"/api/v1/tracks/{track_id}", f"/bench/plain/tracks/{track_id}", None),
            (
                "tracks, page of 20",
                "/api/v1/tracks?page%5Bsize%5D=20",
                "/bench/plain/track-page?page_size=20",
                None,
            ),
            (
                "tracks, page of 100",
                "/api/v1/tracks?page%5Bsize%5D=100",
                "/bench/plain/track-page?page_size=100",
                None,
            ),
            ("track POST", "/api/v1/tracks", "/bench/plain/writes/tracks", True),
        ]
        print(
            f"gunicorn {WORKERS} sync workers on {HOST}, PostgreSQL, CONN_MAX_AGE=60,"
            f" TOKEN_CACHE_SECONDS={TOKEN_CACHE_SECONDS}, wrk 2 threads / {CONNECTIONS}"
            f" connections, {DURATION_SECONDS}s per URL"
        )
        print(f"{'request':<30} {'req/s':>9} {'p50':>10} {'p99':>10} {'non-2xx':>8}")
        for name, ours, plain, posts in targets:
            rates = {}
            for variant, path, product, kind in (
                ("ours", ours, ours_product, "jsonapi"),
                ("plain DRF", plain, plain_product, "json"),
            ):
                script_args = [str(product), kind] if posts else None
                rate, p50, p99, errors = run_wrk(base + path, token, script_args)
                rates[variant] = rate
                label = f"{name}, {variant}"
                print(f"{label:<30} {rate:>9.1f} {p50:>10} {p99:>10} {errors:>8}")
            print(f"  ours / plain DRF = {rates['ours'] / rates['plain DRF']:.2f}x (requests/s)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        destroy_database(old_name)


if __name__ == "__main__":
    main()
