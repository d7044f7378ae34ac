"""Bearer tokens' rows kept between requests, until PostgreSQL says they changed.

Every API request reads its token with the application, the users, the bound organization
and the acting user's role (``config.authentication``): a round trip to the database
that, for one resource, is a third of the request. With ``TOKEN_CACHE_SECONDS`` set, a
worker keeps the rows it read, per thread and connection, for that many seconds at most.

Revocation still takes effect within milliseconds. Saving or deleting anything such a
row holds (an access token, an application, a user, an organization, a membership, an
application's organization binding), from any process that shares the database, sends
``NOTIFY tracks_tokens``, which PostgreSQL delivers when that transaction commits (and
never if it rolls back). A connection that keeps rows ``LISTEN``s on that channel; before
it uses a kept row it reads, without waiting, what has arrived on its socket, and forgets
every kept row at the first notification. Only a request that reaches a worker in the
instant between the commit and the notification's arrival on its socket (well under a
millisecond on one host) is still answered from the kept row. A row whose read a
notification overtook is not kept. The time limit bounds what no notification
announces: changes made with raw SQL or ``QuerySet.update()``.

Rows are used only in autocommit, outside any transaction: a listening session receives
notifications only between transactions, and a request inside one (a test's, an
operations request's) may see rows other connections do not. Only PostgreSQL has
notifications; elsewhere nothing is kept. Tokens that match nothing are never kept.
"""

import threading
import time

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_save
from oauth2_provider.models import get_access_token_model, get_application_model

CHANNEL = "tracks_tokens"
MAX_ROWS = 10_000  # per thread and database: all forgotten at once when full
_NEW_ROWS_UNSEEN = set()  # see announce_change


class KeptRows:
    """Rows by key, kept per thread and database connection until a notification on
    ``CHANNEL``, a new connection or ``TOKEN_CACHE_SECONDS``."""

    def __init__(self):
        self._local = threading.local()

    def get(self, connection, key):
        """``(row, since)``: the row kept for ``key`` on ``connection`` or None, and what
        ``put`` needs to keep the row read instead."""
        listening = self._listening(connection)
        if listening is None:
            return None, None
        try:
            listening.receive()
        except Exception:  # a broken connection: the query that follows will say so
            self._forget(connection)
            return None, None
        since = listening.notifications
        kept = listening.rows.get(key)
        if kept is None:
            return None, since
        row, kept_at = kept
        if time.monotonic() - kept_at >= settings.TOKEN_CACHE_SECONDS:
            del listening.rows[key]
            return None, since
        return row, since

    def put(self, connection, key, row, since):
        """Keep ``row``, read for ``key`` after ``get`` gave ``since``, if ``connection``
        can be told when it changes and nothing was announced while it was read (psycopg
        hands over a notification that arrives with the query's answer before the row)."""
        if settings.TOKEN_CACHE_SECONDS <= 0 or not _usable(connection):
            return
        listening = self._listening(connection)
        if listening is None:
            # ``row`` was read before this connection listened: a change between the two
            # would go unannounced. Rows are kept from the next read on.
            self._listen(connection)
            return
        if listening.notifications != since:
            return
        if len(listening.rows) >= MAX_ROWS:
            listening.rows.clear()
        listening.rows[key] = (row, time.monotonic())

    def _listening(self, connection):
        if not _usable(connection):
            return None
        listening = self._local.__dict__.get(connection.alias)
        if listening is None or listening.connection is not connection.connection:
            return None
        return listening

    def _listen(self, connection):
        listening = _Listening(connection.connection)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self._local.__dict__[connection.alias] = listening

    def _forget(self, connection):
        self._local.__dict__.pop(connection.alias, None)


class _Listening:
    """A psycopg connection listening on ``CHANNEL`` and the rows kept while it does."""

    def __init__(self, connection):
        self.connection = connection
        self.rows = {}
        self.notifications = 0  # received so far
        connection.add_notify_handler(self.notified)

    def receive(self):
        """Reads what has arrived on the socket, without waiting; psycopg hands each
        notification to ``notified``, as it does for those read along with a query."""
        pgconn = self.connection.pgconn
        pgconn.consume_input()
        while notification := pgconn.notifies():
            pgconn.notify_handler(notification)

    def notified(self, notification):
        if notification.channel == CHANNEL:
            self.notifications += 1
            self.rows.clear()


def _usable(connection):
    return (
        connection.vendor == "postgresql"
        and connection.connection is not None
        and not connection.in_atomic_block
    )


def announce_change(sender, using, created=False, update_fields=None, **kwargs):
    """Tells every listening connection, when this transaction commits, that what a kept
    token's row holds may have changed. Not for a new token, application, user or
    organization (no kept row holds one yet: a token that matches nothing is never kept),
    nor for a login's ``last_login``: announcing those would empty every worker's rows at
    each token issued."""
    if created and sender in _NEW_ROWS_UNSEEN:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    connection = connections[using]
    if connection.vendor != "postgresql" or _announced_in_transaction(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {CHANNEL}")
    if connection.in_atomic_block:
        connection.on_commit(_announced)


def _announced():
    """Marks, among a transaction's on-commit callbacks, that it has announced a change:
    one ``NOTIFY`` is enough for a transaction (a user deleted with thousands of tokens).
    Django drops the mark with the callbacks of a savepoint rolled back, as PostgreSQL
    drops that savepoint's ``NOTIFY``."""


def _announced_in_transaction(connection):
    return connection.in_atomic_block and any(
        callback is _announced for _, callback, _ in connection.run_on_commit
    )


def announce_members_change(sender, action, using, **kwargs):
    if action.startswith("post_"):
        announce_change(sender, using)


def announce_changes():
    """Connects ``announce_change`` to the saves and deletes of every model a token's
    row is read from (``tenancy.with_bound_organization``)."""
    organization = apps.get_model("organizations", "Organization")
    _NEW_ROWS_UNSEEN.update(
        [get_access_token_model(), get_application_model(), get_user_model(), organization]
    )
    models = [
        *_NEW_ROWS_UNSEEN,
        apps.get_model("organizations", "Membership"),
        apps.get_model("organizations", "OrganizationApplication"),
    ]
    for model in models:
        post_save.connect(announce_change, sender=model, dispatch_uid=f"{CHANNEL}.save")
        post_delete.connect(announce_change, sender=model, dispatch_uid=f"{CHANNEL}.delete")
    members = organization.members.through
    m2m_changed.connect(announce_members_change, sender=members, dispatch_uid=f"{CHANNEL}.members")
