"""The flush thread's loop: encode records, pack batches, send them."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _records as records
from ._batching import Batch
from ._clock import monotonic
from ._config import Config
from ._delivery import (
    Aborted,
    Delivered,
    Failed,
    Outcome,
    Partial,
    Sender,
    TooLarge,
)
from ._encoder import Encoder
from ._operations import OperationBuilder
from ._results import LogLimiter, Reason

if TYPE_CHECKING:
    from ._worker import Worker

logger = logging.getLogger("cio_pipeline._worker")

# Records taken from the queue at a time, under its lock.
TAKE_SIZE = 256

# Operations encoded in one call. After each group the flush thread
# lets callers run if they are queueing: CPython hands the interpreter
# lock over only every 5 ms by default, and a caller stuck that long
# behind encoding would see its call take milliseconds.
GROUP_SIZE = 16

_V1_TYPES = frozenset(records.V1_RECORD_TYPES)
_sleep = time.sleep


class _Group:
    """Operations built but not yet encoded."""

    __slots__ = ("indices", "operations", "records")

    def __init__(self) -> None:
        self.records: list[records.Record] = []
        self.indices: list[int] = []
        self.operations: list[dict[str, Any]] = []

    def halves(self) -> tuple[_Group, _Group]:
        middle = len(self.records) // 2
        first, second = _Group(), _Group()
        first.records = self.records[:middle]
        first.indices = self.indices[:middle]
        first.operations = self.operations[:middle]
        second.records = self.records[middle:]
        second.indices = self.indices[middle:]
        second.operations = self.operations[middle:]
        return first, second


def _unencodable(error: Exception) -> Reason:
    return Reason("unencodable", f"{type(error).__name__}: {error}")


class DeliveryLoop:
    """Turn the queue into requests and settle every record taken."""

    def __init__(
        self,
        worker: Worker,
        sender: Sender,
        encoder: Encoder,
        builder: OperationBuilder,
        config: Config,
    ) -> None:
        self._worker = worker
        self.sender = sender
        self._encoder = encoder
        self._builder = builder
        self._max_batch_bytes = config.max_batch_bytes
        self._max_operation_bytes = config.max_operation_bytes
        self._max_retry_time = config.max_retry_time
        self._logs = LogLimiter()
        self._unauthorized_logged = False
        self._aborted = False
        self._last_queued = 0
        # The request now out, and the other records the loop has meanwhile.
        self._in_flight: list[records.Record] | None = None
        self._waiting: list[records.Record] = []
        self._rest: tuple[list[records.Record], int] = ([], 0)
        self._claimed = False
        self._claim_lock = threading.Lock()
        # The JSON list of a group has two brackets more than its items.
        self._max_group_bytes = self._max_operation_bytes + 2

    def run(self, deadline: float | None) -> None:
        """Send everything queued; stop early only on an abort."""
        self._aborted = False
        batch = Batch(self._max_batch_bytes)
        while not self._aborted:
            taken, first = self._worker.take(TAKE_SIZE)
            if not taken:
                break
            batch = self._pack(taken, first, batch, deadline)
        if batch:
            self._send_batch(batch, deadline)

    def _pack(
        self,
        taken: list[records.Record],
        first: int,
        batch: Batch,
        deadline: float | None,
    ) -> Batch:
        now = time.time()
        build = self._builder.v2
        build_event = self._builder.event
        group = _Group()
        for offset, record in enumerate(taken):
            if self._aborted:
                self._unsent(taken[offset:])
                break
            index = first + offset
            if type(record) in _V1_TYPES:
                # What the exit flush may claim while a request is out.
                self._rest = (taken, offset + 1)
                batch = self._add_group(batch, group, deadline)
                group = _Group()
                if batch:
                    self._send_batch(batch, deadline)
                    batch = Batch(self._max_batch_bytes)
                self._send_v1(record, index, now, deadline)
                continue
            try:
                if type(record) is records.Event:
                    operation = build_event(record, now)
                else:
                    operation = build(record, now)
            except Exception as error:  # noqa: BLE001
                self._fail([index], [record], _unencodable(error))
                continue
            group.records.append(record)
            group.indices.append(index)
            group.operations.append(operation)
            if len(group.records) == GROUP_SIZE:
                self._rest = (taken, offset + 1)
                batch = self._add_group(batch, group, deadline)
                group = _Group()
                self._yield_to_callers()
        self._rest = (taken, len(taken))
        return self._add_group(batch, group, deadline)

    def _unsent(self, unsent: list[records.Record]) -> None:
        """Report records left unsent, unless the exit flush has."""
        if not self._claimed:
            self._worker.report_unsent(unsent)

    def _yield_to_callers(self) -> None:
        """Let callers run if they are queueing records right now."""
        queued = self._worker.queued()
        if queued != self._last_queued:
            _sleep(0)
        self._last_queued = self._worker.queued()

    def _add_group(
        self, batch: Batch, group: _Group, deadline: float | None
    ) -> Batch:
        """Encode ``group`` and add it to ``batch``, sending when full."""
        if self._aborted:
            self._unsent(group.records)
            return batch
        if not group.records:
            return batch
        try:
            encoded = self._encoder.dumps(group.operations)
        except Exception:  # noqa: BLE001 - retried one by one below
            encoded = None
        # A group within the operation limit has every operation within it.
        if encoded is not None and len(encoded) <= self._max_group_bytes:
            fragment = encoded[1:-1]
            if not batch.fits(fragment):
                self._waiting = group.records
                self._send_batch(batch, deadline)
                self._waiting = []
                batch = Batch(self._max_batch_bytes)
            batch.add(group.records, group.indices, group.operations, fragment)
            return batch
        if len(group.records) == 1:
            return self._add_single(batch, group, deadline)
        for half in group.halves():
            batch = self._add_group(batch, half, deadline)
        return batch

    def _add_single(
        self, batch: Batch, group: _Group, deadline: float | None
    ) -> Batch:
        """Add one operation, or fail it if it cannot be sent."""
        try:
            fragment = self._encoder.dumps(group.operations[0])
        except Exception as error:  # noqa: BLE001
            # json_default is the caller's code and may raise anything.
            self._fail(group.indices, group.records, _unencodable(error))
            return batch
        if len(fragment) > self._max_operation_bytes:
            reason = Reason(
                "too_large",
                f"operation is {len(fragment)} bytes and the Track API "
                f"takes at most {self._max_operation_bytes}",
            )
            self._fail(group.indices, group.records, reason)
            return batch
        if not batch.fits(fragment):
            self._waiting = group.records
            self._send_batch(batch, deadline)
            self._waiting = []
            batch = Batch(self._max_batch_bytes)
        batch.add(group.records, group.indices, group.operations, fragment)
        return batch

    def _send(
        self,
        method: str,
        path: str,
        body: bytes,
        count: int,
        deadline: float | None,
    ) -> Outcome:
        try:
            return self.sender.send(
                method,
                path,
                body,
                count,
                monotonic() + self._max_retry_time,
                stop_at=deadline,
            )
        except Exception as error:
            # A bug here must fail these records, not stall the queue.
            logger.exception("sending %d records failed", count)
            return Failed(
                Reason("internal_error", f"{type(error).__name__}: {error}")
            )

    def _send_claimed(
        self,
        sending: list[records.Record],
        method: str,
        path: str,
        body: bytes,
        deadline: float | None,
    ) -> Outcome | None:
        """Send while ``sending`` can be claimed by the exit flush.

        Returns None when the exit flush reported the records while the
        request was out, so its outcome must not be reported again.
        """
        with self._claim_lock:
            self._in_flight = sending
        outcome = self._send(method, path, body, len(sending), deadline)
        with self._claim_lock:
            claimed = self._in_flight is None
            self._in_flight = None
        return None if claimed else outcome

    def claim_in_flight(self) -> list[records.Record]:
        """Take, for good, every record held while a request is out.

        That is the request's records, the group waiting for the next
        batch and the rest of the records taken from the queue. The
        loop reports none of them afterwards.
        """
        with self._claim_lock:
            if self._in_flight is None:
                return []
            taken, position = self._rest
            held = self._in_flight + self._waiting + taken[position:]
            self._in_flight = None
            self._claimed = True
            self._aborted = True
        return held

    def _send_batch(self, batch: Batch, deadline: float | None) -> None:
        if self._aborted:
            self._unsent(batch.records)
            return
        outcome = self._send_claimed(
            batch.records,
            "POST",
            "/api/v2/batch",
            batch.body(),
            deadline,
        )
        if outcome is None:
            return
        if isinstance(outcome, TooLarge):
            if len(batch) == 1:
                self._fail(
                    batch.indices,
                    batch.records,
                    Reason("too_large", "HTTP 413 for a single operation"),
                )
                return
            for half in batch.halves(self._encoder.dumps):
                self._send_batch(half, deadline)
            return
        self._apply(batch.indices, batch.records, outcome)

    def _send_v1(
        self,
        record: records.Record,
        index: int,
        now: float,
        deadline: float | None,
    ) -> None:
        if self._aborted:
            self._unsent([record])
            return
        try:
            request = self._builder.v1(record, now)
            body = self._encoder.dumps(request.body)
        except Exception as error:  # noqa: BLE001 - json_default may raise
            self._fail([index], [record], _unencodable(error))
            return
        outcome = self._send_claimed(
            [record], request.method, request.path, body, deadline
        )
        if outcome is None:
            return
        if isinstance(outcome, TooLarge):
            outcome = Failed(Reason("too_large", "HTTP 413"))
        if isinstance(outcome, Partial):
            outcome = Delivered()
        self._apply([index], [record], outcome)

    def _apply(
        self,
        indices: list[int],
        batch: list[records.Record],
        outcome: Outcome,
    ) -> None:
        if isinstance(outcome, Delivered):
            self._worker.settle(indices, batch, "delivered")
        elif isinstance(outcome, Failed):
            self._fail(indices, batch, outcome.reason)
        elif isinstance(outcome, Partial):
            self._apply_partial(indices, batch, outcome)
        elif isinstance(outcome, Aborted):
            # Left unsettled: shutdown() counts these records as pending.
            self._aborted = True
            self._unsent(batch)

    def _apply_partial(
        self,
        indices: list[int],
        batch: list[records.Record],
        outcome: Partial,
    ) -> None:
        failures = outcome.failures
        accepted = [i for i in range(len(batch)) if i not in failures]
        self._worker.settle(
            [indices[i] for i in accepted],
            [batch[i] for i in accepted],
            "delivered",
        )
        for position, reason in sorted(failures.items()):
            self._worker.settle(
                [indices[position]], [batch[position]], "failed", reason
            )
        if failures:
            first = next(iter(failures.values()))
            self._log_failure(len(failures), first)

    def _fail(
        self,
        indices: list[int],
        batch: list[records.Record],
        reason: Reason,
    ) -> None:
        self._worker.settle(indices, batch, "failed", reason)
        self._log_failure(len(batch), reason)

    def _log_failure(self, count: int, reason: Reason) -> None:
        if reason == "unauthorized":
            if not self._unauthorized_logged:
                self._unauthorized_logged = True
                logger.error(
                    "the Track API rejected the credentials (HTTP 401): "
                    "check site_id, api_key and region; records fail "
                    "with reason 'unauthorized' until they are fixed"
                )
            return
        held_back = self._logs.allow(f"fail {reason}")
        if held_back is not None:
            logger.error(
                "%d records failed: %s%s",
                count,
                reason.describe(),
                LogLimiter.suffix(held_back),
            )
