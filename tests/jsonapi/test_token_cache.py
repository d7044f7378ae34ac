"""Bearer tokens' rows kept between requests (config/token_cache.py): kept only while
PostgreSQL can announce their changes, forgotten at once when anything they hold changes
in another connection, and after TOKEN_CACHE_SECONDS whatever happens."""

import hashlib
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from config import token_cache
from organizations.models import Membership, Organization, OrganizationApplication
from tests.client import JsonApiClient
from tests.factories import add_member

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's notifications"),
    pytest.mark.django_db(transaction=True),
]

TRACKS = "/api/v1/tracks"


@pytest.fixture(autouse=True)
def kept_for_a_minute(settings):
    settings.TOKEN_CACHE_SECONDS = 60


@pytest.fixture
def member(organization):
    user = get_user_model().objects.create_user("member", password="pw")
    add_member(user, organization, "viewer")
    return user


@pytest.fixture
def reader(member, make_token):
    """A reader of the member's read token (``reader.token``)."""
    token = make_token(member, "read")
    client = JsonApiClient(token)
    client.token = token
    return client


def token_reads(reader, url=TRACKS):
    """The response to ``url`` and how many times the request read the token's row."""
    with CaptureQueriesContext(connection) as captured:
        response = reader.get(url)
    reads = [q for q in captured if 'FROM "oauth2_provider_accesstoken"' in q["sql"]]
    return response, len(reads)


def warm(reader):
    """Two requests: the first starts listening, the second keeps the row it read."""
    assert [token_reads(reader)[1] for _ in range(2)] == [1, 1]


def elsewhere(change):
    """Runs ``change`` as another worker would: in another thread, on a connection of its
    own, committed."""
    failures = []

    def run():
        try:
            with transaction.atomic():
                change()
        except Exception as error:  # reported in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failures, failures


def the_token(reader):
    checksum = hashlib.sha256(reader.token.encode()).hexdigest()
    return AccessToken.objects.get(token_checksum=checksum)


def test_a_kept_row_answers_without_reading_the_token_again(reader):
    (first, *others), reads = zip(*(token_reads(reader) for _ in range(3)), strict=True)
    assert reads == (1, 1, 0)
    assert first.status_code == 200
    assert all(response.content == first.content for response in others)


def test_nothing_is_kept_by_default(reader, settings):
    settings.TOKEN_CACHE_SECONDS = 0
    assert [token_reads(reader)[1] for _ in range(4)] == [1, 1, 1, 1]


def test_nothing_is_kept_inside_a_transaction(reader):
    with transaction.atomic():
        assert [token_reads(reader)[1] for _ in range(3)] == [1, 1, 1]


def test_a_new_connection_starts_over(reader):
    warm(reader)
    connection.close()
    assert [token_reads(reader)[1] for _ in range(3)] == [1, 1, 0]


def test_an_unknown_token_is_read_every_time(db):
    stranger = JsonApiClient("not-a-token")
    for _ in range(3):
        response, reads = token_reads(stranger)
        assert (response.status_code, reads) == (401, 1)


def revoke(reader):
    return lambda: the_token(reader).revoke()


def deactivate(member):
    def change():
        member.is_active = False
        member.save()

    return change


def demote(member):
    """Removes the member from the organization: a token of its application then acts in
    an organization its user is no member of."""
    return lambda: Membership.objects.filter(user=member).delete()


def rebind(reader):
    """Binds the token's application to an organization its user is no member of."""

    def change():
        binding = OrganizationApplication.objects.get(application=the_token(reader).application)
        binding.organization = Organization.objects.create(name="Other", slug="other")
        binding.save()

    return change


@pytest.mark.parametrize(
    ("change", "status"),
    [(revoke, 401), (deactivate, 401), (demote, 403), (rebind, 403)],
    ids=["token revoked", "user deactivated", "membership deleted", "application bound elsewhere"],
)
def test_a_change_in_another_connection_applies_to_the_next_request(reader, member, change, status):
    warm(reader)
    assert token_reads(reader)[1] == 0
    target = member if change in (deactivate, demote) else reader
    elsewhere(change(target))
    response, reads = token_reads(reader)
    assert reads == 1
    assert response.status_code == status, response.document


def test_a_member_removed_through_the_relation_applies_at_once(reader, member, organization):
    warm(reader)
    elsewhere(lambda: organization.members.remove(member))
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (403, 1)


def test_a_change_rolled_back_keeps_the_row(reader, member):
    warm(reader)

    def rolled_back():
        with transaction.atomic():
            the_token(reader).revoke()
            transaction.set_rollback(True)

    elsewhere(rolled_back)
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (200, 0)


def test_a_change_no_signal_announces_applies_after_the_time_limit(reader, monkeypatch):
    """``QuerySet.update()`` sends no signal: the kept row serves until it is too old."""
    warm(reader)
    elsewhere(lambda: AccessToken.objects.filter(pk=the_token(reader).pk).update(scope="write"))
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (200, 0)

    now = token_cache.time.monotonic()
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now + 60)
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (403, 1)
