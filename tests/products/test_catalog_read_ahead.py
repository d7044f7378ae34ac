"""import_catalog reads its files ahead in a second process (products.catalog.readahead):
the same rows, verdicts and report as when it reads them itself; the process ends with
the run, whatever ends it. Real forked processes, nothing mocked."""

import multiprocessing
import multiprocessing.connection
import os
import threading
import time

import pytest

from config.reporting import Report
from products.catalog import readahead
from products.catalog.formats import CsvReader, Row
from products.catalog.loader import CatalogLoader
from products.catalog.readahead import CHUNK, ReadAhead, fork_available
from tests.factories import default_organization
from tests.products.test_catalog_import import HEADER, album_rows, csv_text, run_failing, write

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not fork_available(), reason="processes are not forked here"),
]


def bad_catalog(tmp_path):
    """Good rows (more than a message of them) and rows each failing a rule: a reader's
    problem, a member's type, a model's field, a model's rule, a product's disagreement."""
    rows = [row for n in range(1, 120) for row in album_rows(n, tracks=5)]
    rows[3][HEADER.index("isrc-code")] = "not-an-isrc"
    rows[CHUNK + 1][HEADER.index("bpm")] = "fast"
    rows[CHUNK + 2][HEADER.index("track-number")] = "0"
    rows[-2][HEADER.index("product.name")] = "Another name"
    text = csv_text(rows) + "only,three,cells\n"
    return write(tmp_path, "catalog.csv", text)


NEVER_BEHIND, ALWAYS_BEHIND = 0, 10**9  # readahead.BEHIND: the child reads all, or none


@pytest.mark.parametrize(
    ("behind", "chunk"), [(NEVER_BEHIND, CHUNK), (ALWAYS_BEHIND, CHUNK), (2, 20)]
)  # (the last: messages of 20 rows, read by either process as their pace goes)
def test_a_file_read_ahead_gets_the_verdicts_and_report_it_gets_read_here(
    tmp_path, monkeypatch, behind, chunk
):
    """Whichever process reads a message's rows (the child while the loader is ahead,
    the loader while it is behind), the outcome is the same."""
    monkeypatch.setattr(readahead, "BEHIND", behind)  # (the child is forked: it sees it)
    monkeypatch.setattr(readahead, "CHUNK", chunk)
    path = bad_catalog(tmp_path)
    reports = {}
    for single_process in (True, False):
        report = tmp_path / f"report-{single_process}.jsonl"
        message, out, err = run_failing(
            path, dry_run=True, report=str(report), single_process=single_process
        )
        reports[single_process] = (message, out.split(" in ")[0], out.splitlines()[1:], err,
                                   report.read_text())  # fmt: skip
    assert reports[True] == reports[False]
    assert "5 row(s) failed" in reports[False][0]
    assert "tracks: 591 created" in reports[False][2][1]
    assert not multiprocessing.active_children()


@pytest.mark.parametrize(("behind", "read"), [(NEVER_BEHIND, True), (ALWAYS_BEHIND, False)])
def test_rows_come_read_while_the_loader_is_ahead_and_unread_while_it_is_behind(
    tmp_path, monkeypatch, behind, read
):
    monkeypatch.setattr(readahead, "BEHIND", behind)
    path = bad_catalog(tmp_path)
    loader = CatalogLoader(default_organization(), Report(None))
    rows = [row for row in ReadAhead(CsvReader(path), loader) if isinstance(row, Row)]
    assert len(rows) > CHUNK
    assert {row.track_read is not None for row in rows} == {read}
    assert {row.product_read is not None for row in rows} == {read}
    assert not multiprocessing.active_children()


def test_rows_come_read_once_the_loader_has_fallen_behind_and_in_order(tmp_path, monkeypatch):
    """The loader takes nothing for a while: the first messages come unread (it would
    have waited for them), then the child reads ahead; the rows come in the file's order."""
    monkeypatch.setattr(readahead, "CHUNK", 20)
    monkeypatch.setattr(readahead, "BEHIND", 2)
    path = bad_catalog(tmp_path)
    loader = CatalogLoader(default_organization(), Report(None))
    rows = iter(ReadAhead(CsvReader(path), loader))
    first = next(rows)
    time.sleep(1)  # (the child parses and sends the rest meanwhile)
    given = [first, *rows]
    assert [row.where for row in given] == [row.where for row in CsvReader(path)]
    read = [row.track_read is not None for row in given if isinstance(row, Row)]
    assert read[:40] == [False] * 40  # two messages, sent while none was taken
    assert all(read[60:])  # the loader two messages or more behind (it took the first)
    assert not multiprocessing.active_children()


def test_a_run_stopping_while_the_pipe_and_the_buffer_are_full_ends_the_child(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(readahead, "CHUNK", 5)
    monkeypatch.setattr(readahead, "AHEAD", 2)
    monkeypatch.setattr(readahead, "PIPE_SIZE", 4096)  # (the system's least: a page)
    path = bad_catalog(tmp_path)
    threads = threading.active_count()
    loader = CatalogLoader(default_organization(), Report(None))
    rows = iter(ReadAhead(CsvReader(path), loader))
    next(rows)
    time.sleep(1)  # the child fills the pipe, and the thread the buffer
    rows.close()
    assert not multiprocessing.active_children()
    assert threading.active_count() == threads


class ReceivingFailed(Exception):
    pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_failure_of_the_thread_receiving_is_raised_here_without_waiting(tmp_path, monkeypatch):
    """The thread receiving the messages fails (out of memory, say) while the child
    still has rows to send: an error, the child ended, no waiting for it."""

    def failing(connection, *args):
        raise ReceivingFailed

    monkeypatch.setattr(multiprocessing.connection.Connection, "recv_bytes", failing)
    monkeypatch.setattr(readahead, "CHUNK", 5)
    monkeypatch.setattr(readahead, "PIPE_SIZE", 4096)  # the child waits, the pipe full
    path = bad_catalog(tmp_path)
    loader = CatalogLoader(default_organization(), Report(None))
    with pytest.raises(RuntimeError, match="The process reading the file ended"):
        list(ReadAhead(CsvReader(path), loader))
    assert not multiprocessing.active_children()


def test_the_reading_process_ends_when_the_run_stops_early(tmp_path):
    path = bad_catalog(tmp_path)
    message, _, _ = run_failing(path, atomic=True, batch_size=2)
    assert message.startswith("A row failed")
    assert not multiprocessing.active_children()


class FailingReader(CsvReader):
    """A reader failing after its first rows, the way ``how`` says."""

    def __init__(self, path, how):
        super().__init__(path)
        self.how = how

    def rows(self, text):
        for number, row in enumerate(super().rows(text)):
            if number == CHUNK + 10:
                if self.how == "raise":
                    raise LookupError("a reader's own failure")
                if self.how == "raise unpicklable":
                    raise Unpicklable("a reader's own failure", 2)
                os._exit(3)  # the process killed, say
            yield row


class Unpicklable(Exception):
    def __init__(self, message, code):  # (unpickled, it is given one argument: fails)
        super().__init__(message)
        self.code = code


@pytest.mark.parametrize(
    ("how", "error", "says"),
    [
        ("raise", LookupError, "a reader's own failure"),
        ("raise unpicklable", RuntimeError, "Unpicklable: a reader's own failure"),
        ("die", RuntimeError, r"ended \(3\)"),
    ],
)
def test_a_failure_of_the_reading_process_is_raised_here(tmp_path, how, error, says):
    """Raised after the rows sent before it (the first message, written before the
    failure, whichever it is)."""
    path = bad_catalog(tmp_path)
    loader = CatalogLoader(default_organization(), Report(None))
    rows = ReadAhead(FailingReader(path, how), loader)
    read = []
    with pytest.raises(error, match=says):
        read.extend(rows)
    assert len(read) == CHUNK
    assert not multiprocessing.active_children()
