"""Real media files for tests: audio encoded by PyAV, images drawn by Pillow.

Generated rather than checked in so each test states the shape of what it reads (length,
rate, channels, cover) and the files are whatever this FFmpeg and Pillow produce.
"""

import functools
import io
import pathlib
import struct
import zlib
from fractions import Fraction

import av
import numpy as np
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3
from PIL import Image

TONE_HZ = 440
TONE_AMPLITUDE = 0.5  # -6 dBFS
CHUNK = 4096  # samples per frame handed to the encoder

# kind: (container format, encoder, sample format of the frames given to it)
AUDIO_KINDS = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "wav24": ("wav", "pcm_s24le", "s32"),
    "flac": ("flac", "flac", "s16"),
    "flac24": ("flac", "flac", "s32"),  # FFmpeg's FLAC encoder keeps 24 of the 32 bits
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "opus": ("ogg", "libopus", "flt"),
    "ogg": ("ogg", "libvorbis", "fltp"),
}
OPUS_RATE = 48_000  # the only rate Ogg/Opus decodes to


def available_audio_kinds():
    """The kinds this PyAV build can encode (each needs its encoder)."""
    return [kind for kind, (_, codec, _) in AUDIO_KINDS.items() if codec in av.codecs_available]


def signal(seconds, sample_rate, channels):
    """A 440 Hz sine at -6 dBFS for the first half, silence for the second: float32 of
    shape (channels, samples), every channel the same."""
    total = round(seconds * sample_rate)
    t = np.arange(total) / sample_rate
    mono = (TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    mono[total // 2 :] = 0
    return np.repeat(mono[np.newaxis, :], channels, axis=0)


def write_audio(path, kind, seconds=2.0, *, sample_rate=44100, channels=2, cover=None):
    """Encode ``signal()`` as a real file of ``kind`` (see AUDIO_KINDS) at ``path``; with
    ``cover`` (JPEG bytes) embed it as cover art (mp3 and flac only). Opus is always at
    48 kHz, whatever ``sample_rate`` says."""
    path = pathlib.Path(path)
    container_format, codec, sample_format = AUDIO_KINDS[kind]
    if kind == "opus":
        sample_rate = OPUS_RATE
    samples = signal(seconds, sample_rate, channels)
    with av.open(str(path), "w", format=container_format) as container:
        layout = {1: "mono", 2: "stereo"}[channels]
        stream = container.add_stream(codec, rate=sample_rate, layout=layout)
        stream.codec_context.format = sample_format  # else the codec's default (FLAC: s16)
        container.start_encoding()  # the header, even when no sample follows
        for pts in range(0, samples.shape[1], CHUNK):
            frame = _frame(samples[:, pts : pts + CHUNK], sample_format, layout, sample_rate)
            frame.pts = pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    if cover is not None:
        _embed_cover(path, kind, cover)
    return path


def _frame(chunk, sample_format, layout, sample_rate):
    """An AudioFrame of float samples ``chunk`` (channels, n) in ``sample_format``."""
    if sample_format == "s16":
        data = np.round(chunk * 32767).astype(np.int16)
    elif sample_format == "s32":
        data = np.round(chunk * 2147483647).astype(np.int32)
    else:
        data = chunk.astype(np.float32)
    if not av.AudioFormat(sample_format).is_planar:
        data = data.T.reshape(1, -1)  # packed formats take one interleaved row
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), sample_format, layout)
    frame.sample_rate = sample_rate
    frame.time_base = Fraction(1, sample_rate)
    return frame


def _embed_cover(path, kind, cover):
    """Add ``cover`` as the front cover: an ID3 APIC frame or a FLAC PICTURE block."""
    if kind == "mp3":
        tags = ID3()
        tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=cover))
        tags.save(path)
    elif kind in ("flac", "flac24"):
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", cover
        flac = FLAC(path)
        flac.add_picture(picture)
        flac.save()
    else:
        raise ValueError(f"Cannot embed a cover in {kind!r} files.")


IMAGE_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "png_alpha": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
}
BACKGROUND = (128, 126, 124)  # greyish: not a vibrant colour


def make_image(kind="jpeg", size=(800, 600), colour=(220, 30, 60)):
    """An image file of ``kind`` (see IMAGE_FORMATS): a block of ``colour`` over a third
    of the area, on a grey background; png_alpha's background is half transparent."""
    mode = "RGBA" if kind == "png_alpha" else "RGB"
    background = (*BACKGROUND, 128) if mode == "RGBA" else BACKGROUND
    image = Image.new(mode, size, background)
    width, height = size
    block = (width // 4, height // 4, width // 4 + width // 2, height // 4 + height * 2 // 3)
    image.paste((*colour, 255) if mode == "RGBA" else colour, block)
    out = io.BytesIO()
    image.save(out, IMAGE_FORMATS[kind])
    return out.getvalue()


BOMB_SIDE = 20_000  # 400 million pixels, ten times the covers' limit


@functools.cache
def make_bomb():
    """A valid, small (~50 KB) PNG declaring BOMB_SIDE² one-bit pixels, all black.

    Written by hand: Pillow would have to hold the 50 MB image to save it.
    """
    row = b"\x00" * (1 + BOMB_SIDE // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(BOMB_SIDE)) + compressor.flush()
    header = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind, data):
    """One PNG chunk: length, type, data, CRC of type and data."""
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
