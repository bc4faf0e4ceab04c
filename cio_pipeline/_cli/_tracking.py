"""Follow each input record through the client to its outcome.

The client reports outcomes per queued record, through ``on_success``
and ``on_error`` on its flush thread. ``Tracker`` maps every queued
record back to the input record it came from, counts it once as
delivered or failed, and writes failures to the dead-letter file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cio_pipeline import Client, Reason, Record
from cio_pipeline._config import MAX_OPERATION_BYTES
from cio_pipeline._encoder import Encoder
from cio_pipeline._operations import OperationBuilder
from cio_pipeline._records import V1_RECORD_TYPES

from ._deadletter import DeadLetterWriter
from ._progress import Counters

# Failures printed to standard error one by one; the rest are only
# counted and written to the dead-letter file.
REPORT_LIMIT = 20


class Entry:
    """One input record on its way: where it came from and what is left.

    One call can queue several records (a segment call with more than
    1,000 ids), so ``outstanding`` counts the queued records that have
    no outcome yet and ``open`` stays True until the call returned.
    """

    __slots__ = (
        "failed",
        "open",
        "original",
        "outstanding",
        "queued",
        "source",
    )

    def __init__(self, source: str, original: Any) -> None:
        self.source = source
        self.original = original
        self.outstanding = 0
        self.open = True
        self.queued = False
        self.failed = False


class Tracker:
    """Count each input record once, as delivered or failed.

    Failed records go to the dead-letter file and standard error.
    """

    def __init__(
        self,
        counters: Counters,
        dead_letters: DeadLetterWriter,
        report: Callable[[str], None],
    ) -> None:
        self._counters = counters
        self._dead_letters = dead_letters
        self._report = report
        self._lock = threading.Lock()
        # id(record) -> (record, entry); the record is kept so that its
        # id is not reused while it is tracked.
        self._queued: dict[int, tuple[Record, Entry]] = {}
        self._current: Entry | None = None
        self._closed = False
        self._reported = 0
        # Queued records whose outcome a callback reported.
        self._settled = 0
        self._settled_changed = threading.Condition(self._lock)

    def attach(self, client: Client, *, dry_run: bool = False) -> None:
        """Learn which records ``client``'s calls queue.

        With ``dry_run`` each record is encoded at once and never
        queued, and counts as delivered when it encodes and fits.
        """
        # The command line is part of this package, so it may use the
        # worker's intercept hook, which receives every record a call queues.
        worker = client._worker
        if dry_run:
            checker = DryRunCheck()
            worker.set_intercept(lambda record: self._check(checker, record))
        else:
            worker.set_intercept(self._register)

    def call(self, entry: Entry, operation: Callable[[], bool]) -> bool:
        """Run one client call for ``entry``; return what it returned."""
        self._current = entry
        try:
            return operation()
        finally:
            self._current = None

    def end(self, entry: Entry) -> None:
        """Mark the calls for ``entry`` done; count it if all arrived."""
        with self._lock:
            entry.open = False
            done = entry.queued and not entry.failed and not entry.outstanding
        if done:
            self._counters.add_delivered(1)

    def fail(
        self, entry: Entry, reason: str, detail: str, line: str | None = None
    ) -> None:
        """Count ``entry`` as failed and dead-letter it, once.

        ``line`` is what standard error shows after the source; it is
        ``detail`` when None.
        """
        with self._lock:
            if entry.failed:
                return
            entry.failed = True
        self._write_failure(entry, reason, detail, line or detail)

    def on_success(self, records: list[Record]) -> None:
        """Settle delivered records: the client's ``on_success``."""
        delivered = 0
        with self._lock:
            for record in records:
                item = self._queued.pop(id(record), None)
                if item is None:
                    continue
                entry = item[1]
                entry.outstanding -= 1
                if not (entry.outstanding or entry.open or entry.failed):
                    delivered += 1
        if delivered:
            self._counters.add_delivered(delivered)
        self._count_settled(len(records))

    def on_error(self, record: Record, reason: Reason) -> None:
        """Settle a failed record: the client's ``on_error``.

        Records a call did not queue (it returned False) were never
        registered, so their reports are ignored: the caller retries.
        Records that shutdown() left unsent stay tracked, so that
        ``fail_unsettled`` writes them with the run's own reason.
        """
        if reason == "shutdown_timeout":
            return
        with self._lock:
            item = self._queued.pop(id(record), None)
            if item is None:
                return
            entry = item[1]
            entry.outstanding -= 1
            first_failure = not entry.failed
            entry.failed = True
        if first_failure:
            detail = reason.detail or str(reason)
            self._write_failure(entry, str(reason), detail, reason.describe())
        self._count_settled(1)

    def _count_settled(self, count: int) -> None:
        # Counted last, so that a waiter finds the counters complete.
        with self._settled_changed:
            self._settled += count
            self._settled_changed.notify_all()

    def wait_for_outcomes(self, count: int, timeout: float) -> bool:
        """Wait until callbacks reported ``count`` queued records.

        ``Client.flush`` can return before the callbacks for the last
        records it waited for have run, so compare with the client's
        delivered and failed counts first. Returns False on timeout.
        """
        with self._settled_changed:
            return self._settled_changed.wait_for(
                lambda: self._settled >= count, timeout
            )

    def fail_unsettled(self, reason: str, message: str) -> int:
        """Fail every queued record that has no outcome; return how many.

        Later callbacks are ignored, so no record is counted twice.
        """
        with self._lock:
            self._closed = True
            entries = {id(entry): entry for _, entry in self._queued.values()}
            self._queued.clear()
            unsettled = [
                entry for entry in entries.values() if not entry.failed
            ]
            for entry in unsettled:
                entry.failed = True
        for entry in unsettled:
            self._write_failure(entry, reason, message, message)
        return len(unsettled)

    def _register(self, record: Record) -> bool:
        """Note which input record ``record`` came from; queue it."""
        entry = self._current
        if entry is None:
            return True
        with self._lock:
            self._queued[id(record)] = (record, entry)
            entry.outstanding += 1
            entry.queued = True
        return True

    def _check(self, checker: DryRunCheck, record: Record) -> bool:
        """Encode ``record`` as the flush thread would; never queue it."""
        entry = self._current
        problem = checker.check(record)
        if entry is None:
            return False
        if problem is None:
            entry.queued = True
        else:
            detail = problem.detail or str(problem)
            self.fail(entry, str(problem), detail, problem.describe())
        return False

    def _write_failure(
        self, entry: Entry, reason: str, detail: str, line: str
    ) -> None:
        """Dead-letter, count and report one failed input record.

        ``detail`` goes to the dead-letter file and ``line`` to
        standard error, after the source.
        """
        self._dead_letters.write(entry.original, reason, detail, entry.source)
        self._counters.add_failed(reason)
        with self._lock:
            self._reported += 1
            count = self._reported
        if count <= REPORT_LIMIT:
            self._report(f"{entry.source}: {line}")
        if count == REPORT_LIMIT:
            self._report(
                "more failures are counted in the summary and written to "
                "the dead-letter file only"
            )


class DryRunCheck:
    """Encode records the way the flush thread would, without sending."""

    def __init__(self) -> None:
        self._builder = OperationBuilder("auto")
        self._encoder = Encoder()

    def check(self, record: Record) -> Reason | None:
        """Return why ``record`` would fail before sending, or None."""
        v1 = isinstance(record, V1_RECORD_TYPES)
        try:
            if v1:
                encoded = self._encoder.dumps(
                    self._builder.v1(record, 0.0).body
                )
            else:
                encoded = self._encoder.dumps(self._builder.v2(record, 0.0))
        except (TypeError, ValueError) as error:
            return Reason("unencodable", str(error))
        # Only v2 limits the size of one operation.
        if not v1 and len(encoded) > MAX_OPERATION_BYTES:
            return Reason(
                "too_large",
                f"operation is {len(encoded)} bytes and the Track API "
                f"takes at most {MAX_OPERATION_BYTES}",
            )
        return None
