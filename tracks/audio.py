"""Reading master audio: what a FLAC file is, and fetching one from an allowed host.

These functions are the rules for records; the model, the API and the admin all use them.
"""

import hashlib
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from mutagen import MutagenError
from mutagen.flac import FLAC


def check_size(size):
    if size == 0:
        raise ValidationError("The file is empty.", "empty_file")
    if size > settings.RECORD_MAX_BYTES:
        raise ValidationError(
            f"The file is larger than the limit of {settings.RECORD_MAX_BYTES} bytes.",
            "file_too_large",
        )


def read_flac(fileobj):
    """The technical metadata of a FLAC stream; a ValidationError when it is not one."""
    fileobj.seek(0)
    try:
        info = FLAC(fileobj).info
    except (MutagenError, EOFError, ValueError) as exc:
        raise ValidationError("The file is not a valid FLAC stream.", "invalid_flac") from exc
    finally:
        fileobj.seek(0)
    if not info.total_samples or not info.sample_rate:
        raise ValidationError("The FLAC stream holds no audio.", "invalid_flac")
    return {
        "codec": "flac",
        "channels": info.channels,
        "duration": round(info.length, 6),
        "sample-rate": info.sample_rate,
        "bits-per-raw-sample": info.bits_per_sample,
        "lossless": True,
        "bitrate": info.bitrate,
        "total-samples": info.total_samples,
    }


def md5_of(fileobj):
    digest = hashlib.md5(usedforsecurity=False)
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead to a host outside the allow-list: refuse them all."""

    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url):
    """The bytes at ``url``, from a host of RECORD_SOURCE_HOSTS, within the size limit."""
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
    opener = urllib.request.build_opener(_NoRedirects)
    limit = settings.RECORD_MAX_BYTES
    try:
        with opener.open(url, timeout=settings.RECORD_FETCH_TIMEOUT) as response:
            chunks, size = [], 0
            while size <= limit and (chunk := response.read(1024 * 1024)):
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise ValidationError(f"The source answered HTTP {exc.code}.", "fetch_failed") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ValidationError("The source could not be fetched.", "fetch_failed") from exc
    check_size(len(data))
    return data
