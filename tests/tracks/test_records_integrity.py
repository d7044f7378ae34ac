"""Records keep whole masters only: real FLAC files made here, damaged the ways files get
damaged, and sent through the API, the admin and the model. Filenames storage could refuse
are validation errors too."""

import functools
import hashlib
import io
import re

import av
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.assertions import errors_by_pointer
from tests.factories import make_track
from tests.tracks.test_records import audio_file, record_document, stored_files
from tracks.models import Record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

# STREAMINFO is the first metadata block, after "fLaC" and its 4-byte block header: the
# total samples are the low 36 bits of bytes 18-25, the MD5 of the audio is bytes 26-41.
TOTAL_SAMPLES, AUDIO_MD5 = slice(18, 26), slice(26, 42)
SAMPLES_MASK = 2**36 - 1


@functools.cache
def good_flac():
    """1.5 s of 16-bit stereo at 44.1 kHz: 66150 samples in 17 frames."""
    return audio_file(bits=16, seconds=1.5)


def declared_samples(data):
    return int.from_bytes(data[TOTAL_SAMPLES], "big") & SAMPLES_MASK


def with_streaminfo(data, total_samples=None, md5=None):
    data = bytearray(data)
    if total_samples is not None:
        packed = int.from_bytes(data[TOTAL_SAMPLES], "big") & ~SAMPLES_MASK
        data[TOTAL_SAMPLES] = (packed | total_samples).to_bytes(8, "big")
    if md5 is not None:
        data[AUDIO_MD5] = md5
    return bytes(data)


def frames(data):
    """(start, end) of each FLAC frame, in order."""
    with av.open(io.BytesIO(data), format="flac") as container:
        spans = [
            (packet.pos, packet.pos + packet.size) for packet in container.demux() if packet.size
        ]
    assert all(data[start : start + 2] in (b"\xff\xf8", b"\xff\xf9") for start, _ in spans)
    assert spans[-1][1] == len(data)
    return spans


def headers_only(data):
    return data[: frames(data)[0][0]]


def cut_mid_frame(data):
    start, end = frames(data)[5]
    return data[: (start + end) // 2]


def cut_at_frame_boundary(data):
    return data[: frames(data)[5][0]]


def ten_times_the_samples(data):
    return with_streaminfo(data, total_samples=10 * declared_samples(data))


def other_audio_md5(data):
    return with_streaminfo(data, md5=hashlib.md5(b"other audio").digest())


def flipped(data, position):
    damaged = bytearray(data)
    damaged[position] ^= 0x40
    return bytes(damaged)


def flipped_frame_byte(data):
    start, end = frames(data)[5]
    return flipped(data, (start + end) // 2)


def flipped_frame_crc(data):
    """The audio decodes the same (its MD5 holds): only the frame's CRC-16 tells."""
    return flipped(data, frames(data)[5][1] - 1)


def flipped_frame_byte_md5_unset(data):
    return with_streaminfo(flipped_frame_byte(data), md5=bytes(16))


def cut_at_frame_boundary_length_unknown(data):
    return with_streaminfo(cut_at_frame_boundary(data), total_samples=0)


def frame_dropped(data):
    start, end = frames(data)[5]
    return data[:start] + data[end:]


def frame_repeated(data):
    start, end = frames(data)[5]
    return data[:end] + data[start:]


def id3v1_tag_after_the_frames(data):
    return data + b"TAG" + bytes(125)


DAMAGES = [
    (headers_only, "no_audio"),
    (cut_mid_frame, "corrupt_audio"),
    (cut_at_frame_boundary, "sample_count_mismatch"),
    (ten_times_the_samples, "sample_count_mismatch"),
    (other_audio_md5, "audio_checksum_mismatch"),
    (flipped_frame_byte, "corrupt_audio"),
    (flipped_frame_byte_md5_unset, "corrupt_audio"),
    (flipped_frame_crc, "corrupt_audio"),
    (cut_at_frame_boundary_length_unknown, "audio_checksum_mismatch"),
    (frame_dropped, "sample_count_mismatch"),
    (frame_repeated, "sample_count_mismatch"),
    (id3v1_tag_after_the_frames, "corrupt_audio"),
]


@pytest.fixture
def track(api):
    """A track that already has a whole 1.5 s master: its length is 2."""
    track = make_track()
    response = api.post_doc("/api/v1/records", record_document(track, good_flac()))
    assert response.status_code == 201, response.document
    track.refresh_from_db()
    assert track.length == 2
    return track


def assert_nothing_changed(track, media_root, files_before):
    assert Record.objects.filter(track=track).count() == 1
    assert stored_files(media_root) == files_before
    track.refresh_from_db()
    assert (track.length, track.audio16bits) == (2, True)


@pytest.mark.parametrize(("damage", "code"), DAMAGES, ids=[d.__name__ for d, _ in DAMAGES])
def test_a_broken_master_is_422_and_changes_nothing(api, track, media_root, damage, code):
    files_before = stored_files(media_root)
    response = api.post_doc("/api/v1/records", record_document(track, damage(good_flac())))
    errors = errors_by_pointer(response, 422)
    assert list(errors) == ["/data/attributes/new-file"]
    assert errors["/data/attributes/new-file"]["code"] == code
    assert_nothing_changed(track, media_root, files_before)


def test_the_sample_counts_are_in_the_error(api, track):
    response = api.post_doc(
        "/api/v1/records", record_document(track, ten_times_the_samples(good_flac()))
    )
    detail = errors_by_pointer(response, 422)["/data/attributes/new-file"]["detail"]
    assert "66150 samples" in detail and "declares 661500" in detail


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (cut_mid_frame, "corrupt_audio"),
        (ten_times_the_samples, "sample_count_mismatch"),
        (other_audio_md5, "audio_checksum_mismatch"),
    ],
)
def test_a_broken_fetched_master_is_422_at_original_url(
    api, track, source, media_root, damage, code
):
    base, routes = source
    routes["/take.flac"] = (200, damage(good_flac()), {})
    files_before = stored_files(media_root)
    document = record_document(track, filename=None, **{"original-url": f"{base}/take.flac"})
    errors = errors_by_pointer(api.post_doc("/api/v1/records", document), 422)
    assert list(errors) == ["/data/attributes/original-url"]
    assert errors["/data/attributes/original-url"]["code"] == code
    assert_nothing_changed(track, media_root, files_before)


@pytest.mark.parametrize(
    ("bits", "rate", "channels", "seconds", "length"),
    [(16, 44100, 2, 2.6, 3), (24, 96000, 1, 3.4, 3), (24, 48000, 6, 0.4, 0), (8, 8000, 1, 1.2, 1)],
)
def test_whole_masters_are_accepted_with_their_length(
    api, media_root, bits, rate, channels, seconds, length
):
    track, content = make_track(), audio_file(bits, seconds, rate, channels)
    response = api.post_doc("/api/v1/records", record_document(track, content))
    assert response.status_code == 201, response.document
    attributes = response.document["data"]["attributes"]
    assert attributes["md5"] == hashlib.md5(content).hexdigest()
    assert attributes["precision"] == bits
    assert attributes["file"]["total-samples"] == int(rate * seconds)
    assert attributes["file"]["duration"] == pytest.approx(seconds, abs=1e-5)
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == content
    track.refresh_from_db()
    assert track.length == length


@pytest.mark.parametrize(
    "content",
    [
        with_streaminfo(good_flac(), md5=bytes(16)),
        with_streaminfo(good_flac(), total_samples=0),
        with_streaminfo(good_flac(), total_samples=0, md5=bytes(16)),
    ],
    ids=["md5-unset", "length-unknown", "both-unset"],
)
def test_whole_masters_with_unset_streaminfo_fields_are_accepted(api, content):
    track = make_track()
    response = api.post_doc("/api/v1/records", record_document(track, content))
    assert response.status_code == 201, response.document
    file_info = response.document["data"]["attributes"]["file"]
    assert file_info["total-samples"] == 66150  # decoded when STREAMINFO does not say
    assert file_info["duration"] == pytest.approx(1.5)
    track.refresh_from_db()
    assert track.length == 2


def test_stored_under_a_name_of_its_own(api):
    document = record_document(make_track(), good_flac(), filename="take 1 (final).flac")
    response = api.post_doc("/api/v1/records", document)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["filename"] == "take 1 (final).flac"
    record = Record.objects.get()
    assert re.fullmatch(r"records/\d{4}/\d{2}/[0-9a-f]{32}\.flac", record.file.name)


@pytest.mark.parametrize(
    ("filename", "code"),
    [
        (".", "invalid_filename"),
        ("..", "invalid_filename"),
        ("/", "invalid_filename"),
        ("a/../..", "invalid_filename"),
        ("masters/take.flac", "invalid_filename"),
        ("..\\take.flac", "invalid_filename"),
        ("take\x01.flac", "invalid_filename"),
        ("é" * 126 + ".flac", "invalid_filename"),  # 257 bytes of UTF-8
        ("x" * 300, "max_length"),
        ("", "blank"),
    ],
    ids=[".", "..", "slash", "a-dotdot", "path", "backslash", "control", "bytes", "300", "empty"],
)
def test_filenames_storage_could_refuse_are_422(api, media_root, filename, code):
    response = api.post_doc(
        "/api/v1/records", record_document(make_track(), good_flac(), filename=filename)
    )
    errors = errors_by_pointer(response, 422)
    assert list(errors) == ["/data/attributes/filename"]
    assert errors["/data/attributes/filename"]["code"] == code
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "filename",
    ["mäster \u2013 ünïcode.flac", ".hidden.flac", "a" * 250 + ".flac", "é" * 125 + ".flac"],
)
def test_unusual_but_good_filenames_are_kept(api, filename):
    document = record_document(make_track(), good_flac(), filename=filename)
    response = api.post_doc("/api/v1/records", document)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["filename"] == filename


@pytest.mark.parametrize(
    ("path", "filename"),
    [("/masters/take-1.flac", "take-1.flac"), ("/masters/", "master.flac"), ("/..", "master.flac")],
)
def test_a_fetched_master_is_named_after_a_good_url_segment_only(api, source, path, filename):
    base, routes = source
    routes[path] = (200, good_flac(), {})
    document = record_document(make_track(), filename=None, **{"original-url": base + path})
    response = api.post_doc("/api/v1/records", document)
    assert response.status_code == 201, response.document
    assert response.document["data"]["attributes"]["filename"] == filename


def test_model_validation_refuses_bad_filenames_and_broken_masters(media_root):
    track = make_track()
    record = Record(track=track, filename="..", file=ContentFile(good_flac(), name="x.flac"))
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    assert [error.code for error in caught.value.error_dict["filename"]] == ["invalid_filename"]
    broken = ContentFile(cut_mid_frame(good_flac()), name="x.flac")
    record = Record(track=track, filename="take.flac", file=broken)
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    assert [error.code for error in caught.value.error_dict["file"]] == ["corrupt_audio"]
    # An importer that saves without validating gets the same error, and nothing is stored.
    with pytest.raises(ValidationError):
        Record(track=track, filename="take.flac", file=broken).save()
    assert not Record.objects.exists()
    assert stored_files(media_root) == []


class CountingFile(File):
    """A file that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = self.file.read(size)
        self.bytes_read += len(data)
        return data


def test_the_file_is_read_once_between_validation_and_save(media_root):
    """The API validates one instance and saves another with the same file: decoding,
    checking and hashing are one pass; saving only copies the file to storage."""
    content = audio_file(bits=24, seconds=8, rate=48000)
    upload = CountingFile(io.BytesIO(content), name="x.flac")
    Record(track=make_track(), filename="take.flac", file=upload).full_clean()
    assert len(content) <= upload.bytes_read < len(content) + 64 * 1024  # + headers
    after_validation = upload.bytes_read
    record = Record(track=make_track(), filename="take.flac", file=upload)
    record.save()
    assert upload.bytes_read - after_validation == len(content)  # the copy to storage
    assert record.md5 == hashlib.md5(content).hexdigest()
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == content


def test_the_admin_applies_the_same_rules(admin_client, media_root):
    track = make_track()

    def add(content, filename):
        upload = SimpleUploadedFile("upload.flac", content)
        data = {"track": track.pk, "filename": filename, "file": upload}
        return admin_client.post("/admin/tracks/record/add/", data)

    form_errors = add(good_flac(), "..").context["adminform"].form.errors.as_data()
    assert [error.code for error in form_errors["filename"]] == ["invalid_filename"]
    form_errors = add(frame_dropped(good_flac()), "take.flac").context["adminform"].form.errors
    assert [error.code for error in form_errors.as_data()["file"]] == ["sample_count_mismatch"]
    assert not Record.objects.exists()
    assert stored_files(media_root) == []
    assert add(good_flac(), "take.flac").status_code == 302
    assert Record.objects.get().file_info["total-samples"] == 66150
