"""``manage.py db_worker``: django-tasks-db's worker, which also recovers the processing
runs of workers that died (collections_app/processing.py).

A killed worker leaves its task "running" for ever: the database backend does not know
it stopped. Every worker therefore looks, in a thread of its own, for runs that have been
going for longer than PROCESSING_TIMEOUT_SECONDS, and retries or ends them. Several
workers may do so at once: each run is taken by one (``SELECT ... FOR UPDATE SKIP
LOCKED``).
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands import db_worker

from collections_app.processing import recover_stalled

logger = logging.getLogger("collections_app.processing")


def recover_periodically(stop, interval):
    while not stop.wait(interval):
        close_old_connections()
        try:
            recover_stalled()
        except Exception:  # the next round tries again; the worker keeps working
            logger.exception("Recovering stalled processing failed")
    connection.close()


class Command(db_worker.Command):
    help = db_worker.Command.help + ", recovering the runs of workers that died"

    def handle(self, *args, **options):
        stop = threading.Event()
        interval = max(1.0, settings.PROCESSING_TIMEOUT_SECONDS / 10)
        recovery = threading.Thread(
            target=recover_periodically, args=(stop, interval), daemon=True, name="recovery"
        )
        recovery.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
