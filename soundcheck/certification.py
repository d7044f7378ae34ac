"""Certifications: where each entity stands on each track, from its current results.

An entity is certified at a level when each of the level's checks is currently ``passed``,
``warning`` or ``not-applicable`` (in scope ``default``); its highest level is the highest
ordinal whose level and every lower level are certified. Certifications are stored, and
computed again in the same transaction whenever a result arrives, a track's levels change
or a check in them changes, so that reading them (one entity, or every entity of a track)
costs a constant number of queries.
"""

from django.db import connections
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from rest_framework.fields import DateTimeField

from .models import (
    CERTIFYING_STATES,
    Certification,
    CheckResult,
    Level,
    LevelCheck,
    ResultState,
    SoundcheckTrack,
)

CERTIFYING_SCOPE = "default"
# The first key of the advisory locks of certification computations (any 32-bit number no
# other lock of this database uses), the track's id the second.
LOCK_SPACE = 0x5C0C


def latest_results(check_ids, entity_refs=None, scope=CERTIFYING_SCOPE):
    """The current result per (check, entity): {(check id, entity ref): CheckResult}."""
    results = CheckResult.objects.filter(check_definition__in=check_ids, scope=scope)
    if entity_refs is not None:
        results = results.filter(entity_ref__in=entity_refs)
    ranked = results.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("check_definition"), F("entity_ref")],
            order_by=[F("timestamp").desc(), F("id").desc()],
        )
    ).filter(rank=1)
    return {(result.check_definition_id, result.entity_ref): result for result in ranked}


def refresh(track, entity_refs=None):
    """Compute ``track``'s certifications again, for ``entity_refs`` or for every entity
    with a result for one of its checks."""
    take_turns(track)
    levels = list(Level.objects.filter(track=track).with_checks())
    check_ids = [lc.check_definition_id for level in levels for lc in level.level_checks.all()]
    current = latest_results(check_ids, entity_refs)
    stale = Certification.objects.filter(track=track)
    if entity_refs is not None:
        stale = stale.filter(entity_ref__in=entity_refs)
    previous = {cert.entity_ref: cert for cert in stale}
    reported = {entity for _, entity in current}
    rows = [
        certification(track, levels, entity, current, previous.get(entity))
        for entity in sorted(reported)
    ]
    gone = set(previous) - reported
    if gone:
        Certification.objects.filter(track=track, entity_ref__in=gone).delete()
    if rows:
        Certification.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["track", "entity_ref"],
            update_fields=["highest_level", "certified_at", "levels", "updated_at"],
        )


def take_turns(track):
    """Computations of one track's certifications take turns until their transactions end
    (PostgreSQL: an advisory lock per track). Otherwise two results arriving together
    would each compute without the other's, still uncommitted, and the later write would
    lose the earlier result. After the lock, reads see what the previous turn committed.
    SQLite runs one write transaction at a time anyway."""
    connection = connections[SoundcheckTrack.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Two int4 keys: ids past 2**31 share locks with others, which only costs waiting.
            key = track.pk % 2**31
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, key])


def certification(track, levels, entity, current, previous):
    """``entity``'s certification on ``track``, from ``levels`` (in order, as
    ``Level.objects.with_checks()`` loads them) and the ``current`` results."""
    rendered, highest, reached_at, certified_at, climbing = [], None, None, None, True
    for level in levels:
        checks, certified, latest = [], True, None
        for level_check in level.level_checks.all():
            check = level_check.check_definition
            result = current.get((check.pk, entity))
            state = result.effective_state if result else ResultState.NOT_REPORTED
            certified &= state in CERTIFYING_STATES
            if result and (latest is None or result.timestamp > latest):
                latest = result.timestamp
            checks.append(
                {
                    "id": check.slug,
                    "name": check.name,
                    "description": check.description,
                    "state": state,
                    "timestamp": iso_timestamp(result.timestamp) if result else None,
                    "details": result.details if result else None,
                }
            )
        if climbing and certified:
            highest = level.ordinal
            reached_at = max(filter(None, (reached_at, latest)), default=None)
        climbing &= certified
        rendered.append(
            {
                "ordinal": level.ordinal,
                "name": level.name,
                "description": level.description,
                "certified": certified,
                "checks": checks,
            }
        )
    if highest is not None:
        # The time it was reached; a later result that keeps it there does not move it.
        same = previous is not None and previous.highest_level == highest
        certified_at = previous.certified_at if same else reached_at
    return Certification(
        track=track,
        entity_ref=entity,
        highest_level=highest,
        certified_at=certified_at,
        levels=rendered,
    )


def preserved_state(result_fields):
    """The current state that an incoming ``error`` leaves in place
    (preserveStateOnError), or None when there is none or it is an error too."""
    latest = (
        CheckResult.objects.filter(
            check_definition=result_fields["check_definition"],
            entity_ref=result_fields["entity_ref"],
            scope=result_fields.get("scope", CERTIFYING_SCOPE),
        )
        .order_by("-timestamp", "-id")
        .values_list("effective_state", flat=True)
        .first()
    )
    return None if latest in (None, ResultState.ERROR) else latest


def iso_timestamp(value):
    """As the API writes every time (REST_FRAMEWORK's DATETIME_FORMAT)."""
    return DateTimeField().to_representation(value)


def refresh_for_result(result):
    """After ``result`` arrived: the certifications of its entity on every track that
    uses its check."""
    if result.scope != CERTIFYING_SCOPE:
        return
    for track in tracks_using([result.check_definition_id]):
        refresh(track, [result.entity_ref])


def refresh_for_checks(check_ids):
    """After checks changed (their names appear in certifications)."""
    for track in tracks_using(check_ids):
        refresh(track)


def tracks_using(check_ids):
    return SoundcheckTrack.objects.filter(
        pk__in=LevelCheck.objects.filter(check_definition__in=check_ids).values("track")
    )


def level_statuses(track):
    """The aggregate per level: how many entities passed it, failed it, reached it or a
    higher one, and reported nothing for it; two queries whatever the number of entities."""
    ordinals = list(
        Level.objects.filter(track=track).order_by("ordinal").values_list("ordinal", flat=True)
    )
    counts = {o: {"passed": 0, "failed": 0, "cumulatively-passed": 0, "not-reported": 0}
              for o in ordinals}  # fmt: skip
    total = 0
    rows = Certification.objects.filter(track=track).values_list("highest_level", "levels")
    for highest, levels in rows.iterator(chunk_size=2000):
        total += 1
        for level in levels:
            count = counts.get(level["ordinal"])
            if count is None:
                continue
            if level["certified"]:
                count["passed"] += 1
            elif any(check["state"] != ResultState.NOT_REPORTED for check in level["checks"]):
                count["failed"] += 1
            else:
                count["not-reported"] += 1
            if highest is not None and highest >= level["ordinal"]:
                count["cumulatively-passed"] += 1
    return {
        "number-of-entities": total,
        "status-by-level": [{"ordinal": o, **counts[o]} for o in ordinals],
    }
