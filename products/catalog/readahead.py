"""Reading a catalog file ahead, in a second process, while this one validates and writes.

About half of a row's work needs no database: parsing the file, reading each member with the
API serializer's field and judging the values read by the models' fields
(``CatalogLoader.read_members``). A child process does it for the rows ahead, while this
process matches them with the stored rows, validates the rest by their models (the
relations, ``clean()``, the check constraints, the stored values) and writes them
(PostgreSQL working beside both). Rows come back in the file's order, with their
verdicts, through a bounded queue: memory stays flat, and what a row gets is what it
would get read here (a verdict depends on the value alone, see ``config.bulk``).

The child is forked: it inherits the configured Django, the loader and the open file,
never touches the database connection it inherits, and ends with ``os._exit``
(multiprocessing's way), so that connection is not closed from it. Where processes are
not forked (``fork_available``), the caller reads the file itself.
"""

import dataclasses
import multiprocessing
import operator
import queue

from .formats import Row

CHUNK = 500  # rows per message
AHEAD = 8  # messages the child may be ahead of this process (4,000 rows)
# A row travels as the tuple of its fields: unpickling a dataclass with slots costs
# several times as much.
_fields = operator.attrgetter(*(field.name for field in dataclasses.fields(Row)))


def fork_available():
    return "fork" in multiprocessing.get_all_start_methods()


class ReadAhead:
    """``reader``'s rows (a ``formats.Reader``), each with its members read by
    ``loader``, from a child process; ``position()`` is that of the rows given so far."""

    def __init__(self, reader, loader):
        self.reader, self.loader = reader, loader
        self.path, self.size = reader.path, reader.size
        self._position = 0

    def position(self):
        return self._position

    def __iter__(self):
        context = multiprocessing.get_context("fork")
        channel = context.Queue(AHEAD)
        child = context.Process(target=self._read, args=(channel,), daemon=True)
        child.start()
        self.reader.close()  # the child's copy of the file is the one read
        try:
            while True:
                rows, position, failure = _receive(channel, child)
                if failure is not None:
                    raise failure
                if rows is None:
                    return
                self._position = position
                for row in rows:
                    yield Row(*row) if type(row) is tuple else row
        finally:
            if child.is_alive():
                child.terminate()  # this process stopped early (--atomic, an error)
            child.join()
            channel.close()

    def _read(self, channel):
        """In the child: every row, its members read, in messages of ``CHUNK`` rows; then
        ``(None, ...)``, or the exception that stopped the reading."""
        try:
            chunk, previous = [], None
            for row in self.reader:
                if isinstance(row, Row):
                    if previous is not None and row.product == previous.product:
                        # One product, many tracks: read once, and pickled once a message.
                        row.product = previous.product
                    self.loader.read_members(row)
                    previous = row
                    chunk.append(_fields(row))
                else:
                    chunk.append(row)  # a reader's problem
                if len(chunk) >= CHUNK:
                    channel.put((chunk, self.reader.position(), None))
                    chunk = []
            if chunk:
                channel.put((chunk, self.reader.position(), None))
            channel.put((None, self.reader.position(), None))
        except Exception as exc:  # given to the parent, which raises it
            channel.put((None, None, exc))
        channel.close()
        channel.join_thread()


def _receive(channel, child):
    """The child's next message; an error if it ended without one (killed, say)."""
    while True:
        try:
            return channel.get(timeout=1)
        except queue.Empty:
            if not child.is_alive():
                try:
                    return channel.get(timeout=1)
                except queue.Empty:
                    message = f"The process reading the file ended ({child.exitcode})."
                    raise RuntimeError(message) from None
