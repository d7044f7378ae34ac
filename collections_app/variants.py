"""Making a collection track's variants (transcodes and previews) in the background, and
the track's status that follows from them.

A track whose audio has been analysed (collections_app/processing.py) gets its default
variant, an MP3 at 128 kbit/s; clients ask for more with ``POST /track-variants``. Each
variant is made by its own task (``make_variant``, enqueued in the transaction that
creates the variant), which encodes the track's audio (collections_app/transcode.py),
checks the result and stores it as ``track-variants/<id>.<ext>``.

The track is ``processing`` while any of its variants is queued or being made, then
``ready`` when all are, ``incomplete`` when some failed but at least one is ready, and
``error`` when all failed. Runs beat and are recovered as the processing of tracks is:
each has a number (``processing_attempt``), a run silent for PROCESSING_TIMEOUT_SECONDS is
retried up to PROCESSING_MAX_ATTEMPTS runs, and only the current run writes its result.
"""

import contextlib
import os
import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from config import storage

from . import signals, transcode
from .models import Codec, CollectionTrack, Status, TrackVariant, VariantStatus, VariantType
from .processing import (
    current_run,
    heartbeat,
    local_path,
    mark_lost,
    retry_or_end,
    set_status,
    stall_cutoff,
    taken_long_ago,
)

DEFAULT = {"variant_type": VariantType.TRANSCODE, "codec": Codec.MP3, "bitrate": 128}
PENDING = (VariantStatus.QUEUED, VariantStatus.PROCESSING)


def add_default(track):
    """Give ``track`` (locked, its audio analysed) its default variant, once."""
    if not track.variants.filter(**DEFAULT).exists():
        enqueue(TrackVariant.objects.create(track=track, **DEFAULT))


def requested(variant):
    """A client created ``variant``: make it, and show its track is processing."""
    track = CollectionTrack.objects.select_for_update(no_key=True).get(pk=variant.track_id)
    enqueue(variant)
    settle(track)


def enqueue(variant):
    """Queue a new run of ``variant`` (committed with the current transaction)."""
    variant.status, variant.status_reason = VariantStatus.QUEUED, None
    variant.processing_attempt += 1
    variant.processing_heartbeat_at = None
    variant.save()
    make_variant.enqueue(str(variant.pk), variant.processing_attempt)


def settle(track):
    """Set ``track``'s status (locked, saved here) from its variants'. A track whose audio
    has not been analysed, or could not be, is left as it is."""
    if track.duration is None:
        return
    statuses = list(track.variants.values_list("status", flat=True))
    failed = statuses.count(VariantStatus.ERROR)
    if any(status in PENDING for status in statuses):
        status, reason = Status.PROCESSING, None
    elif not failed:
        status, reason = Status.READY, None
    elif failed < len(statuses):
        status = Status.INCOMPLETE
        reason = (
            f"{failed} of {len(statuses)} variants could not be made (see their "
            "status-reason); the others are ready."
        )
    else:
        status = Status.ERROR
        reason = "No variant of this track could be made (see their status-reason)."
    if (track.status, track.status_reason) != (status, reason):
        set_status(track, status, reason)
        track.save(update_fields=["status", "status_reason", "updated_at"])


@task()
def make_variant(variant_id, attempt):
    """Encode variant ``variant_id`` for run ``attempt``, and finish it."""
    began = TrackVariant.objects.filter(
        pk=variant_id, status=VariantStatus.QUEUED, processing_attempt=attempt
    ).update(status=VariantStatus.PROCESSING, processing_heartbeat_at=timezone.now())
    if not began:
        return "superseded"  # deleted, or a newer run has replaced this one
    variant = TrackVariant.objects.select_related("track").get(pk=variant_id)
    output = transcode.OUTPUTS[variant.codec]
    try:
        with (
            heartbeat(current_run(TrackVariant, variant_id, attempt)),
            local_path(variant.track.audio) as source,
            temporary_file(output.extension) as target,
        ):
            duration = transcode.transcode(
                source,
                target,
                variant.codec,
                variant.bitrate,
                variant.preview_start,
                variant.preview_duration,
                expected=variant.preview_duration or variant.track.duration,
            )
            finish(variant_id, attempt, VariantStatus.READY, path=target, duration=duration)
    except ValidationError as exc:
        finish(variant_id, attempt, VariantStatus.ERROR, reason=" ".join(exc.messages))
        return "error"
    except Exception:
        reason = "Making this variant failed unexpectedly. Delete it and ask for it again."
        finish(variant_id, attempt, VariantStatus.ERROR, reason=reason)
        raise  # the task's result records the traceback for the operators
    return "ready"


@contextlib.contextmanager
def temporary_file(extension):
    """A path for the encoder to write to, removed afterwards."""
    descriptor, path = tempfile.mkstemp(suffix=f".{extension}", dir=settings.FILE_UPLOAD_TEMP_DIR)
    os.close(descriptor)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def finish(variant_id, attempt, status, *, reason=None, path=None, duration=None):
    """Write run ``attempt``'s outcome (and store the file at ``path``), unless a newer
    run has replaced it or the variant is gone; then settle its track."""
    with storage.atomic():
        track_id = TrackVariant.objects.filter(pk=variant_id).values_list("track_id", flat=True)
        # The track first, then the variant: the order every writer of both takes.
        track = CollectionTrack.objects.select_for_update(no_key=True).filter(pk__in=track_id)
        track = track.first()
        variant = current_run(TrackVariant, variant_id, attempt).select_for_update().first()
        if track is None or variant is None:
            return
        end(variant, status, reason)
        if path is not None:
            output = transcode.OUTPUTS[variant.codec]
            with open(path, "rb") as content:
                variant.file.save(f"{variant.pk}.{output.extension}", File(content), save=False)
            variant.size = variant.file.size
            variant.duration = duration
            variant.mime_type = output.mime_type
        variant.save()
        settle(track)


def end(variant, status, reason=None):
    """Give ``variant`` (saved by the caller) its final ``status``; receivers of
    ``variant_created`` or ``variant_failed`` hear of it once the transaction commits."""
    variant.status, variant.status_reason = status, reason
    variant.processing_heartbeat_at = None
    signal = signals.variant_created if status == VariantStatus.READY else signals.variant_failed
    transaction.on_commit(lambda: signal.send(sender=TrackVariant, variant=variant))


def give_up(variant):
    reason = (
        f"Making this variant stopped without finishing {variant.processing_attempt} "
        "times (its worker was lost). Delete it and ask for it again."
    )
    end(variant, VariantStatus.ERROR, reason)
    variant.save()


def recover_stalled():
    """processing.recover_stalled() for variants: returns how many were recovered."""
    cutoff = stall_cutoff()
    taken = taken_long_ago(make_variant, cutoff)
    with transaction.atomic():
        stalled = TrackVariant.objects.filter(
            Q(status=VariantStatus.PROCESSING, processing_heartbeat_at__lt=cutoff)
            | Q(status=VariantStatus.QUEUED, pk__in={pk for pk, _ in taken})
        )
        # Their tracks first, then the variants: the order every writer of both takes.
        tracks = CollectionTrack.objects.select_for_update(no_key=True, skip_locked=True)
        tracks = list(tracks.filter(pk__in=stalled.values("track_id")))
        candidates = stalled.select_for_update(skip_locked=True).filter(track__in=tracks)
        stalled = [
            variant
            for variant in candidates
            if variant.status == VariantStatus.PROCESSING
            or (str(variant.pk), variant.processing_attempt) in taken
        ]
        retry_or_end(stalled, enqueue, give_up)
        for track in tracks:
            settle(track)
        mark_lost(make_variant, [variant.pk for variant in stalled])
    return len(stalled)
