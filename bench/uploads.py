"""Upload ingest and processing: how fast a large audio file reaches storage through a
signed upload target, how much memory the serving process needs for it, and how long
processing (probe, waveform, digest) takes for a 5-minute track.

1. A real server (gunicorn, one sync worker) on 127.0.0.1 with local storage in a
   temporary folder; a 1 GiB WAV (``--size-mib``) is PUT to a collection track's target
   by a streaming client. Reported: MB/s from the first byte sent to the answer (the
   server streams the body to a temporary file, sniffs it with PyAV and stores it), and
   the worker's resident memory before and at its peak (sampled every 20 ms).
2. In-process: ``media.analyse`` (what the background task does) on a 5-minute stereo
   44.1 kHz 16-bit WAV, FLAC and MP3, median of three runs.
"""

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from bench.data import create_database, destroy_database, setup_django
from bench.throughput import HOST, database_url, free_port, wait_until_ready

RATE = 44100


def write_wav(path, seconds, channels=2):
    """A 16-bit WAV of a 440 Hz tone, written a second at a time."""
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype("<i2")
    second = np.repeat(tone[:, None], channels, axis=1).tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for _ in range(math.ceil(seconds)):
            out.writeframes(second)
    return path


def encode(source, target, codec):
    import av

    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream(codec, rate=RATE)
        if codec == "mp3":
            stream.bit_rate = 192_000
        for frame in inp.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_pid(master):
    with open(f"/proc/{master}/task/{master}/children") as children:
        return int(children.read().split()[0])


class PeakMemory(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, resident_kib(self.pid))
            time.sleep(0.02)


def api(base, token, method, path, document=None):
    connection = http.client.HTTPConnection(*urlsplit(base).netloc.split(":"))
    body = json.dumps(document) if document is not None else None
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.api+json",
        "Content-Type": "application/vnd.api+json",
    }
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    assert response.status < 300, payload
    return payload


def put_file(url, path):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    size = path.stat().st_size
    headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
    started = time.perf_counter()
    with path.open("rb") as body:
        connection.request("PUT", parts.path, body, headers)  # sent in blocks, not read whole
        response = connection.getresponse()
        answer = response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, answer[:500]
    return size, elapsed


def ingest(size_mib, folder):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from config.tokens import issue_access_token
    from organizations.models import Membership, Organization

    organization = Organization.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    Membership.objects.create(user=user, organization=organization, role="admin")
    token = issue_access_token(user, "read write", 3600, organization=organization).token
    connection.close()

    source = write_wav(folder / "big.wav", size_mib * 1024 * 1024 / (RATE * 4))
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(folder / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(folder),
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "1", "-t", "600"]
    server = subprocess.Popen(
        [*command, "-b", f"{HOST}:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(base, token)
        pid = worker_pid(server.pid)
        collection = api(
            base,
            token,
            "POST",
            "/api/v1/collections",
            {"data": {"type": "collections", "attributes": {"title": "Bench"}}},
        )
        track = api(
            base,
            token,
            "POST",
            "/api/v1/collection-tracks",
            {
                "data": {
                    "type": "collection-tracks",
                    "attributes": {"file-name": "big.wav"},
                    "relationships": {
                        "collection": {
                            "data": {"type": "collections", "id": collection["data"]["id"]}
                        }
                    },
                }
            },
        )
        before = resident_kib(pid)
        sampler = PeakMemory(pid)
        sampler.start()
        size, elapsed = put_file(track["meta"]["track-upload"]["upload-url"], source)
        sampler.running = False
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"ingest of a {size / 2**20:.0f} MiB WAV through gunicorn (1 sync worker), local storage")
    print(f"  {size / elapsed / 1e6:.1f} MB/s ({elapsed:.1f} s)")
    print(
        f"  worker memory: {before / 1024:.0f} MiB before, {sampler.peak / 1024:.0f} MiB at peak"
        f" (+{(sampler.peak - before) / 1024:.1f} MiB)"
    )


def processing(folder):
    from collections_app import media

    wav = write_wav(folder / "five-minutes.wav", 300)
    files = {
        "WAV (pcm_s16le)": wav,
        "FLAC": encode(wav, folder / "five-minutes.flac", "flac"),
        "MP3 192 kb/s": encode(wav, folder / "five-minutes.mp3", "mp3"),
    }
    print("processing a 5-minute stereo 44.1 kHz track (probe, 320-point waveform, sha256)")
    for name, path in files.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            analysis = media.analyse(path)
            times.append(time.perf_counter() - started)
        assert abs(analysis.duration - 300) < 1, analysis.duration
        median = statistics.median(times)
        print(f"  {name:<16} {median:6.2f} s median ({median / 300:.2%} of its duration)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    arguments = parser.parse_args()
    setup_django()
    old_name = create_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            ingest(arguments.size_mib, Path(folder))
        with tempfile.TemporaryDirectory() as folder:
            processing(Path(folder))
    finally:
        destroy_database(old_name)


if __name__ == "__main__":
    main()
