"""Putting right what a killed worker left unfinished.

A worker that dies mid-task leaves the task "running" for ever: django-tasks' database
backend cannot know it stopped. Each app that runs tasks registers a function here that
finds such work and retries or ends it; every worker (``manage.py db_worker``) calls them
periodically. They must be safe to run in several workers at once (take rows with
``SELECT ... FOR UPDATE SKIP LOCKED``).
"""

import logging

logger = logging.getLogger(__name__)
_recoveries = []


def register(function):
    _recoveries.append(function)
    return function


def recover_all():
    for recover in _recoveries:
        try:
            recover()
        except Exception:  # the next round tries again; the other recoveries still run
            logger.exception("Recovery %s failed", recover.__qualname__)
