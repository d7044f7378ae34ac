"""Throughput through a real server: gunicorn (2 workers) on 127.0.0.1 against PostgreSQL,
driven by wrk for a bounded time per URL. Load only ever goes to 127.0.0.1."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from bench.data import create_catalog, create_database, destroy_database, setup_django

DURATION_SECONDS = int(os.environ.get("BENCH_DURATION", "10"))
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


def run_wrk(url, token):
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{DURATION_SECONDS}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=DURATION_SECONDS + 30,
        check=True,
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
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "ALLOWED_HOSTS": HOST,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"{HOST}:{port}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_ready(base, token)
        track = connection.cursor()
        track.execute("SELECT MIN(id) FROM tracks_track")
        track_id = track.fetchone()[0]
        connection.close()
        targets = [
            ("tracks, page[size]=20", "/api/v1/tracks?page%5Bsize%5D=20"),
            ("tracks, page[size]=100", "/api/v1/tracks?page%5Bsize%5D=100"),
            ("one track", f"/api/v1/tracks/{track_id}"),
        ]
        print(
            f"gunicorn 2 workers on {HOST}, PostgreSQL, wrk 2 threads / {CONNECTIONS} connections,"
            f" {DURATION_SECONDS}s per URL"
        )
        print(f"{'request':<26} {'req/s':>9} {'p50':>10} {'p99':>10} {'non-2xx':>8}")
        for name, path in targets:
            rate, p50, p99, errors = run_wrk(base + path, token)
            print(f"{name:<26} {rate:>9.1f} {p50:>10} {p99:>10} {errors:>8}")
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
