"""Audio files of collections: whether a file is audio, and what a player needs to know of it.

FFmpeg (through PyAV) reads the files, by their bytes only: it is never told a file's name,
since FFmpeg lets an extension such as ``.sln`` or ``.gsm`` pick a raw format under which
any bytes decode as audio. Decoding streams frame by frame, so memory stays flat whatever
the length of the file.
"""

import contextlib
import hashlib
import re
from typing import NamedTuple

import av
import mutagen
import numpy as np
from django.core.exceptions import ValidationError
from mutagen.flac import FLAC
from mutagen.id3 import ID3

CHUNK_SIZE = 1024 * 1024
# The demuxers of audio files people upload. Without a list FFmpeg would also open, by
# content, playlists that read other files (ffconcat reads any file beside the process's
# working directory), images and subtitle or video-only formats.
AUDIO_CONTAINERS = "wav,w64,aiff,flac,mp3,ogg,mov,matroska,aac,caf,wv,asf"
AV_ERRORS = (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError)
# Decoded samples are gathered into blocks of about this many before the waveform takes
# them: numpy's cost is per call, and frames can be as short as a few hundred samples.
BLOCK_SAMPLES = 1 << 16
PCM_BITS = re.compile(r"pcm_[a-z]+?(\d+)")


class Analysis(NamedTuple):
    """What analyse() found: see its docstring."""

    duration: float
    format: dict
    levels: dict
    sha256: str
    size: int
    cover: bytes | None


def sniff(path):
    """Refuse, as "not_audio", anything but a file holding an audio stream of which a
    frame decodes: the cheap check before a file is stored and analysed."""
    with _open_audio(path) as container:
        stream = _audio_stream(container)
        for packet in container.demux(stream):
            if packet.decode():
                return
    raise _not_audio("no part of its audio stream can be decoded")


def analyse(path, num_samples=320):
    """Read the audio file at ``path`` whole: an Analysis of

    - ``duration``: seconds, from the decoded samples (headers of VBR MP3 guess it),
    - ``format``: container, codec, sample-rate, channels, bit-depth (None when lossy)
      and bitrate (bits per second),
    - ``levels``: the waveform, ``num_samples`` buckets over time of the audio mixed to
      mono, each with its min, max and mean absolute amplitude (within [-1, 1]),
    - ``sha256`` and ``size`` of the file's bytes,
    - ``cover``: the bytes of an embedded cover picture, or None.

    A ValidationError "not_audio" when it cannot be decoded, "no_audio" when it holds no
    samples.
    """
    if num_samples < 1:
        raise ValueError("num_samples must be at least 1.")
    with _open_audio(path) as container:
        stream = _audio_stream(container)
        fmt, expected = _stream_format(path, container, stream), _expected_samples(stream)
        cover = _attached_picture(container)
    levels = _waveform(path, num_samples, expected)
    if levels.seen == 0:
        raise ValidationError("The file has an audio stream but no audio in it.", "no_audio")
    if levels.seen != expected:  # the headers were wrong: bucket again on the true count
        levels = _waveform(path, num_samples, levels.seen)
    sha256, size = _digest(path)
    duration = levels.seen / fmt["sample-rate"]
    fmt["bitrate"] = fmt["bitrate"] or round(size * 8 / duration)
    return Analysis(
        duration=round(duration, 3),
        format=fmt,
        levels=levels.as_dict(),
        sha256=sha256,
        size=size,
        cover=cover or _tagged_picture(path),
    )


class _Unnamed:
    """A file as FFmpeg reads it, without the name PyAV would pass on (see the module's
    docstring)."""

    def __init__(self, file):
        self.read, self.seek, self.tell = file.read, file.seek, file.tell


@contextlib.contextmanager
def _open_audio(path):
    """The file's container, open for reading; FFmpeg's errors, while open, are "not_audio"."""
    with open(path, "rb") as file:
        try:
            options = {"format_whitelist": AUDIO_CONTAINERS}
            with av.open(_Unnamed(file), container_options=options) as container:
                yield container
        except AV_ERRORS as exc:
            raise _not_audio("it is damaged or in a format that is not supported") from exc


def _not_audio(reason):
    return ValidationError(
        f"The file is not audio that can be played: {reason}. Send an audio file such as "
        "WAV, FLAC, MP3, Ogg (Vorbis or Opus), M4A or AIFF.",
        "not_audio",
    )


def _audio_stream(container):
    if not container.streams.audio:
        raise _not_audio("it holds no audio stream")
    return container.streams.audio[0]


def _stream_format(path, container, stream):
    """The format entry of an Analysis; "bitrate" is None when the headers do not tell it."""
    context = stream.codec_context
    return {
        "container": container.format.name.split(",")[0],
        "codec": context.codec.canonical_name,
        "sample-rate": context.sample_rate,
        "channels": context.channels,
        "bit-depth": _bit_depth(path, context),
        "bitrate": context.bit_rate or container.bit_rate or None,
    }


def _bit_depth(path, context):
    """Bits per sample of lossless audio (None for lossy codecs, where it means nothing).

    Decoders widen samples (24-bit FLAC decodes to 32-bit integers), so the sample format
    only says it when neither the PCM codec's name nor the file's headers do.
    """
    codec = context.codec
    if not codec.lossless:
        return None
    if match := PCM_BITS.match(codec.canonical_name):
        return int(match[1])
    with contextlib.suppress(mutagen.MutagenError):
        if bits := getattr(getattr(mutagen.File(path), "info", None), "bits_per_sample", 0):
            return bits
    return context.format.bits


def _expected_samples(stream):
    """Samples per channel the headers declare (0 when they do not): exact for PCM, FLAC,
    Ogg Opus and MP3 with a Xing header, an estimate for some others (then analyse()
    decodes twice).

    Ogg counts Opus's pre-skip, which the decoder drops, in the duration: the decoder's
    delay.
    """
    if not stream.duration:
        return 0
    context = stream.codec_context
    return round(stream.duration * stream.time_base * context.sample_rate) - context.delay


def _attached_picture(container):
    """The bytes of the first attached picture (MP3 APIC, FLAC PICTURE, MP4 covr), as
    FFmpeg exposes them: a video stream of one packet."""
    for stream in container.streams.video:
        if av.stream.Disposition.attached_pic in stream.disposition:
            for packet in container.demux(stream):
                return bytes(packet)
    return None


def _tagged_picture(path):
    """A cover FFmpeg skipped (it drops pictures whose MIME type it does not know), from
    a FLAC PICTURE block or an ID3 APIC frame."""
    with contextlib.suppress(mutagen.MutagenError):
        if pictures := FLAC(path).pictures:
            return pictures[0].data
    with contextlib.suppress(mutagen.MutagenError):
        if frames := ID3(path).getall("APIC"):
            return frames[0].data
    return None


def _digest(path):
    """SHA-256 (hex) and size of the file's bytes."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _waveform(path, num_samples, expected):
    """Decode the first audio stream into _Levels of ``num_samples`` buckets, laid out
    for ``expected`` samples (any beyond go to the last bucket)."""
    levels = _Levels(num_samples, expected)
    with _open_audio(path) as container:
        for block in _mono_blocks(container, container.streams.audio[0]):
            levels.add(block)
    return levels


def _mono_blocks(container, stream):
    """The stream's audio as float32 mono (channels averaged), in blocks of at least
    BLOCK_SAMPLES samples but the last."""
    pending, pending_samples = [], 0
    for frame in _float_frames(container, stream):
        pending.append(frame.to_ndarray().mean(axis=0))
        pending_samples += frame.samples
        if pending_samples >= BLOCK_SAMPLES:
            yield np.concatenate(pending)
            pending, pending_samples = [], 0
    if pending:
        yield np.concatenate(pending)


def _float_frames(container, stream):
    """The stream's decoded frames as planar float32, whatever the codec's sample format."""
    resampler = av.AudioResampler(format="fltp")
    for packet in container.demux(stream):
        for frame in packet.decode():
            yield from resampler.resample(frame)
    yield from resampler.resample(None)


class _Levels:
    """Min, max and summed absolute amplitude per bucket, taken block by block.

    Bucket ``b`` of ``n`` holds samples ``j`` with ``j * n // total == b``: it starts at
    ``ceil(b * total / n)``. Each block is cut where buckets start and reduced per piece.
    """

    def __init__(self, num_samples, total):
        self.num_samples, self.seen = num_samples, 0
        self.starts = -(-np.arange(num_samples, dtype=np.int64) * total // num_samples)
        self.low = np.full(num_samples, np.inf)
        self.high = np.full(num_samples, -np.inf)
        self.sum = np.zeros(num_samples)
        self.count = np.zeros(num_samples, dtype=np.int64)

    def add(self, block):
        """Take the next ``block`` of samples."""
        cuts = np.unique(np.clip(self.starts - self.seen, 0, None))
        cuts = cuts[cuts < len(block)]
        buckets = np.searchsorted(self.starts, self.seen + cuts, side="right") - 1
        self.low[buckets] = np.minimum(self.low[buckets], np.minimum.reduceat(block, cuts))
        self.high[buckets] = np.maximum(self.high[buckets], np.maximum.reduceat(block, cuts))
        self.sum[buckets] += np.add.reduceat(np.abs(block), cuts, dtype=np.float64)
        self.count[buckets] += np.diff(cuts, append=len(block))
        self.seen += len(block)

    def as_dict(self):
        """The levels entry of an Analysis: empty buckets are 0, values to 4 decimals."""
        filled = self.count > 0
        average = np.divide(self.sum, self.count, out=np.zeros_like(self.sum), where=filled)
        return {
            "num-samples": self.num_samples,
            "min": _rounded(np.where(filled, self.low, 0)),
            "max": _rounded(np.where(filled, self.high, 0)),
            "avg": _rounded(average),
        }


def _rounded(values):
    return (np.round(values, 4) + 0.0).tolist()  # + 0.0: no -0.0 in the JSON
