"""Processing a collection track's audio in the background, and making sure it ends.

The upload request only stores the file and enqueues ``process_track`` in the same
transaction (django-tasks' database backend writes the task as a row): the track is
``processing`` exactly when a task for it is committed. A worker (``manage.py db_worker``)
probes the audio, draws its waveform and finishes the track ``ready`` or ``error``.

A running run beats (``processing_heartbeat_at``) every quarter of
PROCESSING_TIMEOUT_SECONDS, however long the audio takes. A run silent for longer than
the timeout lost its worker (killed, its machine gone): ``recover_stalled``, which every
worker calls periodically, retries it, up to PROCESSING_MAX_ATTEMPTS runs, then marks the
track ``error``. Each run has a number (``processing_attempt``) and writes its result only
while it is still the track's current one, so a run presumed dead cannot overwrite the run
that replaced it.
"""

import contextlib
import io
import logging
import shutil
import tempfile
import threading
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from config import recovery, storage

from . import covers, media, signals
from .models import CollectionTrack, Status

logger = logging.getLogger(__name__)


def start(track):
    """Mark ``track`` as processing its stored audio and enqueue a new run (call it inside
    the transaction that saves the audio: the task is committed with it)."""
    set_status(track, Status.PROCESSING)
    track.processing_attempt += 1
    track.processing_heartbeat_at = None
    track.save()
    process_track.enqueue(str(track.pk), track.processing_attempt)


def set_status(track, status, reason=None):
    """Give ``track`` (saved by the caller) ``status``; when that changes it, receivers of
    ``track_status_changed`` hear of it once the transaction commits."""
    changed = track.status != status
    track.status, track.status_reason = status, reason
    if changed:
        transaction.on_commit(
            lambda: signals.track_status_changed.send(sender=CollectionTrack, track=track)
        )


@task()
def process_track(track_id, attempt):
    """Probe the audio of ``track_id`` for run ``attempt``, and finish the track."""
    began = CollectionTrack.objects.filter(
        pk=track_id, status=Status.PROCESSING, processing_attempt=attempt
    ).update(processing_heartbeat_at=timezone.now())
    if not began:
        return "superseded"  # deleted, or a newer run has replaced this one
    track = CollectionTrack.objects.get(pk=track_id)
    try:
        with (
            heartbeat(current_run(CollectionTrack, track_id, attempt)),
            local_path(track.audio) as path,
        ):
            analysis = media.analyse(path)
    except ValidationError as exc:
        finish(track_id, attempt, Status.ERROR, reason=" ".join(exc.messages))
        return "error"
    except Exception:
        reason = "Processing failed unexpectedly. Delete the track and upload the file again."
        finish(track_id, attempt, Status.ERROR, reason=reason)
        raise  # the task's result records the traceback for the operators
    finish(track_id, attempt, Status.READY, analysis=analysis)
    return "ready"


def finish(track_id, attempt, status, *, reason=None, analysis=None):
    """Write run ``attempt``'s outcome, unless a newer run has replaced it. Analysed audio
    gets its default variant (collections_app/variants.py): the track stays
    ``processing`` until its variants are made."""
    from . import variants

    with storage.atomic():
        track = (
            CollectionTrack.objects.select_for_update()
            .filter(pk=track_id, status=Status.PROCESSING, processing_attempt=attempt)
            .first()
        )
        if track is None:
            return
        track.processing_heartbeat_at = None
        if analysis is None:
            set_status(track, status, reason)
            track.save()
            return
        track.duration = analysis.duration
        track.format = analysis.format
        track.size = analysis.size
        track.sha256 = analysis.sha256
        track.levels = analysis.levels
        track.files_completed_at = timezone.now()
        if analysis.cover and not track.cover_files and track.collection.is_cover_overridable:
            take_embedded_cover(track, analysis.cover)
        track.save()
        variants.add_default(track)
        variants.settle(track)


def take_embedded_cover(track, picture):
    """The audio's own picture becomes the cover when none was uploaded; a picture that
    is not a usable image is skipped, not an error of the track."""
    try:
        image = covers.open_cover(io.BytesIO(picture))
    except ValidationError as exc:
        logger.info("Track %s: embedded picture skipped (%s)", track.pk, " ".join(exc.messages))
        return
    track.take_cover(image)


def current_run(model, pk, attempt):
    """The row of ``model`` (a track or a variant) while run ``attempt`` is its current,
    running one: what a run's heartbeat and outcome are written to."""
    return model.objects.filter(pk=pk, status=Status.PROCESSING, processing_attempt=attempt)


@contextlib.contextmanager
def heartbeat(run):
    """Show that ``run`` (current_run()) is alive while the block runs (a thread of its
    own: the decoder or encoder holds this one)."""
    stop = threading.Event()
    interval = settings.PROCESSING_TIMEOUT_SECONDS / 4

    def beat():
        try:
            while not stop.wait(interval):
                run.update(processing_heartbeat_at=timezone.now())
        finally:
            connection.close()

    name = f"heartbeat-{run.model._meta.model_name}"
    beating = threading.Thread(target=beat, daemon=True, name=name)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


@contextlib.contextmanager
def local_path(field_file):
    """A path on this machine holding the stored file: the file itself on a local
    storage, else a temporary copy (object stores have no paths)."""
    try:
        path = field_file.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        with field_file.open("rb") as source:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield copy.name


@recovery.register
def recover_stalled():
    """Find runs silent for longer than PROCESSING_TIMEOUT_SECONDS (their worker died):
    retry each, or end it in ``error`` once it has had PROCESSING_MAX_ATTEMPTS runs; the
    processing of tracks, then the making of variants (collections_app/variants.py).
    Returns the number of tracks and variants recovered.

    A run is silent when its last heartbeat is older than that, or when it never beat
    although a worker took its task that long ago (the worker died right after taking
    it). A run still queued is not silent: it waits for a worker."""
    from . import variants

    return _recover_tracks() + variants.recover_stalled()


def stall_cutoff():
    return timezone.now() - timedelta(seconds=settings.PROCESSING_TIMEOUT_SECONDS)


def taken_long_ago(task_function, cutoff):
    """(id, attempt) of the runs of ``task_function`` that a worker took before
    ``cutoff`` and has not finished."""
    return {
        (args[0], args[1])
        for args in DBTaskResult.objects.running()
        .filter(task_path=task_function.module_path, started_at__lt=cutoff)
        .values_list("args_kwargs__args", flat=True)
    }


def mark_lost(task_function, ids):
    """The task results of runs of ``task_function`` for rows ``ids`` whose worker was
    lost stay "running" otherwise: say what became of them."""
    DBTaskResult.objects.running().filter(
        task_path=task_function.module_path, args_kwargs__args__0__in=[str(pk) for pk in ids]
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="collections_app.processing.WorkerLost",
        traceback="The worker running this task stopped before it finished.",
    )


def _recover_tracks():
    cutoff = stall_cutoff()
    taken = taken_long_ago(process_track, cutoff)
    with transaction.atomic():
        candidates = CollectionTrack.objects.select_for_update(skip_locked=True).filter(
            Q(processing_heartbeat_at__lt=cutoff)
            | Q(processing_heartbeat_at__isnull=True, pk__in={pk for pk, _ in taken}),
            status=Status.PROCESSING,
        )
        stalled = [
            track
            for track in candidates
            if track.processing_heartbeat_at is not None
            or (str(track.pk), track.processing_attempt) in taken
        ]
        retry_or_end(stalled, start, give_up_processing)
        mark_lost(process_track, [track.pk for track in stalled])
    return len(stalled)


def give_up_processing(track):
    reason = (
        f"Processing stopped without finishing {track.processing_attempt} times "
        "(its worker was lost). Delete the track and upload the file again."
    )
    set_status(track, Status.ERROR, reason)
    track.processing_heartbeat_at = None
    track.save()


def retry_or_end(runs, retry, give_up):
    """For each stalled run (a track's processing, a variant's making): ``retry`` it while
    it has had fewer than PROCESSING_MAX_ATTEMPTS runs, else ``give_up`` on it."""
    for run in runs:
        name, attempt = type(run).__name__, run.processing_attempt
        if attempt < settings.PROCESSING_MAX_ATTEMPTS:
            logger.warning("%s %s: run %s stalled, retrying", name, run.pk, attempt)
            retry(run)
        else:
            logger.warning("%s %s: run %s stalled, giving up", name, run.pk, attempt)
            give_up(run)
