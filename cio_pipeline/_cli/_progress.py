"""Progress on standard error: a tqdm bar on a terminal, lines otherwise."""

from __future__ import annotations

import collections
import threading
import time
from typing import IO, Any

import attrs

# NOTE: types-tqdm provides the stubs; without them tqdm is Any.
from tqdm import tqdm

# Seconds between two redraws of the bar, and between two plain lines
# when standard error is not a terminal (a log file or a CI job).
BAR_INTERVAL = 0.2
LINE_INTERVAL = 10.0


@attrs.define
class Counters:
    """The counts of a run so far.

    ``read`` counts records the main thread took from the input. The
    client's callbacks change ``delivered`` and ``failed`` on its flush
    thread, so those two change only under ``lock``.
    """

    read: int = 0
    delivered: int = 0
    failed: collections.Counter[str] = attrs.field(factory=collections.Counter)
    lock: threading.Lock = attrs.field(factory=threading.Lock, eq=False)

    @property
    def failed_total(self) -> int:
        """Failed records, whatever the reason."""
        return sum(self.failed.values())

    def add_delivered(self, count: int) -> None:
        """Count ``count`` records the Track API accepted."""
        with self.lock:
            self.delivered += count

    def add_failed(self, reason: str) -> None:
        """Count one failed record under its reason code."""
        with self.lock:
            self.failed[reason] += 1


class Progress:
    """Report a run's counters while it goes.

    ``mode`` is ``"bar"`` for a tqdm bar, ``"lines"`` for a plain line
    every ``LINE_INTERVAL`` seconds and ``"off"`` for nothing. Without a
    ``total`` the bar counts records read; with one it counts records
    delivered or failed out of ``total``.
    """

    def __init__(
        self,
        counters: Counters,
        stream: IO[str],
        mode: str,
        *,
        label: str,
        total: int | None = None,
    ) -> None:
        self._counters = counters
        self._stream = stream
        self._mode = mode
        self._label = label
        self._total = total
        self._started = time.monotonic()
        self._interval = BAR_INTERVAL if mode == "bar" else LINE_INTERVAL
        self._next_report = self._started + self._interval
        # Messages come from the client's flush thread too.
        self._lock = threading.Lock()
        # Made on the first redraw, so a run shorter than BAR_INTERVAL
        # shows no bar.
        self._bar: Any = None

    def update(self, *, force: bool = False) -> None:
        """Redraw the bar or print a line if one is due; cheap otherwise."""
        now = time.monotonic()
        if now < self._next_report and not force:
            return
        self._next_report = now + self._interval
        with self._lock:
            if self._mode == "bar":
                if self._bar is None:
                    self._bar = _make_bar(
                        self._stream, self._label, self._total
                    )
                self._redraw(self._bar)
            elif self._mode == "lines":
                self._stream.write(self._line(now) + "\n")
                self._stream.flush()

    def write(self, message: str) -> None:
        """Print a message line without breaking the bar; thread-safe."""
        with self._lock:
            if self._bar is not None:
                self._bar.write(message, file=self._stream)
            else:
                self._stream.write(message + "\n")
                self._stream.flush()

    def close(self) -> None:
        """Draw the final state and release the terminal line."""
        with self._lock:
            if self._bar is not None:
                self._redraw(self._bar)
                self._bar.close()
                self._bar = None

    def _redraw(self, bar: Any) -> None:
        counters = self._counters
        elapsed = max(time.monotonic() - self._started, 1e-9)
        failed = counters.failed_total
        if self._total is None:
            count = counters.read
            text = (
                f"{count:,} read, {counters.delivered:,} delivered, "
                f"{failed:,} failed, {count / elapsed:,.0f} records/s"
            )
        else:
            count = counters.delivered + failed
            text = (
                f"{count:,}/{self._total:,} delivered or failed, "
                f"{failed:,} failed, {count / elapsed:,.0f} records/s"
            )
        bar.set_description_str(f"{self._label}: {text}", refresh=False)
        bar.n = count
        bar.refresh()

    def _line(self, now: float) -> str:
        counters = self._counters
        elapsed = max(now - self._started, 1e-9)
        return (
            f"{self._label}: {counters.read:,} read, "
            f"{counters.delivered:,} delivered, "
            f"{counters.failed_total:,} failed, "
            f"{counters.read / elapsed:,.0f} records/s"
        )


def _make_bar(stream: IO[str], label: str, total: int | None) -> Any:
    # The counts are formatted here, with thousands separators, and
    # shown as the description; tqdm's own counts print 20 as "20.0"
    # once they are scaled.
    if total is None:
        bar_format = "{desc} [{elapsed}]"
    else:
        bar_format = "{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
    return tqdm(
        total=total,
        file=stream,
        desc=label,
        dynamic_ncols=True,
        mininterval=BAR_INTERVAL,
        bar_format=bar_format,
    )
