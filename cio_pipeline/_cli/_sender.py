"""The loop of ``send``: input records in, client calls out."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from cio_pipeline import Client, FlushResult
from cio_pipeline._ulid import UlidGenerator

from ._mapping import Call, RecordError, build_call
from ._progress import Counters, Progress
from ._readers import (
    InputRecord,
    input_name,
    open_input,
    read_csv,
    read_json_lines,
)
from ._signals import StopSignal
from ._tracking import Entry, Tracker

# Seconds one call may wait for room in a full queue before send tries
# again. The wait is short so that send notices a stop signal quickly.
BLOCK_TIMEOUT = 0.25

# How long a record may wait for room in all before the run stops, in
# seconds. A batch gives up after the client's max_retry_time (30 s by
# default), which frees room, so a longer wait means a stalled server.
STALL_TIMEOUT = 120.0

# Seconds of each wait for queued records at the end, between two
# redraws of the progress.
FLUSH_STEP = 0.25

# Seconds to wait, after the client settled its records, for the
# callbacks that report them.
CALLBACK_WAIT = 5.0

# Operations whose event id the command assigns when the record has
# none, so that a record sent again from the dead-letter file cannot
# count an event twice if the first try did reach the server.
EVENT_ID_OPERATIONS = frozenset({"track", "track_anonymous"})


class InputReadError(Exception):
    """An input file could not be read to the end."""


def read_inputs(
    paths: Iterable[str], csv_kind: str | None
) -> Iterator[InputRecord]:
    """Yield the records of every input file in turn.

    Raises:
        InputReadError: a file cannot be opened or read, or is not gzip
            though its name ends in ``.gz``.
    """
    for path in paths:
        name = input_name(path)
        try:
            with open_input(path) as stream:
                if csv_kind is None:
                    yield from read_json_lines(stream, name)
                else:
                    yield from read_csv(stream, name, csv_kind)
        except (OSError, EOFError) as error:
            raise InputReadError(f"cannot read {name}: {error}") from None


class RecordSender:
    """Turn input records into client calls, with backpressure.

    ``last_source`` is the last record read. ``stop_reason`` is the
    reason reading ended early, unless a signal ended it.
    """

    def __init__(
        self,
        client: Client,
        tracker: Tracker,
        counters: Counters,
        progress: Progress,
        stop: StopSignal,
        *,
        assign_event_ids: bool,
    ) -> None:
        self._client = client
        self._tracker = tracker
        self._counters = counters
        self._progress = progress
        self._stop = stop
        self._ulids = UlidGenerator() if assign_event_ids else None
        self.last_source: str | None = None
        self.stop_reason: str | None = None

    def send_all(self, records: Iterable[InputRecord]) -> None:
        """Send every record until the input ends or the run must stop."""
        try:
            for record in self._stop.read(records):
                self._counters.read += 1
                self.last_source = record.source
                self._send(record)
                self._progress.update()
                if self.stop_reason is not None:
                    break
        except InputReadError as error:
            self.stop_reason = str(error)

    def _send(self, record: InputRecord) -> None:
        entry = Entry(record.source, record.original)
        try:
            if record.error is not None:
                raise record.error
            call = build_call(record.original)
        except RecordError as error:
            self._tracker.fail(entry, error.reason, str(error))
        else:
            call = self._with_event_id(entry, call)
            self._queue(entry, call)
        self._tracker.end(entry)

    def _with_event_id(self, entry: Entry, call: Call) -> Call:
        if (
            self._ulids is None
            or call.method not in EVENT_ID_OPERATIONS
            or call.kwargs.get("id") is not None
        ):
            return call
        event_id = self._ulids.new(time.time())
        entry.original = {**entry.original, "id": event_id}
        return call._replace(kwargs={**call.kwargs, "id": event_id})

    def _queue(self, entry: Entry, call: Call) -> None:
        method = getattr(self._client, call.method)
        deadline = time.monotonic() + STALL_TIMEOUT

        def operation() -> bool:
            return bool(method(*call.args, **call.kwargs))

        while True:
            try:
                if self._tracker.call(entry, operation):
                    return
            except (TypeError, ValueError) as error:
                # The client raises ValidationError, a ValueError, for
                # a value it cannot send.
                self._tracker.fail(entry, "invalid_value", str(error))
                return
            self._progress.update()
            if self._stop.requested:
                self._tracker.fail(
                    entry,
                    "interrupted",
                    "stopped before the record was queued",
                )
                return
            if time.monotonic() > deadline:
                self.stop_reason = (
                    f"the queue stayed full for {STALL_TIMEOUT:.0f} s: the "
                    f"Track API is not taking records"
                )
                self._tracker.fail(entry, "queue_full", self.stop_reason)
                return


def finish(
    client: Client,
    tracker: Tracker,
    progress: Progress,
    stop: StopSignal,
    timeout: float,
) -> FlushResult:
    """Wait up to ``timeout`` for queued records, then shut the client down.

    A second stop signal ends the wait early. Records still unsettled
    then fail with the reason ``interrupted`` after a stop signal and
    ``flush_timeout`` otherwise.
    """
    deadline = time.monotonic() + timeout
    while not stop.repeated:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        result = client.flush(min(left, FLUSH_STEP))
        progress.update()
        if not result.pending:
            break
    result = client.shutdown(timeout=FLUSH_STEP)
    stats = client.stats()
    tracker.wait_for_outcomes(stats.delivered + stats.failed, CALLBACK_WAIT)
    if stop.requested:
        reason, message = (
            "interrupted",
            "stopped before the record was delivered",
        )
    else:
        reason = "flush_timeout"
        message = f"not delivered within --flush-timeout {timeout:g} s"
    tracker.fail_unsettled(reason, message)
    return result
