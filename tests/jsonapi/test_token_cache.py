"""Bearer tokens' rows kept between requests (config/token_cache.py): kept only while
PostgreSQL can announce their changes, forgotten as soon as the announcement of a change
in another connection arrives (PostgreSQL delivers it within milliseconds of the commit;
the tests wait for it, as a worker's next request would), and after TOKEN_CACHE_SECONDS
whatever happens."""

import hashlib
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from config import token_cache
from config.authentication import _token_query
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


def listening():
    """This connection's listening state (``token_cache._Listening``)."""
    return _token_query().kept._listening(connection)


def delivered(since, timeout):
    """Whether a notification after the first ``since`` arrives within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        listening().receive()
        if listening().notifications > since or time.monotonic() > deadline:
            return listening().notifications > since
        time.sleep(0.002)


def elsewhere(change, announced=True):
    """Runs ``change`` as another worker would: in another thread, on a connection of its
    own, committed; then waits for its announcement (or, if it makes none, long enough to
    see that none comes)."""
    since = listening().notifications
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
    assert delivered(since, timeout=5 if announced else 0.2) is announced


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

    elsewhere(rolled_back, announced=False)
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (200, 0)


def test_a_change_no_signal_announces_applies_after_the_time_limit(reader, monkeypatch):
    """``QuerySet.update()`` sends no signal: the kept row serves until it is too old."""
    warm(reader)
    elsewhere(
        lambda: AccessToken.objects.filter(pk=the_token(reader).pk).update(scope="write"),
        announced=False,
    )
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (200, 0)

    now = token_cache.time.monotonic()
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now + 60)
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (403, 1)


def test_a_change_announced_while_the_row_is_read_is_not_missed(reader):
    """A notification arriving with the token query's answer is handed over before the row:
    the row read before the change is not kept."""
    warm(reader)
    the_token(reader).save()  # kept rows forgotten: the next request reads the token

    def read_slowly(execute, sql, params, many, context):
        if 'FROM "oauth2_provider_accesstoken"' in sql:
            threading.Timer(0.1, lambda: elsewhere_now(revoke(reader))).start()
            sql = f"SELECT * FROM ({sql}) AS token CROSS JOIN pg_sleep(0.4)"
        return execute(sql, params, many, context)

    with connection.execute_wrapper(read_slowly):
        response, reads = token_reads(reader)
    assert (response.status_code, reads) == (200, 1)  # read before the revoke committed
    checksum = hashlib.sha256(reader.token.encode()).hexdigest()
    assert not AccessToken.objects.filter(token_checksum=checksum).exists()
    response, reads = token_reads(reader)
    assert (response.status_code, reads) == (401, 1)


def elsewhere_now(change):
    try:
        with transaction.atomic():
            change()
    finally:
        connections.close_all()


def test_new_tokens_and_logins_keep_the_rows(reader, member, make_token):
    """Nothing a kept row holds changes when a token or a user is created or a user logs
    in: those are not announced, so issuing tokens does not empty every worker's rows."""
    warm(reader)
    elsewhere(lambda: make_token(member, "read", organization=None), announced=False)
    elsewhere(lambda: get_user_model().objects.create_user("newcomer"), announced=False)
    elsewhere(lambda: member.save(update_fields=["last_login"]), announced=False)
    assert token_reads(reader)[1] == 0


def test_a_transaction_announces_once(reader, member, make_token):
    """A user deleted with their tokens: one NOTIFY for the transaction, not one per row;
    a savepoint rolled back takes its announcement with it, so a later change in the same
    transaction announces again."""
    warm(reader)
    for _ in range(5):
        make_token(member, "read")
    since = listening().notifications
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        try:
            with transaction.atomic():
                the_token(reader).revoke()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert AccessToken.objects.filter(user=member).count() == 6
        member.delete()
    notifies = [query for query in captured if query["sql"].startswith("NOTIFY")]
    assert len(notifies) == 2  # the savepoint's, rolled back, and the deletion's
    assert delivered(since, timeout=5)
    assert token_reads(reader)[0].status_code == 401
