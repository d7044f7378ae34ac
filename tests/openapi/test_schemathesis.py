"""schemathesis over every operation of the OpenAPI description, from pytest.

The service runs as a live server on the test database; schemathesis (its own CLI, in a
subprocess) reads ``/api/v1/openapi.json`` from it and runs every phase (examples,
coverage, fuzzing, stateful) with every check; ``schemathesis.toml`` beside this file
leaves the coverage phase out for the operations endpoint only (it says why). Any failure
fails this test and its report is the assertion message. New resources are covered as
soon as they are routed: the test names no operation.

``SCHEMATHESIS_MAX_EXAMPLES`` (default 15) and ``SCHEMATHESIS_SEED`` (fixed by default, so
CI is repeatable) make longer or different runs; the README shows one.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.servers.basehttp import WSGIRequestHandler

from tests.factories import make_check_result, make_collection_track, make_track
from tests.tracks.test_records import audio_file
from tracks.models import Record

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261125")


@pytest.fixture
def catalog(media_root):
    """A label, a product, tracks, a record, a collection and its track, a Soundcheck track
    with a check, a result and a certification for the fuzzer to read, change and delete."""
    make_collection_track()
    make_check_result()
    track = make_track()
    make_track(product=track.product)
    Record.objects.create(
        track=track, filename="master.flac", file=ContentFile(audio_file(), "master.flac")
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def prompt_live_server(monkeypatch):
    """Answers without Nagle's delay: the test server writes headers and body separately,
    which otherwise costs each request a 40 ms delayed ACK (thousands of requests here)."""
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")
def test_schemathesis_finds_no_failure(
    prompt_live_server, live_server, catalog, admin_user, make_token
):
    token = make_token(admin_user, "read write")
    command = [
        str(SCHEMATHESIS),
        f"--config-file={ROOT / 'tests' / 'openapi' / 'schemathesis.toml'}",
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        f"--header=Authorization: Bearer {token}",
        "--checks=all",  # and every phase (per operation, as schemathesis.toml says)
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        # Every string refuses NUL (PostgreSQL cannot store it; tests/jsonapi covers that).
        "--generation-allow-x00=false",
        "--generation-database=none",
        "--no-color",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.openapi.hooks",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1800
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-30000:]
    selected, total = map(int, re.search(r"Selected: (\d+)/(\d+)", report).groups())
    tested = int(re.search(r"Tested: (\d+)", report)[1])
    assert total > 0 and selected == tested == total, report[-3000:]
