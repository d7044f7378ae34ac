"""What the command-line importers tell their operator: each problem, where it is and
why, on screen and as JSON Lines; and how far the run has got.

Shared by every importer (catalog CSV/NDJSON/DDEX, Soundcheck YAML), so that problems
read alike and a report file has one shape whatever was imported.
"""

import json
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing refused: in ``file``, at ``where`` (``"line 12"``, ``"item 3 (id x)"``, an
    XML element), the member at ``pointer`` (a JSON pointer, ``""`` for the whole item),
    and why. ``location`` holds the same place as data for the report file."""

    file: str
    where: str
    pointer: str
    message: str
    location: tuple = ()

    def __str__(self):
        member = f"{self.pointer}: " if self.pointer else ""
        return f"{self.file}: {self.where}: {member}{self.message}"

    def as_json(self):
        return {
            "file": self.file,
            **dict(self.location),
            "where": self.where,
            "pointer": self.pointer,
            "message": self.message,
        }


def add_import_arguments(parser, into="import into"):
    """The options every importer command takes: its files, the organization, a dry run
    and a report file."""
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--organization",
        metavar="SLUG",
        help=f"The organization to {into} (needed when there is more than one).",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Validate everything and report, but write nothing.",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="Also write every problem to FILE, one JSON object per line.",
    )


class Report:
    """Problems on standard error and notices on standard output as they come (the
    progress bar, if any, cleared first and drawn again after), and every problem as a
    JSON object per line in ``path`` when one is given."""

    def __init__(self, command, path=None):
        self.command = command
        self.progress = None
        self.problems = 0
        self._file = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115

    def problem(self, problem):
        self.problems += 1
        self._say(self.command.stderr, str(problem))
        if self._file is not None:
            self._file.write(json.dumps(problem.as_json(), ensure_ascii=False) + "\n")

    def notice(self, text):
        self._say(self.command.stdout, text)

    def _say(self, stream, text):
        if self.progress is not None:
            self.progress.clear()
        stream.write(text)
        if self.progress is not None:
            self.progress.draw()

    def close(self):
        if self._file is not None:
            self._file.close()


class Progress:
    """How far a run has got, with its rate and the time left.

    On a terminal: ``[#########            ] 45% 120,000 rows 21,345 rows/s ETA 0:41``,
    redrawn in place at most ten times a second. Elsewhere (a log, a pipe): the same
    figures as a plain line every ``interval`` seconds, and once more at the end.

    ``total`` is in whatever unit measures the work (items, or bytes of the input files);
    ``update(done, rows)`` tells how much of it is done and how many rows that was.
    """

    WIDTH = 30

    def __init__(self, stream, total, unit="rows", interval=10.0, clock=time.monotonic):
        self.stream, self.total, self.unit = stream, total, unit
        self.interval, self.clock = interval, clock
        self.done_amount = self.rows = 0
        self.started = self.last_drawn = clock()
        self.terminal = stream.isatty()
        self.lines_written = False
        if self.terminal:
            self.draw()

    def update(self, done, rows):
        self.done_amount, self.rows = done, rows
        now = self.clock()
        if now - self.last_drawn >= (0.1 if self.terminal else self.interval):
            self.last_drawn = now
            self.draw() if self.terminal else self._line()

    def figures(self):
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = self.rows / elapsed
        fraction = min(self.done_amount / self.total, 1.0) if self.total else 1.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return fraction, rate, eta

    def text(self):
        fraction, rate, eta = self.figures()
        left = "--:--" if eta is None else _duration(eta)
        return f"{fraction:4.0%} {self.rows:,} {self.unit} {rate:,.0f} {self.unit}/s ETA {left}"

    def draw(self):
        if not self.terminal:
            return
        fraction = self.figures()[0]
        filled = int(self.WIDTH * fraction)
        bar = "#" * filled + " " * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.text()}", ending="", style_func=str)
        self.stream.flush()

    def _line(self):
        self.lines_written = True
        self.stream.write(self.text(), style_func=str)

    def clear(self):
        if self.terminal:
            self.stream.write("\r\x1b[K", ending="", style_func=str)

    def finish(self):
        """The final figures: the full bar on a terminal; elsewhere a last line, if the run
        was long enough to have written any (a short run stays quiet)."""
        if self.terminal:
            self.draw()
            self.stream.write("", style_func=str)
        elif self.lines_written:
            self._line()

    def elapsed(self):
        return self.clock() - self.started


def _duration(seconds):
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"
