"""collections_app.media on real files of every kind media_files can write."""

import hashlib
import os
import tracemalloc

import av
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from mutagen.id3 import APIC, ID3

from collections_app import media
from collections_app.media import analyse, sniff

from .media_files import AUDIO_KINDS, available_audio_kinds, make_image, write_audio

# kind: container, codec, sample rate, bit depth, how far the duration may be from 2 s
EXPECTED = {
    "wav": ("wav", "pcm_s16le", 44100, 16, 0.001),
    "wav24": ("wav", "pcm_s24le", 44100, 24, 0.001),
    "flac": ("flac", "flac", 44100, 16, 0.001),
    "flac24": ("flac", "flac", 44100, 24, 0.001),
    "mp3": ("mp3", "mp3", 44100, None, 0.1),
    "opus": ("ogg", "opus", 48000, None, 0.1),
    "ogg": ("ogg", "vorbis", 44100, None, 0.1),
}
LOSSLESS = ["flac", "flac24", "wav", "wav24"]


def encodable(kinds):
    """``kinds`` as parameters, each skipped when this PyAV cannot write it."""
    return [
        pytest.param(kind, marks=pytest.mark.skipif(kind not in ENCODABLE, reason="no encoder"))
        for kind in kinds
    ]


ENCODABLE = available_audio_kinds()
KINDS = encodable(AUDIO_KINDS)
COVER = make_image("jpeg", size=(120, 120))


@pytest.fixture(scope="module", params=KINDS)
def analysed(request, tmp_path_factory):
    """(kind, path, analysis) of 2 s of stereo: a tone for 1 s, then silence."""
    kind = request.param
    path = write_audio(tmp_path_factory.mktemp(kind) / f"audio.{kind}", kind)
    return kind, path, analyse(path)


def test_format(analysed):
    kind, _, analysis = analysed
    container, codec, rate, bits, _ = EXPECTED[kind]
    fmt = dict(analysis.format)
    bitrate = fmt.pop("bitrate")
    assert fmt == {
        "container": container,
        "codec": codec,
        "sample-rate": rate,
        "channels": 2,
        "bit-depth": bits,
    }
    assert isinstance(bitrate, int)
    assert 16_000 < bitrate < 3_000_000


@pytest.mark.parametrize("kind, bitrate", [("wav", 44100 * 16 * 2), ("wav24", 44100 * 24 * 2)])
def test_pcm_bitrate(tmp_path, kind, bitrate):
    assert analyse(write_audio(tmp_path / "a.wav", kind)).format["bitrate"] == bitrate


def test_duration(analysed):
    kind, _, analysis = analysed
    assert abs(analysis.duration - 2.0) <= EXPECTED[kind][-1]


def test_digest_and_size(analysed):
    _, path, analysis = analysed
    data = path.read_bytes()
    assert analysis.sha256 == hashlib.sha256(data).hexdigest()
    assert analysis.size == len(data)


def test_levels_follow_the_signal(analysed):
    """A 0.5 sine for the first half (mean |x| of 1/π), silence for the second."""
    _, _, analysis = analysed
    levels = analysis.levels
    assert levels["num-samples"] == 320
    assert [len(levels[key]) for key in ("min", "max", "avg")] == [320, 320, 320]
    loud, quiet = slice(0, 155), slice(165, 320)  # lossy codecs smear the edge
    assert all(abs(value - 0.5) < 0.05 for value in levels["max"][loud])
    assert all(abs(value + 0.5) < 0.05 for value in levels["min"][loud])
    assert all(abs(value - 1 / np.pi) < 0.03 for value in levels["avg"][loud])
    for key in ("min", "max", "avg"):
        assert all(abs(value) < 0.02 for value in levels[key][quiet])


@pytest.mark.parametrize("kind", encodable(LOSSLESS))
def test_lossless_levels_change_at_the_exact_bucket(tmp_path, kind):
    """88200 samples in 320 buckets: the silence starts at sample 44100, bucket 160."""
    levels = analyse(write_audio(tmp_path / f"a.{kind}", kind)).levels
    assert levels["max"][159] > 0.4
    assert levels["max"][160] == levels["min"][160] == levels["avg"][160] == 0


def reference_levels(path, num_samples):
    """The waveform computed the obvious way: every sample decoded at once, sample j in
    bucket j * num_samples // total."""
    resampler = av.AudioResampler(format="fltp")
    with av.open(str(path)) as container:
        frames = [
            floats.to_ndarray()
            for frame in container.decode(audio=0)
            for floats in resampler.resample(frame)
        ]
    mono = np.concatenate(frames, axis=1).mean(axis=0)
    bucket = np.arange(len(mono)) * num_samples // len(mono)
    pieces = [mono[bucket == b] for b in range(num_samples)]
    return {
        "min": [piece.min() if len(piece) else 0 for piece in pieces],
        "max": [piece.max() if len(piece) else 0 for piece in pieces],
        "avg": [np.abs(piece).mean() if len(piece) else 0 for piece in pieces],
    }


def assert_levels_match(levels, reference):
    for key in ("min", "max", "avg"):
        assert np.allclose(levels[key], reference[key], atol=1.5e-4), key


@pytest.mark.parametrize(("seconds", "num_samples"), [(3.00071, 320), (1.5, 7), (11 / 44100, 320)])
def test_levels_match_a_reference(tmp_path, seconds, num_samples):
    """Odd lengths (bucket sizes differ by one), several decoding blocks, and fewer
    samples than buckets (the empty ones are 0)."""
    path = write_audio(tmp_path / "a.wav", "wav", seconds)
    levels = analyse(path, num_samples=num_samples).levels
    assert levels["num-samples"] == num_samples
    assert_levels_match(levels, reference_levels(path, num_samples))


@pytest.mark.skipif("mp3" not in ENCODABLE, reason="no MP3 encoder")
def test_levels_of_a_file_shorter_than_its_header_says(tmp_path):
    """An MP3 cut after half its frames: its Xing header promises 4 s, the buckets must
    spread the 2 s there are (all of them tone)."""
    path = write_audio(tmp_path / "whole.mp3", "mp3", 4.0)
    with av.open(str(path)) as container:
        starts = [packet.pos for packet in container.demux(audio=0) if packet.size]
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(path.read_bytes()[: starts[len(starts) // 2]])
    analysis = analyse(cut)
    assert abs(analysis.duration - 2.0) < 0.1
    assert min(analysis.levels["max"]) > 0.45
    assert_levels_match(analysis.levels, reference_levels(cut, 320))


def test_a_wav_cut_short_is_measured_as_it_is(tmp_path):
    data = write_audio(tmp_path / "whole.wav", "wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: data.index(b"data") + 8 + 44100 * 4])
    analysis = analyse(cut)
    assert analysis.duration == 1.0
    assert_levels_match(analysis.levels, reference_levels(cut, 320))


def test_memory_stays_flat(tmp_path):
    """A minute of stereo: its decoded samples alone would take over 10 MB as float32."""
    path = write_audio(tmp_path / "a.wav", "wav", 60.0)
    tracemalloc.start()
    try:
        analyse(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


@pytest.mark.parametrize("kind", encodable([*LOSSLESS, "mp3", "opus"]))
def test_files_whose_headers_tell_their_length_are_decoded_once(tmp_path, monkeypatch, kind):
    """Twice would be correct too, but slower. Not Vorbis: FFmpeg's decoder can end a
    few samples short of what the last Ogg page declares (a 1 s file here)."""
    counts = []
    waveform = media._waveform
    monkeypatch.setattr(media, "_waveform", lambda *args: counts.append(args) or waveform(*args))
    analyse(write_audio(tmp_path / f"a.{kind}", kind, 1.0))
    assert len(counts) == 1


def test_mono_at_another_rate(tmp_path):
    path = write_audio(tmp_path / "a.flac", "flac", 1.25, sample_rate=22050, channels=1)
    analysis = analyse(path)
    assert analysis.duration == 1.25
    assert analysis.format["sample-rate"] == 22050
    assert analysis.format["channels"] == 1


@pytest.mark.parametrize("kind", encodable(["mp3", "flac"]))
def test_embedded_cover(tmp_path, kind):
    with_cover = write_audio(tmp_path / f"cover.{kind}", kind, 0.5, cover=COVER)
    without = write_audio(tmp_path / f"plain.{kind}", kind, 0.5)
    assert analyse(with_cover).cover == COVER
    assert analyse(without).cover is None


@pytest.mark.skipif("mp3" not in ENCODABLE, reason="no MP3 encoder")
def test_cover_ffmpeg_skips_is_read_from_the_tags(tmp_path):
    """FFmpeg drops an APIC whose MIME type it does not know; mutagen still reads it."""
    path = write_audio(tmp_path / "a.mp3", "mp3", 0.5)
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/x-unheard-of", type=3, desc="", data=COVER))
    tags.save(path)
    assert analyse(path).cover == COVER


def test_sniff_accepts_audio(analysed):
    _, path, _ = analysed
    assert sniff(path) is None


def write_video(path):
    """A second of a grey video (Motion JPEG in Matroska) with no audio."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("mjpeg", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuvj420p"
        grey = np.full((64, 64, 3), 128, dtype=np.uint8)
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(grey, format="rgb24")
            container.mux(stream.encode(frame.reformat(format="yuvj420p")))
        container.mux(stream.encode(None))
    return path


def not_audio_files(directory):
    """name: path of files that are not audio, however they look or are named."""
    wav = write_audio(directory / "real.wav", "wav", 0.5).read_bytes()
    contents = {
        "random.bin": os.urandom(64 * 1024),
        "random.sln": os.urandom(64 * 1024),  # raw audio by its extension, to FFmpeg
        "text.mp3": b"These are the lyrics, not the song.\n" * 200,
        "image.wav": make_image("png"),
        "photo.flac": make_image("jpeg"),
        "empty.wav": b"",
        "cut-header.wav": wav[:30],
        "playlist.wav": b"ffconcat version 1.0\nfile real.wav\n",  # reads a file beside it
    }
    files = {}
    for name, content in contents.items():
        files[name] = directory / name
        files[name].write_bytes(content)
    files["video.mkv"] = write_video(directory / "video.mkv")
    return files


@pytest.mark.parametrize("check", [sniff, analyse])
def test_refuses_what_is_not_audio(tmp_path, monkeypatch, check):
    monkeypatch.chdir(tmp_path)  # where ffconcat would look for the playlist's file
    for name, path in not_audio_files(tmp_path).items():
        with pytest.raises(ValidationError) as caught:
            check(path)
        assert caught.value.code == "not_audio", name


@pytest.mark.parametrize("cut", [False, True])
def test_no_samples(tmp_path, cut):
    """A valid header and no audio, whether it says so or was cut after it: analyse says
    there is no audio; sniff finds nothing to decode."""
    path = write_audio(tmp_path / "a.wav", "wav", 1.0 if cut else 0)
    if cut:
        data = path.read_bytes()
        path.write_bytes(data[: data.index(b"data") + 8])
    with pytest.raises(ValidationError) as caught:
        analyse(path)
    assert caught.value.code == "no_audio"
    with pytest.raises(ValidationError) as caught:
        sniff(path)
    assert caught.value.code == "not_audio"


def test_the_name_does_not_choose_the_format(tmp_path, monkeypatch):
    """FFmpeg picks a raw format (signed linear for .sln) from a name alone, and then any
    bytes decode: even with that format allowed, random bytes so named are not audio."""
    monkeypatch.setattr(media, "AUDIO_CONTAINERS", media.AUDIO_CONTAINERS + ",sln")
    path = tmp_path / "noise.sln"
    path.write_bytes(os.urandom(64 * 1024))
    with pytest.raises(ValidationError) as caught:
        sniff(path)
    assert caught.value.code == "not_audio"
