"""import_catalog outside a transaction on PostgreSQL writes each batch behind: in a thread,
on a connection of its own, while it validates the next batch (config.bulk.WriteBehind).
A load written behind gets the rows, counts and report a load written in turn gets; a
batch reading what the batch being written writes waits for it. Real threads and
connections, nothing mocked."""

import contextlib
import io
import sys
import threading
import time

import pytest
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config.bulk import WriteBehind
from config.reporting import Report
from products.catalog.formats import CsvReader
from products.catalog.loader import CatalogLoader
from products.models import Product
from tests.factories import default_organization
from tests.products.test_catalog_import import (
    HEADER,
    album_rows,
    csv_text,
    isrc,
    load,
    run_failing,
    write,
)
from tracks.models import Track

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="batches are written behind on PostgreSQL"
    ),
]


def test_batches_are_written_behind_outside_transactions_only():
    writer = WriteBehind.for_load()
    assert writer is not None
    writer.close()
    with transaction.atomic():  # --dry-run, --atomic: a load's reads see its own writes
        assert WriteBehind.for_load() is None


def test_the_writer_gets_the_gil_sooner_while_it_is_open():
    interval = sys.getswitchinterval()
    writer = WriteBehind.for_load()
    try:
        assert sys.getswitchinterval() == WriteBehind.SWITCH_INTERVAL < interval
    finally:
        writer.close()
    assert sys.getswitchinterval() == interval


def catalog(tmp_path):
    """Batches of 3 rows (one product each, or up to 6 rows of one product): a product
    straddling two batches, one coming back later with another label created meanwhile,
    a bad row and a product disagreeing with itself."""
    rows = []
    for n in range(1, 7):
        rows += album_rows(n, tracks=3)
    rows += album_rows(7, tracks=8)  # 6 rows, then 2 in the next batch
    rows[10][HEADER.index("bpm")] = "fast"  # product 4's second track
    rows += album_rows(8, tracks=3, label="Later Records")  # a new label...
    rows += album_rows(1, tracks=3, label="Later Records")  # ...given to a stored product
    rows += album_rows(9, tracks=1) + album_rows(9, tracks=1, **{"product.name": "Other"})
    return write(tmp_path, "catalog.csv", csv_text(rows))


def stored():
    products = sorted(Product.objects.values_list("upc_code", "name", "label__name"))
    tracks = sorted(
        Track.objects.values_list("product__upc_code", "isrc_code", "title", "track_number")
    )
    return products, tracks


def test_a_load_written_behind_gets_what_a_load_written_in_turn_gets(tmp_path):
    path = catalog(tmp_path)
    outcomes = []
    for behind in (False, True):
        report = tmp_path / f"report-{behind}.jsonl"
        with contextlib.nullcontext() if behind else transaction.atomic():
            threads = set(threading.enumerate())
            message, out, err = run_failing(path, batch_size=3, report=str(report))
            outcomes.append((message, out.split(" in ")[0], out.splitlines()[1:], err,
                             report.read_text(), stored()))  # fmt: skip
            assert set(threading.enumerate()) == threads  # the writer's thread is gone
            if not behind:
                transaction.set_rollback(True)
    assert outcomes[0] == outcomes[1]
    message, _, counts, err, _, (products, tracks) = outcomes[1]
    assert message == "2 row(s) failed (reported above); the rest were loaded."
    assert counts[:3] == [
        "  products: 9 created, 1 updated, 1 unchanged",  # product 7, in its second batch
        "  tracks: 29 created, 0 updated, 3 unchanged",
        "  labels: 2 created",
    ]
    assert err.count("\n") == 2 and "line 12: /bpm: Must be a number." in err
    assert (products[0][0], products[0][2]) == (album_rows(1)[0][0], "Later Records")
    assert len(tracks) == 29


def loader_reporting():
    report = io.StringIO()
    command = type("Command", (), {"stdout": io.StringIO(), "stderr": OutputWrapper(report)})()
    return CatalogLoader(default_organization(), Report(command)), report


def backends():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("stopped", [False, True])
def test_a_batch_refused_by_the_database_behind_is_written_row_by_row(tmp_path, stopped):
    """As in test_catalog_import, a track stored meanwhile takes a position: the batch
    written behind is refused, its rows are written one by one in the writer's thread,
    and what it refused is reported once the loader has waited for it; ``stopped``: the
    load was stopped (an exception) while the batch was written, which commits all the
    same and is reported as the writer closes. The first track's title changes: it is
    saved on its own too, keeping the time it was created at."""
    load(write(tmp_path, "first.csv", csv_text(album_rows(1, tracks=1))))
    first = Track.objects.get()
    rows = album_rows(1, tracks=3)
    rows[0][HEADER.index("title")] = "Song 1.1, remastered"
    path = write(tmp_path, "more.csv", csv_text(rows))
    loader, report = loader_reporting()
    groups, good, failures = loader.validate_batch(list(CsvReader(path)))
    assert failures == []
    Track.objects.create(product=Product.objects.get(), title="Meanwhile", track_number=3,
                         volume_number=1, isrc_code=isrc(999), artist=["Other"],
                         audio_language_id="en")  # fmt: skip
    loader.writer = WriteBehind.for_load()
    try:
        loader.write_batch(groups, good)
        assert report.getvalue() == ""  # not yet counted
        if not stopped:
            loader.written()
    finally:
        loader.stop_writing()

    assert report.getvalue() == (
        f"{path}: line 4: /isrc-code: Track with this Product, Volume number and Track number "
        "already exists.\n"
    )
    assert loader.counts["rows failed"] == 1
    assert (loader.counts["tracks created"], loader.counts["tracks updated"]) == (1, 1)
    assert sorted(Track.objects.values_list("track_number", "title")) == [
        (1, "Song 1.1, remastered"),
        (2, "Song 1.2"),
        (3, "Meanwhile"),
    ]
    updated = Track.objects.get(pk=first.pk)
    assert updated.created_at == first.created_at and updated.updated_at > first.updated_at


@pytest.mark.parametrize("failing", ["writer", "reader"])
def test_a_load_stopped_by_an_error_leaves_no_thread_nor_connection(tmp_path, failing):
    """An error in the writer's thread (here a row the database refuses at COMMIT, in a
    writer given rows nobody validated) is raised by the load; one in the load (a file
    that cannot be read further) closes the writer."""
    path = write(tmp_path, "c.csv", csv_text(album_rows(1) + album_rows(2) + album_rows(3)))
    loader, _ = loader_reporting()
    threads, connections = set(threading.enumerate()), backends()

    def rows():
        for number, row in enumerate(CsvReader(path)):
            if failing == "reader" and number == 5:
                raise OSError("the disk went away")
            yield row

    if failing == "writer":
        loader.write_now = lambda groups, good: 1 / 0
    with pytest.raises(ZeroDivisionError if failing == "writer" else OSError):
        for _ in loader.load(rows()):
            pass
    assert set(threading.enumerate()) == threads
    for _ in range(50):  # (the server ends a closed connection's backend a moment later)
        if backends() == connections:
            break
        time.sleep(0.05)
    assert backends() == connections


def test_knowing_whether_a_batch_creates_a_label_reads_no_label(tmp_path):
    """Stored products updated by rows without a label: the loader tells whether the
    batch it writes behind creates a label without reading their labels."""
    load(write(tmp_path, "first.csv", csv_text(album_rows(1) + album_rows(2))))
    at = HEADER.index("product.label")
    rows = [row[:at] + row[at + 1 :] for n in (1, 2) for row in album_rows(n, tracks=3,
            **{"product.name": f"Renamed {n}"})]  # fmt: skip
    header = HEADER[:at] + HEADER[at + 1 :]
    path = write(tmp_path, "renamed.csv", csv_text(rows, header=header))
    loader, report = loader_reporting()
    loader.batch_size = 3
    with CaptureQueriesContext(connection) as queries:
        for _ in loader.load(CsvReader(path)):
            pass
    assert report.getvalue() == ""
    assert loader.counts["products updated"] == 2
    assert not [q for q in queries.captured_queries if 'FROM "products_label"' in q["sql"]]
