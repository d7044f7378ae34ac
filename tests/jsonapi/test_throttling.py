"""Rate limits: 429 documents with Retry-After, per user, heavy actions, shared by processes.

The suite runs without limits (tests/conftest.py); these tests set rates explicitly. The
limits count in the real shared cache: the database cache on its own connection (hence
``databases``), or Redis for the processes started with ``REDIS_URL``.
"""

import http.client
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, connections

from config.jsonapi import JSONAPI_MEDIA_TYPE
from config.models import CacheEntry
from tests.client import JsonApiClient
from tests.factories import make_track
from tests.settings_process import BASE_DIR, settings_in_subprocess
from tests.tracks.test_records import audio_file, record_document
from tracks.models import Record

DAY = 86400
# The database cache has a connection of its own ("cache", not on SQLite).
pytestmark = pytest.mark.django_db(databases="__all__")
# Rows committed, for other processes and threads to see; serialized_rollback keeps the
# flush from recreating content types under the ids the next such test restores.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")
server_database = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite: no cache connection of its own, nor a database other processes can share",
)


@pytest.fixture
def rates(settings):
    """rates(burst="3/day", ...): the throttle rates for this test; unnamed ones are off."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"burst": None, "sustained": None, "heavy": None, **rates},
        }

    return set_rates


def seconds_to_next_day():
    return DAY - time.time() % DAY


def assert_throttled(response):
    assert response.status_code == 429, response.document
    (error,) = response.document["errors"]
    assert (error["status"], error["title"], error["code"]) == (
        "429",
        "Too Many Requests",
        "throttled",
    )
    assert error["id"] == response["X-Request-ID"]
    return int(response["Retry-After"])


def test_burst_limit_refuses_with_a_429_document_and_retry_after(api, rates):
    rates(burst="3/day")
    for _ in range(3):
        assert api.get("/api/v1/labels").status_code == 200
    latest = math.ceil(seconds_to_next_day())
    response = api.get("/api/v1/labels")
    earliest = math.ceil(seconds_to_next_day())
    # The end of the current window (a UTC day), in whole seconds, never 0.
    assert earliest <= assert_throttled(response) <= latest
    assert response["Retry-After"].isdigit()
    assert "Expected available in" in response.document["errors"][0]["detail"]


def test_sustained_limit_applies_with_the_burst_limit_off(api, rates):
    rates(sustained="2/day")
    assert [api.get("/api/v1/labels").status_code for _ in range(2)] == [200, 200]
    assert_throttled(api.get("/api/v1/labels"))


def test_limits_are_per_user(api, rates, viewer, make_token):
    rates(burst="2/day")
    for _ in range(2):
        api.get("/api/v1/labels")
    assert_throttled(api.get("/api/v1/labels"))
    other = JsonApiClient(make_token(viewer, "read"))
    assert other.get("/api/v1/labels").status_code == 200


def test_rates_are_read_for_each_request(api, rates):
    rates(burst="1/day")
    api.get("/api/v1/labels")
    assert_throttled(api.get("/api/v1/labels"))
    rates(burst="5/day")  # the same window's count, a higher limit
    assert api.get("/api/v1/labels").status_code == 200
    rates()
    assert api.get("/api/v1/labels").status_code == 200


@pytest.fixture
def track(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_track()


def test_heavy_rate_counts_uploads_only(api, rates, track, tmp_path):
    rates(heavy="1/day")
    created = api.post_doc("/api/v1/records", record_document(track, audio_file()))
    assert created.status_code == 201, created.document
    retry_after = assert_throttled(
        api.post_doc("/api/v1/records", record_document(track, audio_file(bits=24)))
    )
    assert 1 <= retry_after <= DAY
    assert Record.objects.count() == 1
    assert len(list(tmp_path.rglob("*.flac"))) == 1
    # Reading records and writing other resources are not heavy.
    assert api.get("/api/v1/records").status_code == 200
    label = api.post_doc(
        "/api/v1/labels", {"data": {"type": "labels", "attributes": {"name": "L"}}}
    )
    assert label.status_code == 201, label.document


@server_database
def test_a_refused_upload_counts_too(api, rates, track, tmp_path):
    """The count is not rolled back with the failed request's transaction."""
    rates(heavy="1/day")
    invalid = api.post_doc("/api/v1/records", record_document(track, b"not audio"))
    assert invalid.status_code == 422, invalid.document
    assert_throttled(api.post_doc("/api/v1/records", record_document(track, audio_file())))
    assert not Record.objects.exists()
    assert not any(tmp_path.rglob("*.flac"))


def test_a_throttled_write_writes_nothing(api, rates):
    rates(burst="1/day")
    api.get("/api/v1/labels")
    document = {"data": {"type": "labels", "attributes": {"name": "Throttled"}}}
    assert_throttled(api.post_doc("/api/v1/labels", document))
    rates()
    assert api.get("/api/v1/labels").document["data"] == []


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_authentication_failure_stays_401_whatever_the_count(rates, token):
    rates(burst="1/day", sustained="1/day")
    client = JsonApiClient(token)
    for _ in range(3):
        response = client.get("/api/v1/labels")
        assert response.status_code == 401, response.document
        assert "Retry-After" not in response


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("  ", None), ("7/hour", "7/hour"), ("7/s", "7/s")],
)
def test_rates_come_from_the_environment(value, expected):
    result = settings_in_subprocess(
        "json.dumps(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])",
        SECRET_KEY="x",
        API_THROTTLE_BURST=value,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "burst": expected,
        "sustained": "10000/day",
        "heavy": "30/min",
    }


def test_a_malformed_rate_stops_the_service_at_start():
    result = settings_in_subprocess("1", SECRET_KEY="x", API_THROTTLE_HEAVY="30 per minute")
    assert result.returncode != 0
    assert "API_THROTTLE_HEAVY must be a rate like 120/min" in result.stderr


@server_database
@committed
def test_database_cache_increments_are_not_lost_between_connections():
    """Four connections incrementing one counter at once: no increment is lost."""
    cache.add("counter", 0)
    barrier = threading.Barrier(4)
    failures = []

    def count():
        try:
            barrier.wait()
            for _ in range(25):
                cache.incr("counter")
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert cache.get("counter") == 100


# Two server processes sharing one limit.


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url():
    db = django_settings.DATABASES["default"]  # the test database, inside a test
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """``gunicorn config.wsgi`` in its own process, on its own port, until stop()."""

    def __init__(self, env, log_dir):
        self.port = free_port()
        self.log = log_dir / f"gunicorn-{self.port}.log"
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--error-logfile", str(self.log)]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env)

    def wait_until_listening(self, limit=60):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not listen within {limit} s: {self.log.read_text()}")

    def get(self, path, token):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Accept": JSONAPI_MEDIA_TYPE}
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def servers(tmp_path):
    """servers(**env): start two gunicorn processes on the test database with that env."""
    started = []

    def start(**extra):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SECRET_KEY": "throttling-test",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "ENV_FILE": "",
            "API_THROTTLE_BURST": "5/day",
            "API_THROTTLE_SUSTAINED": "",
            "API_THROTTLE_HEAVY": "",
        }
        env.pop("REDIS_URL", None)  # the database cache unless the test names Redis
        env.update(extra)
        pair = [Server(env, tmp_path), Server(env, tmp_path)]
        started.extend(pair)
        for server in pair:
            server.wait_until_listening()
        return pair

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the local Redis, deleted afterwards."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"tracks-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(url)
    yield url, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def alternate_requests(pair, token, count):
    return [pair[i % 2].get("/api/v1/labels", token) for i in range(count)]


def assert_shared_limit(responses):
    """Five requests pass, alternating between the processes; both refuse the next ones."""
    assert [status for status, _, _ in responses] == [200] * 5 + [429, 429]
    for _, headers, body in responses[5:]:
        assert headers["Content-Type"] == JSONAPI_MEDIA_TYPE
        assert 1 <= int(headers["Retry-After"]) <= DAY
        (error,) = json.loads(body)["errors"]
        assert (error["status"], error["code"], error["id"]) == (
            "429",
            "throttled",
            headers["X-Request-ID"],
        )


@server_database
@committed
def test_two_processes_share_the_limit_in_the_database_cache(servers, admin_user, make_token):
    token = make_token(admin_user, "read")
    pair = servers()
    # The sixth request goes to the second process, which has served only two itself.
    assert_shared_limit(alternate_requests(pair, token, 7))
    assert CacheEntry.objects.filter(cache_key__contains="throttle_burst_").count() == 1


@server_database
@committed
def test_two_processes_share_the_limit_in_redis(servers, redis_prefix, admin_user, make_token):
    url, prefix = redis_prefix
    token = make_token(admin_user, "read")
    pair = servers(REDIS_URL=url, CACHE_KEY_PREFIX=prefix)
    assert_shared_limit(alternate_requests(pair, token, 7))
    keys = redis.Redis.from_url(url).keys(f"{prefix}:*")
    assert len(keys) == 1, keys  # the count lived in Redis, not in the database
    assert not CacheEntry.objects.exists()
