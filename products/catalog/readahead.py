"""Reading a catalog file ahead, in a second process, while this one validates and writes.

About half of a row's work needs no database: parsing the file, reading each member with the
API serializer's field and judging the values read by the models' fields
(``CatalogLoader.read_members``). A child process does it for the rows ahead, while this
process matches them with the stored rows, validates the rest by their models (the
relations, ``clean()``, the check constraints, the stored values) and writes them
(PostgreSQL working beside both). When this process is about to run out of rows, the
child sends those it parses unread, for this process to read: neither waits for the
other while there is work.
Rows come back in the file's order, with their verdicts (or none, to read here),
through a pipe, which a thread of this process empties into a bounded buffer
(``Messages``): memory stays flat, and what a row gets is what it would get read here (a
verdict depends on the value alone, see ``config.bulk``).

The child is forked: it inherits the configured Django, the loader and the open file,
never touches the database connection it inherits, and ends with ``os._exit``
(multiprocessing's way), so that connection is not closed from it. Where processes are
not forked (``fork_available``), the caller reads the file itself.
"""

import dataclasses
import multiprocessing
import operator
import pickle
import queue
import threading
import traceback

from .formats import Row

CHUNK = 500  # rows per message (about 125 KB)
PIPE_SIZE = 1 << 20  # bytes the pipe holds: 8 messages, where the system allows it
AHEAD = 32  # messages received ahead of the rows given (16,000 rows, about 4 MB)
# Messages this process has yet to take, below which the child sends the rows it has
# parsed unread, for this process to read (``ReadAhead._read``).
BEHIND = 6  # (a batch takes about four)
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
        taken = context.Value("q", 0, lock=False)  # messages taken (this process writes it)
        child = context.Process(target=self._read, args=(sending, receiving, taken), daemon=True)
        messages = None
        try:
            _enlarge(sending)
            child.start()
            sending.close()  # the child holds the only writing end: its end is our end of file
            self.reader.close()  # the child's copy of the file is the one read
            messages = Messages(receiving)
            while True:
                rows, position, failure = messages.next(child)
                taken.value += 1
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
            if child.pid is not None:
                child.join()
            sending.close()
            if messages is not None:
                messages.close()
            else:
                receiving.close()

    def _read(self, channel, receiving, taken):
        """In the child: every row, in messages of ``CHUNK`` rows, most with their members
        read; then ``(None, ...)``, or the exception that stopped the reading.

        A message's rows are read here while the loader has ``BEHIND`` messages or more
        not ``taken``; with fewer it will soon wait for this process, so they go unread
        and the loader reads them (``CatalogLoader.read_members``): of the two processes,
        the one that would wait does the work.

        The messages are written by this thread, not by a ``multiprocessing.Queue``'s
        feeder thread: that thread waited for the reading thread to let go of the GIL
        (up to 5 ms, ``sys.getswitchinterval()``) at every piece of a message the pipe
        took, and this process for it, a third of a load's time."""
        receiving.close()  # (should the loader die, writing fails rather than waits)
        try:
            chunk, previous, sent = [], None, 0
            for row in self.reader:
                if isinstance(row, Row):
                    if previous is not None and row.product == previous.product:
                        # One product, many tracks: read once, and pickled once a message.
                        row.product = previous.product
                    previous = row
                chunk.append(row)  # (or a reader's problem)
                if len(chunk) >= CHUNK:
                    self._send(channel, chunk, ahead=sent - taken.value >= BEHIND)
                    chunk, sent = [], sent + 1
            if chunk:
                self._send(channel, chunk, ahead=sent - taken.value >= BEHIND)
            _send(channel, (None, self.reader.position(), None))
        except Exception as exc:  # given to the parent, which raises it
            _send(channel, (None, None, _transferable(exc)))
        channel.close()

    def _send(self, channel, chunk, ahead):
        if ahead:
            for row in chunk:
                if isinstance(row, Row):
                    self.loader.read_members(row)
        rows = [_fields(row) if isinstance(row, Row) else row for row in chunk]
        _send(channel, (rows, self.reader.position(), None))


def _enlarge(channel):
    """Let the pipe hold ``PIPE_SIZE`` bytes (Linux; 64 KB otherwise), so that a message
    is written at once and the child reads on while this process is busy."""
    try:
        import fcntl

        fcntl.fcntl(channel.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # (another system, or a lower limit)
        pass


def _send(channel, message):
    channel.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _transferable(exc):
    """``exc``, or a ``RuntimeError`` telling it where it would not come back from a
    pickle as it is (an exception whose ``__init__`` takes other arguments, say)."""
    try:
        pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))
    except Exception:
        trace = "".join(traceback.format_exception(exc))
        return RuntimeError(f"The reading failed: {type(exc).__name__}: {exc}\n{trace}")
    return exc


class Messages:
    """The child's messages, received from ``channel`` by a thread of their own as they
    come, up to ``AHEAD`` of those taken (``next``).

    This process takes rows a batch at a time, then validates and writes them while the
    pipe fills; once it is full the child waited, though the rows it would have read
    meanwhile were soon wanted. The thread waits on the pipe without the GIL.
    """

    def __init__(self, channel):
        self.channel = channel
        self._buffer = queue.Queue(AHEAD)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="read-ahead", daemon=True)
        self._thread.start()

    def next(self, child):
        """The next message; an error if the child ended without one (killed, say)."""
        data = self._buffer.get()
        if data is None:  # (the child ended, or the thread receiving failed: not waited)
            child.join(timeout=1)
            message = f"The process reading the file ended ({child.exitcode})."
            raise RuntimeError(message)
        return pickle.loads(data)

    def close(self):
        """Stop receiving (the child has ended) and close the channel."""
        self._closed.set()
        self._thread.join()
        self.channel.close()

    def _receive(self):
        data = b""
        try:
            while data is not None and not self._closed.is_set():
                try:
                    data = self.channel.recv_bytes()
                except (EOFError, OSError):  # the child ended, sending or not
                    data = None
                self._put(data)
        finally:
            if data is not None:  # ended otherwise (a MemoryError, say): next() stops
                self._put(None)

    def _put(self, data):
        while not self._closed.is_set():
            try:
                self._buffer.put(data, timeout=0.1)
                return
            except queue.Full:
                continue
