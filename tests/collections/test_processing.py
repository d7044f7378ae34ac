"""Processing collection tracks in the background and making sure it ends: django-tasks-db's
own worker loop runs the queued tasks (in this process, or as ``manage.py db_worker``
subprocesses that the killed-worker test SIGKILLs), on files uploaded over HTTP."""

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
import wave
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from collections_app import covers, processing
from collections_app.models import CollectionTrack, Status
from config.management.commands.db_worker import recover_periodically
from tests.factories import make_collection, make_collection_track

from .media_files import make_bomb, make_image, write_audio
from .test_uploads import (
    BLUE,
    RED,
    TRACKS,
    attributes,
    audio_bytes,
    cover_target,
    post_cover,
    run_worker,
    stored_files,
    upload_audio,
)

pytestmark = pytest.mark.usefixtures("media_root")

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_LOST = "collections_app.processing.WorkerLost"


def task_of(track, attempt=None):
    """The DBTaskResult of ``track``'s run ``attempt`` (its only one when not given)."""
    tasks = DBTaskResult.objects.filter(
        task_path=processing.process_track.module_path, args_kwargs__args__0=str(track.pk)
    )
    if attempt is not None:
        tasks = tasks.filter(args_kwargs__args__1=attempt)
    return tasks.get()


def uploaded(tmp_path, content=None, **fields):
    """A track whose audio was uploaded over HTTP: processing, its run 1 queued."""
    track = make_collection_track(**fields)
    upload_audio(track, audio_bytes(tmp_path) if content is None else content)
    track.refresh_from_db()
    assert (track.status, track.processing_attempt) == (Status.PROCESSING, 1)
    return track


def killed_mid_run(track, seconds_ago):
    """What a worker killed while running ``track``'s current run leaves: its task
    "running", the track's last heartbeat ``seconds_ago``."""
    task_of(track, track.processing_attempt).claim("killed-worker")
    CollectionTrack.objects.filter(pk=track.pk).update(
        processing_heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def vibrant(image_bytes):
    return covers.vibrant_colour(covers.open_cover(io.BytesIO(image_bytes)))


# --- (a) What the worker reads --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_worker_reads_a_tone_then_silence(api, media_root, tmp_path):
    """media_files' signal: 440 Hz at -6 dBFS (amplitude 0.5) for the first second,
    silence for the second one; the waveform's 320 buckets split exactly at the middle."""
    content = write_audio(tmp_path / "tone.wav", "wav", 2.0, channels=1).read_bytes()
    track = uploaded(tmp_path, content)
    run_worker()
    got = attributes(api, track.pk)
    assert (got["status"], got["status-reason"]) == ("ready", None)
    assert got["duration"] == 2.0
    assert got["format"] == {
        "container": "wav",
        "codec": "pcm_s16le",
        "sample-rate": 44100,
        "channels": 1,
        "bit-depth": 16,
        "bitrate": 44100 * 16,
    }
    levels = got["levels"]
    assert levels["num-samples"] == 320
    tone, silence = slice(0, 160), slice(160, 320)
    high, low, avg = (np.array(levels[key]) for key in ("max", "min", "avg"))
    assert high[tone] == pytest.approx(0.5, abs=0.01)
    assert low[tone] == pytest.approx(-0.5, abs=0.01)
    assert avg[tone] == pytest.approx(0.5 * 2 / np.pi, abs=0.01)  # mean |sin| is 2/pi
    assert high[silence].tolist() == low[silence].tolist() == avg[silence].tolist() == [0.0] * 160
    assert got["sha256"] and got["size"] == len(content)
    task = task_of(track)
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, "ready")


# --- (b) Covers found in the audio ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_embedded_cover_art_becomes_the_cover_unless_one_was_uploaded(api, media_root, tmp_path):
    art = make_image("jpeg", size=(300, 300), colour=RED)
    collection = make_collection()

    def track_with(kind, cover, **fields):
        options = {"cover": cover} if cover else {}
        content = audio_bytes(tmp_path, kind, seconds=1, **options)
        return uploaded(tmp_path, content, collection=collection, **fields)

    with_art = {kind: track_with(kind, art) for kind in ("mp3", "flac")}
    without_art = {kind: track_with(kind, None) for kind in ("mp3", "flac")}
    # Pictures that are no usable cover (a GIF tagged as JPEG, a decompression bomb) are
    # skipped: the track is ready, without a cover.
    not_an_image = track_with("mp3", make_image("gif"))
    bomb = track_with("flac", make_bomb())
    own_colour = track_with("flac", art, player_color="#123456", player_color_is_custom=True)
    own_cover = track_with("mp3", art)
    uploaded_cover = make_image("png", colour=BLUE)
    response = post_cover(cover_target(own_cover), uploaded_cover)
    assert response.status_code == 200, response.document
    own_cover_before = response.document["data"]["attributes"]["cover"]

    run_worker()

    for kind, track in with_art.items():
        got = attributes(api, track.pk)
        assert got["status"] == "ready", (kind, got["status-reason"])
        cover = got["cover"]
        assert cover is not None, kind
        assert set(cover) == {"icon", "small", "regular", "large"}
        assert (cover["large"]["width"], cover["large"]["height"], cover["large"]["type"]) == (
            300,
            300,
            "image/jpeg",
        )
        assert got["player-color"] == vibrant(art), kind
        assert (got["player-color-light"], got["player-color-dark"]) == covers.light_and_dark(
            vibrant(art)
        )
    for kind, track in [*without_art.items(), ("gif-art", not_an_image), ("bomb-art", bomb)]:
        got = attributes(api, track.pk)
        assert got["status"] == "ready", (kind, got["status-reason"])
        assert got["cover"] is None and got["player-color"] is None, kind
    got = attributes(api, own_colour.pk)
    assert got["cover"] is not None
    assert got["player-color"] == "#123456"  # the client's colour stays
    got = attributes(api, own_cover.pk)
    assert got["status"] == "ready"
    assert got["cover"] == own_cover_before  # the uploaded cover is not replaced
    assert got["player-color"] == vibrant(uploaded_cover)
    # Audio files, their default variants, and four renditions of each cover: none left
    # over from replaced art.
    assert len(stored_files(media_root)) == 8 + 8 + 4 * 4


@pytest.mark.django_db(transaction=True)
def test_embedded_art_is_not_taken_when_the_collection_keeps_covers_to_itself(
    api, media_root, tmp_path
):
    collection = make_collection(is_cover_overridable=False)
    art = make_image("jpeg", size=(300, 300), colour=RED)
    track = uploaded(
        tmp_path, audio_bytes(tmp_path, "mp3", seconds=1, cover=art), collection=collection
    )

    run_worker()

    got = attributes(api, track.pk)
    assert got["status"] == "ready", got["status-reason"]
    assert got["cover"] is None and got["player-color"] is None


# --- (c) Analysis that fails ends the track in error ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_stored_file_that_cannot_be_analysed_ends_in_error(api, media_root, tmp_path):
    """The file passed the upload's sniffing, then is damaged on disk before the worker
    reads it: the track ends ``error`` with a reason, never stays ``processing``."""
    garbage, emptied, header_only, missing, good = (uploaded(tmp_path) for _ in range(5))
    Path(garbage.audio.path).write_bytes(np.random.default_rng(1).bytes(100_000))
    Path(emptied.audio.path).write_bytes(b"")
    Path(header_only.audio.path).write_bytes(audio_bytes(tmp_path)[:44])
    Path(missing.audio.path).unlink()

    run_worker()

    reasons = {}
    for name, track in [
        ("garbage", garbage),
        ("emptied", emptied),
        ("header-only", header_only),
        ("missing", missing),
    ]:
        track.refresh_from_db()
        assert track.status == Status.ERROR, name
        assert track.processing_heartbeat_at is None
        assert (track.duration, track.levels, track.files_completed_at) == (None, None, None)
        reasons[name] = track.status_reason
        assert attributes(api, track.pk)["status-reason"] == track.status_reason
    for name in ("garbage", "emptied", "header-only"):
        assert reasons[name].startswith("The file is not audio that can be played"), name
    assert "failed unexpectedly" in reasons["missing"]
    # A refused file is the task's answer; an unexpected failure is the task's error.
    for track in (garbage, emptied, header_only):
        task = task_of(track)
        assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, "error")
    task = task_of(missing)
    assert (task.status, task.exception_class_path) == (
        TaskResultStatus.FAILED,
        "builtins.FileNotFoundError",
    )
    assert "FileNotFoundError" in task.traceback
    assert attributes(api, good.pk)["status"] == "ready"


# --- (d) Recovery of runs whose worker died ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_stalled_run_is_retried_and_the_retry_completes(api, settings, media_root, tmp_path):
    settings.PROCESSING_TIMEOUT_SECONDS = 5
    stalled, alive, queued = (uploaded(tmp_path) for _ in range(3))
    deleted = uploaded(tmp_path)
    killed_mid_run(stalled, seconds_ago=6)
    killed_mid_run(alive, seconds_ago=1)  # still beating: not touched
    assert api.delete(f"{TRACKS}/{deleted.pk}").status_code == 200

    assert processing.recover_stalled() == 1
    stalled.refresh_from_db()
    assert (stalled.status, stalled.processing_attempt) == (Status.PROCESSING, 2)
    assert (stalled.processing_heartbeat_at, stalled.status_reason) == (None, None)
    lost = task_of(stalled, 1)
    assert (lost.status, lost.exception_class_path) == (TaskResultStatus.FAILED, WORKER_LOST)
    assert lost.finished_at is not None and lost.traceback
    assert task_of(stalled, 2).status == TaskResultStatus.READY
    assert task_of(alive).status == TaskResultStatus.RUNNING
    assert processing.recover_stalled() == 0  # the retry is queued: not stalled

    run_worker()

    stalled.refresh_from_db()
    assert (stalled.status, stalled.processing_attempt) == (Status.READY, 2)
    assert stalled.duration == pytest.approx(1.5) and stalled.levels["num-samples"] == 320
    assert task_of(stalled, 2).return_value == "ready"
    queued.refresh_from_db()
    assert (queued.status, queued.processing_attempt) == (Status.READY, 1)
    alive.refresh_from_db()
    assert (alive.status, alive.processing_attempt) == (Status.PROCESSING, 1)
    # The deleted track's run finds nothing to do.
    assert task_of(deleted).return_value == "superseded"
    assert len(stored_files(media_root)) == 3 + 2  # and the default variants of the two ready


@pytest.mark.django_db
def test_after_max_attempts_a_stalled_run_ends_in_error(api, settings, media_root, tmp_path):
    settings.PROCESSING_TIMEOUT_SECONDS = 5
    settings.PROCESSING_MAX_ATTEMPTS = 3
    track = uploaded(tmp_path)
    for attempt in (1, 2):  # runs 1 and 2 lose their worker: each is retried
        killed_mid_run(track, seconds_ago=60)
        assert processing.recover_stalled() == 1
        track.refresh_from_db()
        assert (track.status, track.processing_attempt) == (Status.PROCESSING, attempt + 1)
        assert task_of(track, attempt + 1).status == TaskResultStatus.READY
    killed_mid_run(track, seconds_ago=60)  # and so does run 3, the last one

    assert processing.recover_stalled() == 1

    track.refresh_from_db()
    assert (track.status, track.processing_attempt) == (Status.ERROR, 3)
    assert "3 times" in track.status_reason and "upload the file again" in track.status_reason
    assert track.processing_heartbeat_at is None
    assert DBTaskResult.objects.count() == 3  # no fourth run
    for attempt in (1, 2, 3):
        lost = task_of(track, attempt)
        assert (lost.status, lost.exception_class_path) == (TaskResultStatus.FAILED, WORKER_LOST)
    assert attributes(api, track.pk)["status-reason"] == track.status_reason
    assert processing.recover_stalled() == 0


@pytest.mark.django_db
def test_a_run_lost_before_its_first_heartbeat_is_recovered(settings, media_root, tmp_path):
    """The worker took the task (it is "running", since long) and died before
    process_track's first UPDATE: no heartbeat was ever written."""
    settings.PROCESSING_TIMEOUT_SECONDS = 5
    track = uploaded(tmp_path)
    task_of(track).claim("killed-worker")
    DBTaskResult.objects.filter(pk=task_of(track).pk).update(
        started_at=timezone.now() - timedelta(seconds=60)
    )
    assert processing.recover_stalled() == 1
    track.refresh_from_db()
    assert (track.status, track.processing_attempt) == (Status.PROCESSING, 2)


@pytest.mark.django_db
def test_a_run_that_was_replaced_cannot_write_its_result(media_root, tmp_path):
    """``finish``'s attempt guard: run 1, presumed dead and replaced by run 2, comes back."""
    track = uploaded(tmp_path)
    CollectionTrack.objects.filter(pk=track.pk).update(processing_attempt=2)
    processing.finish(str(track.pk), 1, Status.ERROR, reason="run 1 failed late")
    track.refresh_from_db()
    assert (track.status, track.status_reason) == (Status.PROCESSING, None)
    processing.finish(str(track.pk), 2, Status.ERROR, reason="run 2 failed")
    track.refresh_from_db()
    assert (track.status, track.status_reason) == (Status.ERROR, "run 2 failed")


@pytest.mark.django_db(transaction=True)
def test_the_workers_recovery_thread_gives_up_after_one_attempt(settings, tmp_path):
    """db_worker's recovery loop, with PROCESSING_MAX_ATTEMPTS=1: a lost run is final."""
    settings.PROCESSING_TIMEOUT_SECONDS = 1
    settings.PROCESSING_MAX_ATTEMPTS = 1
    track = uploaded(tmp_path)
    killed_mid_run(track, seconds_ago=2)
    stop = threading.Event()
    recovery = threading.Thread(target=recover_periodically, args=(stop, 0.05), daemon=True)
    recovery.start()
    try:
        deadline = time.monotonic() + 10
        while CollectionTrack.objects.get(pk=track.pk).status == Status.PROCESSING:
            assert time.monotonic() < deadline, "the recovery thread did not end the run"
            time.sleep(0.05)
    finally:
        stop.set()
        recovery.join(10)
    track.refresh_from_db()
    assert (track.status, track.processing_attempt) == (Status.ERROR, 1)
    assert "1 times" in track.status_reason
    assert task_of(track).exception_class_path == WORKER_LOST
    assert DBTaskResult.objects.count() == 1  # no retry


# --- (e) A worker killed mid-job, and the recovery ------------------------------------------

LONG_MINUTES, LONG_RATE = 12, 8000  # seconds of processing, an 11.5 MB file


def long_wav(path):
    """A ``LONG_MINUTES`` mono 16-bit WAV: a 440 Hz tone, written in ten-second blocks."""
    t = np.arange(LONG_RATE * 10) / LONG_RATE
    block = (np.sin(2 * np.pi * 440 * t) * 16384).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(LONG_RATE)
        for _ in range(LONG_MINUTES * 6):
            out.writeframes(block)
    return path.read_bytes()


def worker_database_url():
    """The URL a worker subprocess is given for the test database."""
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{quote(s['USER'] or '', safe='')}{password}@{s['HOST']}{port}/{s['NAME']}"


@contextlib.contextmanager
def db_worker(tmp_path, media_root, name, timeout):
    """``manage.py db_worker`` in a subprocess, on the test database; killed on exit."""
    log = tmp_path / f"{name}.log"
    environment = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": django_settings.SECRET_KEY,
        "ENV_FILE": "",
        "DATABASE_URL": worker_database_url(),
        "MEDIA_ROOT": str(media_root),
        "PROCESSING_TIMEOUT_SECONDS": str(timeout),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
    command += ["--interval", "0.1", "--worker-id", name, "--verbosity", "2"]
    with open(log, "wb") as output:
        worker = subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        worker.name, worker.log = name, log
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(30)


def output_of(*workers):
    return "\n".join(f"--- {w.name}:\n{w.log.read_text(errors='replace')}" for w in workers)


def wait_for(condition, seconds, *workers):
    """Poll ``condition()`` until it holds; fail, showing the workers' output, after
    ``seconds`` or when a worker has exited."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        exited = [w for w in workers if w.poll() is not None]
        assert not exited, f"a worker exited early\n{output_of(*workers)}"
        assert time.monotonic() < deadline, f"gave up after {seconds} s\n{output_of(*workers)}"
        time.sleep(0.05)
    return value


def current(track):
    return CollectionTrack.objects.get(pk=track.pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="workers share a server database")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_recovered_by_another(media_root, tmp_path):
    content = long_wav(tmp_path / "long.wav")
    track = uploaded(tmp_path, content)

    with db_worker(tmp_path, media_root, "first", timeout=120) as first:
        began = wait_for(lambda: current(track).processing_heartbeat_at, 60, first)
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    # The run began and its worker is gone: without recovery it stays "processing".
    time.sleep(0.5)
    stuck = current(track)
    assert (stuck.status, stuck.processing_attempt) == (Status.PROCESSING, 1), output_of(first)
    assert stuck.processing_heartbeat_at == began  # nothing beats for it any more
    assert task_of(track).status == TaskResultStatus.RUNNING
    assert task_of(track).worker_ids == ["first"]

    with db_worker(tmp_path, media_root, "second", timeout=2) as second:
        wait_for(lambda: current(track).status != Status.PROCESSING, 90, second)
    done = current(track)
    log = output_of(first, second)
    assert (done.status, done.status_reason) == (Status.READY, None), log
    # Retried once: the second run beat for longer than the 2 s timeout, and was left alone.
    assert done.processing_attempt == 2, log
    assert done.duration == LONG_MINUTES * 60
    assert done.format["sample-rate"] == LONG_RATE and done.levels["num-samples"] == 320
    assert done.levels["max"] == pytest.approx([0.5] * 320, abs=0.01)
    lost, retried = task_of(track, 1), task_of(track, 2)
    assert (lost.status, lost.exception_class_path) == (TaskResultStatus.FAILED, WORKER_LOST)
    assert (retried.status, retried.return_value) == (TaskResultStatus.SUCCESSFUL, "ready"), log
    assert retried.worker_ids == ["second"]
    assert (media_root / done.audio.name).read_bytes() == content
