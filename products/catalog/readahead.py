"""Reading a catalog file ahead, in a second process, while this one validates and writes.

About half of a row's work needs no database: parsing the file, reading each member with the
API serializer's field and judging the values read by the models' fields
(``CatalogLoader.read_members``). A child process does it for the rows ahead, while this
process matches them with the stored rows, validates the rest by their models (the
relations, ``clean()``, the check constraints, the stored values) and writes them
(PostgreSQL working beside both). Rows come back in the file's order, with their
verdicts, through a pipe the child writes to itself (``Channel``): memory stays flat, and
what a row gets is what it would get read here (a verdict depends on the value alone,
see ``config.bulk``).

The child is forked: it inherits the configured Django, the loader and the open file,
never touches the database connection it inherits, and ends with ``os._exit``
(multiprocessing's way), so that connection is not closed from it. Where processes are
not forked (``fork_available``), the caller reads the file itself.
"""

import dataclasses
import multiprocessing
import operator
import pickle

from .formats import Row

CHUNK = 500  # rows per message (about 125 KB)
PIPE_SIZE = 1 << 20  # bytes the pipe holds: 8 messages, where the system allows it
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
        receiving, sending = context.Pipe(duplex=False)
        _enlarge(sending)
        child = context.Process(target=self._read, args=(sending,), daemon=True)
        child.start()
        sending.close()  # the child holds the only writing end: its end is this end of file
        self.reader.close()  # the child's copy of the file is the one read
        try:
            while True:
                rows, position, failure = _receive(receiving, child)
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
            receiving.close()

    def _read(self, channel):
        """In the child: every row, its members read, in messages of ``CHUNK`` rows; then
        ``(None, ...)``, or the exception that stopped the reading.

        The messages are written by this thread, not by a ``multiprocessing.Queue``'s
        feeder thread: that thread waited for the reading thread to let go of the GIL
        (up to 5 ms, ``sys.getswitchinterval()``) at every piece of a message the pipe
        took, and this process for it, a third of a load's time."""
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
                    _send(channel, (chunk, self.reader.position(), None))
                    chunk = []
            if chunk:
                _send(channel, (chunk, self.reader.position(), None))
            _send(channel, (None, self.reader.position(), None))
        except Exception as exc:  # given to the parent, which raises it
            _send(channel, (None, None, exc))
        channel.close()


def _enlarge(channel):
    """Let the pipe hold ``PIPE_SIZE`` bytes (Linux; 64 KB otherwise), so that a message
    is written at once and the child reads on while this process is busy."""
    try:
        import fcntl

        fcntl.fcntl(channel.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # (another system, or a lower limit)
        pass


def _send(channel, message):
    try:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an exception that cannot be pickled, say
        data = pickle.dumps((None, None, RuntimeError(f"The reading failed: {exc!r}")))
    channel.send_bytes(data)


def _receive(channel, child):
    """The child's next message; an error if it ended without one (killed, say)."""
    try:
        return pickle.loads(channel.recv_bytes())
    except EOFError:
        child.join()
        message = f"The process reading the file ended ({child.exitcode})."
        raise RuntimeError(message) from None
