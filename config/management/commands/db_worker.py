"""``manage.py db_worker``: django-tasks-db's worker, which also recovers the work of
workers that died (config/recovery.py: processing runs, variant runs, webhook attempts).

Every worker runs the registered recoveries in a thread of its own, every tenth of
PROCESSING_TIMEOUT_SECONDS (at least every second).
"""

import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands import db_worker

from config.recovery import recover_all


def recover_periodically(stop, interval):
    while not stop.wait(interval):
        close_old_connections()
        recover_all()
    connection.close()


class Command(db_worker.Command):
    help = db_worker.Command.help + ", recovering the work of workers that died"

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
