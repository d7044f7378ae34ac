"""Encoding a collection track's audio into a variant (collections_app/variants.py) with PyAV.

The source is decoded frame by frame, resampled to what the encoder takes (its sample
format, at most two channels, a rate it supports: Opus 48 kHz) and encoded at the
variant's bitrate into its container, so memory stays flat whatever the length of the
audio. A preview keeps the samples of its window only, cut to the sample. The output is
then decoded again to check it holds the audio expected.
"""

from fractions import Fraction
from typing import NamedTuple

import av
from django.core.exceptions import ValidationError

from . import media


class Output(NamedTuple):
    """How a codec is stored: FFmpeg's encoder and muxer, file extension, MIME type."""

    encoder: str
    muxer: str
    extension: str
    mime_type: str


OUTPUTS = {
    "mp3": Output("libmp3lame", "mp3", "mp3", "audio/mpeg"),
    "aac": Output("aac", "ipod", "m4a", "audio/mp4"),
    "ogg": Output("libvorbis", "ogg", "ogg", "audio/ogg"),
    "opus": Output("libopus", "opus", "opus", "audio/ogg; codecs=opus"),
}
# What the encoders need beyond their declared formats and rates: Opus encodes 48 kHz
# (every decoder plays it at that rate); libopus takes at most 256 kbit/s per channel.
OPUS_RATE = 48_000
MAX_KBPS_PER_CHANNEL = {"opus": 256}
# Below these bitrates the encoders refuse (Vorbis) or ignore (MP3: MPEG-1 starts at 32
# kbit/s) full-rate stereo: the audio is made mono, and its rate lowered, to fit.
LOW_BITRATE = {"mp3": (32, 24_000), "ogg": (48, 22_050), "aac": (0, None), "opus": (0, None)}
VORBIS_MONO_RATE = {32: 22_050, 20: 16_000, 0: 8_000}  # kbit/s at least: rate (Hz)


def tolerance(expected):
    """How far a variant's decoded duration may be from the expected one (seconds)."""
    return max(0.1, expected * 0.01)


def transcode(source, target, codec, bitrate, start=None, duration=None, expected=None):
    """Encode the audio file ``source`` into ``target`` (a path) as ``codec`` (an OUTPUTS
    key) at ``bitrate`` kbit/s; with ``start`` and ``duration`` (seconds) only that
    window. Returns the duration (seconds) of the audio written, checked by decoding the
    file again: a ValidationError when the source cannot be decoded or the output does
    not hold the audio ``expected`` (seconds; by default, what was encoded)."""
    output = OUTPUTS[codec]
    with media._open_audio(source) as container:
        stream = media._audio_stream(container)
        context = stream.codec_context
        channels, rate = _shape(codec, bitrate, context.channels, context.sample_rate)
        written = _encode(
            container, stream, target, output, bitrate, channels, rate, start, duration
        )
    if written == 0:
        raise ValidationError("The audio holds no samples in this window.", "no_audio")
    if expected is None:
        expected = written / rate
    found = probe_duration(target)
    if abs(found - expected) > tolerance(expected):
        raise ValidationError(
            f"The encoded file holds {found:.3f} s of audio instead of {expected:.3f} s.",
            "encoding_failed",
        )
    return round(found, 3)


def _shape(codec, bitrate, channels, rate):
    """Channels and sample rate of the encoded audio."""
    channels = min(max(channels, 1), 2)
    floor, low_rate = LOW_BITRATE[codec]
    if bitrate < floor:
        channels = 1
        if codec == "ogg":
            low_rate = next(r for kbps, r in VORBIS_MONO_RATE.items() if bitrate >= kbps)
        rate = min(rate, low_rate)
    if codec == "opus":
        return channels, OPUS_RATE
    supported = av.codec.Codec(OUTPUTS[codec].encoder, "w").audio_rates
    if supported and rate not in supported:
        higher = [r for r in supported if r >= rate and (bitrate >= floor or r <= low_rate)]
        rate = min(higher) if higher else max(r for r in supported if r <= rate)
    return channels, rate


def _sample_format(encoder):
    formats = [f.name for f in av.codec.Codec(encoder, "w").audio_formats or []]
    for preferred in ("fltp", "flt"):
        if preferred in formats:
            return preferred
    return formats[0]


def _encode(container, stream, target, output, bitrate, channels, rate, start, duration):
    """Decode ``stream``, resample, cut the window and encode into ``target``; returns
    the number of samples (per channel) encoded."""
    layout = "mono" if channels == 1 else "stereo"
    sample_format = _sample_format(output.encoder)
    kbps = min(bitrate, MAX_KBPS_PER_CHANNEL.get(output.muxer, 1000) * channels)
    first = round(start * rate) if start is not None else 0
    end = first + round(duration * rate) if duration is not None else None
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    with av.open(str(target), "w", format=output.muxer) as out:
        encoded = out.add_stream(output.encoder, rate=rate, layout=layout)
        encoded.codec_context.format = sample_format
        encoded.bit_rate = kbps * 1000
        position, written = 0, 0  # samples resampled so far, and encoded
        for frame in _resampled(container, stream, resampler):
            piece, position = _window(frame, position, first, end), position + frame.samples
            if piece is not None:
                piece.pts, piece.time_base = written, Fraction(1, rate)
                written += piece.samples
                out.mux(encoded.encode(piece))
            if end is not None and position >= end:
                break
        out.mux(encoded.encode(None))
    return written


def _resampled(container, stream, resampler):
    for packet in container.demux(stream):
        for frame in packet.decode():
            yield from resampler.resample(frame)
    yield from resampler.resample(None)


def _window(frame, position, first, end):
    """The part of ``frame`` (its first sample at ``position``) within [first, end)."""
    low = max(first - position, 0)
    high = frame.samples if end is None else min(end - position, frame.samples)
    if low >= high:
        return None
    if (low, high) == (0, frame.samples):
        frame.pts = None
        return frame
    data = frame.to_ndarray()
    if frame.format.is_planar:
        data = data[:, low:high]
    else:
        channels = len(frame.layout.channels)
        data = data[:, low * channels : high * channels]
    piece = av.AudioFrame.from_ndarray(data.copy(), frame.format.name, frame.layout.name)
    piece.sample_rate = frame.sample_rate
    return piece


def probe_duration(path):
    """Seconds of audio the file at ``path`` decodes to (a ValidationError when it
    cannot be decoded)."""
    samples, rate = 0, None
    with media._open_audio(path) as container:
        stream = media._audio_stream(container)
        for packet in container.demux(stream):
            for frame in packet.decode():
                samples += frame.samples
                rate = frame.sample_rate
    if not samples:
        raise ValidationError("The encoded file holds no audio.", "encoding_failed")
    return samples / rate
