"""Small helpers that create catalog rows directly through the ORM for test setup."""

import itertools

from collections_app.models import Collection, CollectionTrack
from organizations.models import Membership, Organization
from products.models import Label, Language, Product
from soundcheck import certification
from soundcheck.models import Check, CheckResult, Level, LevelCheck, ResultState, SoundcheckTrack
from tracks.models import Track

_counter = itertools.count(1)
# Valid EAN-13 / UPC-A codes (check digits verified by python-stdnum).
UPCS = ["036000291452", "4006381333931", "9780306406157", "5901234123457", "0012345678905"]


def isrc(n):
    return f"ESA11{n % 10**7:07d}"  # year and designation code: 7 digits, whatever n


def default_organization():
    """The organization the tests' rows and tokens belong to unless they say otherwise."""
    return Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme"})[0]


def make_organization(**fields):
    n = next(_counter)
    fields.setdefault("slug", f"org-{n}")
    fields.setdefault("name", f"Organization {n}")
    return Organization.objects.create(**fields)


def add_member(user, organization=None, role="editor"):
    return Membership.objects.create(
        user=user, organization=organization or default_organization(), role=role
    )


def make_label(**fields):
    fields.setdefault("organization", default_organization())
    fields.setdefault("name", f"Label {next(_counter)}")
    return Label.objects.create(**fields)


def make_product(**fields):
    if "label" not in fields:
        fields["label"] = make_label()
    fields.setdefault("language", Language.objects.get(code="en"))
    fields.setdefault("name", f"Product {next(_counter)}")
    return Product.objects.create(**fields)


def make_track(**fields):
    if "product" not in fields:
        fields["product"] = make_product()
    n = next(_counter)
    fields.setdefault("title", f"Track {n}")
    fields.setdefault("track_number", n)
    fields.setdefault("volume_number", 1)
    fields.setdefault("isrc_code", isrc(n))
    fields.setdefault("artist", ["Artist"])
    fields.setdefault("audio_language", Language.objects.get(code="en"))
    return Track.objects.create(**fields)


def track_document(product, **attributes):
    """A valid create document for POST /api/v1/tracks."""
    n = next(_counter)
    attrs = {
        "title": "Track title",
        "track-number": n,
        "volume-number": 1,
        "isrc-code": isrc(n),
        "artist": ["Artist"],
        **attributes,
    }
    return {
        "data": {
            "type": "tracks",
            "attributes": attrs,
            "relationships": {
                "product": {"data": {"type": "products", "id": str(product.pk)}},
                "audio-language": {"data": {"type": "languages", "id": "en"}},
            },
        }
    }


def make_collection(**fields):
    fields.setdefault("organization", default_organization())
    fields.setdefault("title", f"Collection {next(_counter)}")
    return Collection.objects.create(**fields)


def make_collection_track(**fields):
    if "collection" not in fields:
        fields["collection"] = make_collection()
    fields.setdefault("file_name", f"track-{next(_counter)}.wav")
    return CollectionTrack.objects.create(**fields)


def make_webhook_endpoint(**fields):
    from webhooks.models import WebhookEndpoint

    fields.setdefault("organization", default_organization())
    fields.setdefault("url", f"https://hooks-{next(_counter)}.example.com/in")
    fields.setdefault("events", ["track.status-changed"])
    return WebhookEndpoint.objects.create(**fields)


def make_webhook_delivery(**fields):
    from webhooks.models import WebhookDelivery

    if "endpoint" not in fields:
        fields["endpoint"] = make_webhook_endpoint()
    fields.setdefault("event", "track.status-changed")
    fields.setdefault("message_id", f"msg_{next(_counter):032x}")
    fields.setdefault("body", "{}")
    return WebhookDelivery.objects.create(**fields)


def make_track_variant(**fields):
    """A variant row as the ORM stores it (no task, no file): for scoping and listing."""
    from collections_app.models import TrackVariant

    if "track" not in fields:
        fields["track"] = make_collection_track()
    fields.setdefault("codec", "mp3")
    return TrackVariant.objects.create(**fields)


def make_check(**fields):
    fields.setdefault("organization", default_organization())
    fields.setdefault("slug", f"check-{next(_counter)}")
    fields.setdefault("name", fields["slug"].replace("-", " ").capitalize())
    return Check.objects.create(**fields)


def make_soundcheck_track(checks=None, **fields):
    """A track with one level per check (ordinals 1, 2, ...); one new check by default."""
    fields.setdefault("organization", default_organization())
    fields.setdefault("slug", f"track-{next(_counter)}")
    fields.setdefault("name", fields["slug"].replace("-", " ").capitalize())
    fields.setdefault("description", "Make it better")
    fields.setdefault("owner_entity_ref", "group:default/platform")
    track = SoundcheckTrack.objects.create(**fields)
    for ordinal, check in enumerate(checks or [make_check(organization=track.organization)], 1):
        level = Level.objects.create(track=track, ordinal=ordinal, name=f"Level {ordinal}")
        LevelCheck.objects.create(level=level, track=track, check_definition=check, position=0)
    return track


def make_check_result(check=None, entity_ref="component:default/payments", **fields):
    """A result, and the certifications it changes (as the API computes them)."""
    check = check or make_soundcheck_track().levels.first().level_checks.first().check_definition
    fields.setdefault("state", ResultState.PASSED)
    fields.setdefault("effective_state", fields["state"])
    result = CheckResult.objects.create(check_definition=check, entity_ref=entity_ref, **fields)
    certification.refresh_for_result(result)
    return result
