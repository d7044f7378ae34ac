"""Reading master audio: what a FLAC file is, and fetching one from an allowed host.

These functions are the rules for records; the model, the API and the admin all use them.
"""

import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from mutagen import MutagenError
from mutagen.flac import FLAC

from config.jsonapi.describe import describe

CHUNK_SIZE = 1024 * 1024
# A frame whose CRC fails is an error, not a warning the decoder logs and decodes past.
DECODER_OPTIONS = {"err_detect": "crccheck+explode"}


def check_size(size):
    if size == 0:
        raise ValidationError("The file is empty.", "empty_file")
    if size > settings.RECORD_MAX_BYTES:
        raise ValidationError(
            f"The file is larger than the limit of {settings.RECORD_MAX_BYTES} bytes.",
            "file_too_large",
        )


class Master(NamedTuple):
    """What reading a master whole found: its technical metadata and the file's own digest."""

    info: dict
    md5: str
    size: int


def read_master(fileobj):
    """Read a FLAC master whole and check it: a ValidationError unless it is one.

    Whole means: every frame decodes (their CRCs hold), the frames hold exactly the
    samples STREAMINFO declares (when it declares a count: 0 means unknown, then the
    decoded count is the length), and, when STREAMINFO carries an MD5 signature of the
    audio (non-zero), the decoded audio matches it. Frames are decoded one at a time
    (memory stays flat) and the file's own MD5 is taken from the same single read.
    """
    streaminfo = read_streaminfo(fileobj)
    reader = _HashingReader(fileobj)
    samples, pcm_md5, audio_start = _decode(reader, streaminfo)
    rate = streaminfo.sample_rate
    if samples == 0:
        raise ValidationError("The FLAC stream holds no audio frames.", "no_audio")
    declared = streaminfo.total_samples
    if declared and samples != declared:
        problem = "frames are missing" if samples < declared else "there are extra frames"
        raise ValidationError(
            f"The frames hold {samples} samples per channel where STREAMINFO declares "
            f"{declared}: {problem}.",
            "sample_count_mismatch",
        )
    if streaminfo.md5_signature and int(pcm_md5, 16) != streaminfo.md5_signature:
        raise ValidationError(
            "The decoded audio does not match the MD5 signature in STREAMINFO.",
            "audio_checksum_mismatch",
        )
    md5, size = reader.hexdigest(), fileobj.tell()
    fileobj.seek(0)
    duration = samples / rate
    info = {
        "codec": "flac",
        "channels": streaminfo.channels,
        "duration": round(duration, 6),
        "sample-rate": rate,
        "bits-per-raw-sample": streaminfo.bits_per_sample,
        "lossless": True,
        "bitrate": int((size - audio_start) * 8 / duration),
        "total-samples": samples,
    }
    return Master(info, md5, size)


def read_streaminfo(fileobj):
    """The STREAMINFO of a FLAC stream (headers only); a ValidationError when it is none."""
    fileobj.seek(0)
    try:
        info = FLAC(fileobj).info
    except (MutagenError, EOFError, ValueError) as exc:
        raise ValidationError("The file is not a valid FLAC stream.", "invalid_flac") from exc
    finally:
        fileobj.seek(0)
    if not info.sample_rate:
        raise ValidationError("The FLAC stream declares no sample rate.", "invalid_flac")
    return info


def _decode(reader, streaminfo):
    """Decode every frame in order: (samples per channel, MD5 of the PCM as FLAC defines
    it, offset of the first frame)."""
    pcm, samples, audio_start = hashlib.md5(usedforsecurity=False), 0, None
    try:
        with av.open(reader, format="flac") as container:
            stream = container.streams.audio[0]
            stream.codec_context.options = DECODER_OPTIONS
            for packet in container.demux(stream):
                if audio_start is None:
                    audio_start = packet.pos
                for frame in packet.decode():
                    pcm.update(_flac_pcm(frame, streaminfo.bits_per_sample))
                    samples += frame.samples
    except av.FFmpegError as exc:
        raise ValidationError(
            "The audio is damaged: a frame is cut short, fails its CRC or cannot be decoded.",
            "corrupt_audio",
        ) from exc
    return samples, pcm.hexdigest(), audio_start


def _flac_pcm(frame, bits):
    """A decoded frame's samples as FLAC's MD5 covers them: interleaved, signed
    little-endian, ``bits`` rounded up to whole bytes.

    FFmpeg gives s16 for up to 16 bits and s32 above, samples shifted to the top of the
    container (24-bit samples are s32 << 8): shift them back first.
    """
    samples = frame.to_ndarray()
    if frame.format.is_planar:
        samples = samples.T  # (channels, samples) -> interleaved below
    samples = samples.reshape(-1) >> (8 * frame.format.bytes - bits)
    width = (bits + 7) // 8
    if width == 3:
        return samples.astype("<i4").view("u1").reshape(-1, 4)[:, :3].tobytes()
    return samples.astype(f"<i{width}").tobytes()


class _HashingReader:
    """The file as the demuxer reads it, hashing its bytes on the way.

    Each byte is hashed once and in order whatever the demuxer seeks; hexdigest() reads
    only what the demuxer skipped, so a straight read through the file is the only one.
    """

    def __init__(self, fileobj):
        self.file, self.hashed = fileobj, 0
        self.digest = hashlib.md5(usedforsecurity=False)

    def read(self, size=-1):
        position = self.file.tell()
        data = self.file.read(size)
        if position <= self.hashed < position + len(data):
            self.digest.update(memoryview(data)[self.hashed - position :])
            self.hashed = position + len(data)
        return data

    def seek(self, offset, whence=0):
        return self.file.seek(offset, whence)

    def tell(self):
        return self.file.tell()

    def hexdigest(self):
        """The MD5 of the whole file; leaves it at its end."""
        self.file.seek(self.hashed)
        for chunk in iter(lambda: self.file.read(CHUNK_SIZE), b""):
            self.digest.update(chunk)
        return self.digest.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead to a host outside the allow-list: refuse them all."""

    def redirect_request(self, *args, **kwargs):
        return None


def described_source_url():
    """``original-url`` as the settings allow it: from RECORD_SOURCE_HOSTS, or not at all."""
    hosts = settings.RECORD_SOURCE_HOSTS
    if not hosts:
        return {"not": {}, "description": "Fetching is disabled on this server."}
    names = "|".join(re.escape(host) for host in hosts)
    return {"pattern": f"^https?://({names})(:[0-9]+)?(/|$)"}


@describe(described_source_url)
def validate_source_url(url):
    """A URL the server may fetch a master from: HTTP(S) on a host of RECORD_SOURCE_HOSTS."""
    allowed = settings.RECORD_SOURCE_HOSTS
    if not allowed:
        raise ValidationError(
            "Fetching records from a URL is disabled on this server; send new-file.",
            "url_fetch_disabled",
        )
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in allowed:
        raise ValidationError(
            f"Records can only be fetched over HTTP(S) from: {', '.join(allowed)}.",
            "host_not_allowed",
        )


def fetch(url):
    """The bytes at ``url``, from a host of RECORD_SOURCE_HOSTS, within the size limit."""
    validate_source_url(url)
    opener = urllib.request.build_opener(_NoRedirects)
    limit = settings.RECORD_MAX_BYTES
    try:
        with opener.open(url, timeout=settings.RECORD_FETCH_TIMEOUT) as response:
            chunks, size = [], 0
            while size <= limit and (chunk := response.read(CHUNK_SIZE)):
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise ValidationError(f"The source answered HTTP {exc.code}.", "fetch_failed") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ValidationError("The source could not be fetched.", "fetch_failed") from exc
    check_size(len(data))
    return data
