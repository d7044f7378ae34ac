"""File storage whose writes follow the database transaction that made them.

A file is saved before the row that names it is committed; if that write then fails (a
validation error after the save, a constraint refused at COMMIT, a concurrent delete),
the row is rolled back and the file would stay behind, stored for nothing. Writes run in
``storage.atomic()`` instead of ``transaction.atomic()``: the files a
``TransactionalStorageMixin`` storage saves inside it are deleted when it rolls back.

Any storage class takes the mixin (``class S3Storage(TransactionalStorageMixin,
storages.backends.s3.S3Storage)``); ``FileSystemStorage`` below is the default. Saves
outside ``atomic()`` (the admin, commands) are left as Django makes them.
"""

import logging
from contextvars import ContextVar

from django.core.files import storage
from django.db import transaction

logger = logging.getLogger(__name__)

_saved = ContextVar("saved_files", default=None)  # [(storage, name)] of the innermost atomic()


class TransactionalStorageMixin:
    def _save(self, name, content):
        name = super()._save(name, content)
        saved = _saved.get()
        if saved is not None:
            saved.append((self, name))
        return name


class FileSystemStorage(TransactionalStorageMixin, storage.FileSystemStorage):
    pass


class atomic:  # lower case: used like transaction.atomic
    """``transaction.atomic()`` that deletes the files saved inside it if it rolls back:
    by an exception, by ``transaction.set_rollback(True)``, or by a COMMIT the database
    refuses (deferred constraints). Nested in another, it leaves them to the outer one."""

    def __init__(self, using=None):
        self.using = using

    def __enter__(self):
        self.files = []
        self.token = _saved.set(self.files)
        self.atomic = transaction.atomic(using=self.using)
        try:
            self.atomic.__enter__()
        except BaseException:
            _saved.reset(self.token)
            raise

    def __exit__(self, exc_type, exc_value, traceback):
        rolled_back = exc_type is not None or transaction.get_rollback(self.using)
        try:
            self.atomic.__exit__(exc_type, exc_value, traceback)
        except BaseException:
            rolled_back = True
            raise
        finally:
            _saved.reset(self.token)
            if rolled_back:
                _delete(self.files)
            elif (outer := _saved.get()) is not None:
                outer.extend(self.files)


def _delete(files):
    for file_storage, name in files:
        try:
            file_storage.delete(name)
        except OSError:  # the answer stands; the file is named in the log for cleanup
            logger.exception("Could not delete %s after a rollback", name)
