"""The queue between callers and the flush thread, and the thread itself."""

from __future__ import annotations

import bisect
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from . import _records as records
from ._clock import monotonic
from ._config import Config
from ._delivery import Sender
from ._encoder import Encoder
from ._operations import OperationBuilder
from ._results import FlushResult, LogLimiter, Reason, Stats
from ._retry import RateLimiter, RetryPolicy
from ._transport import Transport
from ._worker_delivery import DeliveryLoop

logger = logging.getLogger(__name__)

OnError = Callable[[records.Record, Reason], Any]
OnSuccess = Callable[[list[records.Record]], Any]

THREAD_NAME = "cio_pipeline-flush"

# The flush thread wakes up early once this many records are queued.
WAKE_SIZE = 1000

# Seconds of the exit budget kept for reporting unsent records, at most.
EXIT_REPORT_MARGIN = 0.2


class _FlushWaiter:
    """Counts the outcomes of the records a flush() waits for."""

    __slots__ = ("delivered", "dropped", "failed", "remaining", "target")

    def __init__(self, target: int, remaining: int) -> None:
        self.target = target
        self.remaining = remaining
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    def result(self) -> FlushResult:
        return FlushResult(
            self.delivered, self.failed, self.dropped, self.remaining
        )


class Worker:
    """Owns the queue, the flush thread and every counter of one client.

    Records get a position in the order the flush thread takes them
    from the queue. ``_popped`` is the next free position and
    ``_settled`` counts taken records that were delivered, failed or
    dropped, so the records before a position are all settled once
    ``_settled`` reaches it: that is what ``flush`` waits for.
    """

    def __init__(
        self,
        config: Config,
        transport: Transport,
        encoder: Encoder,
        on_error: OnError | None,
        on_success: OnSuccess | None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._encoder = encoder
        self._on_error = on_error
        self._on_success = on_success
        self._intercept: Callable[[records.Record], bool] | None = None
        self._max_queue_size = config.max_queue_size
        self._logs = LogLimiter()
        self._closed = False
        self._shut_down = False
        self._exit_deadline: float | None = None
        self._reset()

    # State --------------------------------------------------------------

    def _reset(self) -> None:
        """Make fresh locks, queue and counters: at start and after fork."""
        self._lock = threading.Lock()
        self._settled_changed = threading.Condition(self._lock)
        self._space_freed = threading.Condition(self._lock)
        self._drain_lock = threading.Lock()
        self._drainer: int | None = None
        self._wake = threading.Event()
        self._wake_requested = False
        self._abort = threading.Event()
        self._stop_requested = False
        self._queue: deque[records.Record] = deque()
        self._notices: deque[tuple[records.Record, Reason]] = deque()
        self._popped = 0
        self._settled = 0
        self._waiters: list[_FlushWaiter] = []
        self._blocked = 0
        self.delivered = 0
        self.failed = 0
        self._dropped: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._inline = self.config.sync
        # True while a call may append without the slow path's checks.
        self._fast = False
        sender = Sender(
            self._transport,
            RetryPolicy(self.config.max_retries, self.config.max_retry_time),
            RateLimiter(self.config.rate_limit, monotonic),
            self._abort,
            monotonic,
        )
        sender.log_payloads = self.config.log_payloads
        self._delivery = DeliveryLoop(
            self,
            sender,
            self._encoder,
            OperationBuilder(self.config.identify_by),
            self.config,
        )

    def after_fork_in_child(self) -> None:
        """Start over empty: the parent still sends what it had queued."""
        self._transport.reset_after_fork()
        self._reset()

    # The caller's side --------------------------------------------------

    def enqueue(self, record: records.Record) -> bool:
        """Queue ``record``; return False if it was dropped."""
        if self._fast:
            queue = self._queue
            if len(queue) < self._max_queue_size:
                queue.append(record)
                if len(queue) >= WAKE_SIZE and not self._wake_requested:
                    self.request_wake()
                return True
        return self._enqueue_slow(record)

    def request_wake(self) -> None:
        """Wake the flush thread: a batch's worth of records is queued."""
        self._wake_requested = True
        self._wake.set()

    def _enqueue_slow(self, record: records.Record) -> bool:
        if self._closed and self._exit_deadline is None:
            self._drop_at_call(record, "shutdown")
            self._warn(
                "shutdown",
                "dropping records queued after shutdown(): the client "
                "sends nothing more",
            )
            return False
        if not self.config.enabled:
            self._count_drop("disabled")
            return True
        if len(self._queue) >= self._max_queue_size and not self._make_room(
            record
        ):
            return False
        if self._intercept is not None and not self._intercept(record):
            return True
        self._queue.append(record)
        if self._inline or not self._ensure_thread():
            self._drain_inline()
        elif len(self._queue) >= WAKE_SIZE:
            self._wake.set()
        return True

    def _make_room(self, record: records.Record) -> bool:
        """Apply the ``on_full`` policy; return True if there is room now."""
        policy = self.config.on_full
        if policy == "drop_oldest":
            evicted = None
            with self._lock:
                if len(self._queue) >= self._max_queue_size:
                    evicted = self._queue.popleft()
                    self._popped += 1
                    self._settle_locked([self._popped - 1], "dropped")
                    self._dropped["evicted"] = (
                        self._dropped.get("evicted", 0) + 1
                    )
            if evicted is not None:
                self._notice(evicted, Reason("evicted"))
            return True
        if policy == "block" and self._wait_for_room():
            return True
        reason = "block_timeout" if policy == "block" else "queue_full"
        self._drop_at_call(record, reason)
        if reason == "block_timeout":
            message = (
                f"queue full ({self._max_queue_size} records): calls waited "
                f"block_timeout={self.config.block_timeout} s and dropped "
                f"their records"
            )
        else:
            message = (
                f"queue full ({self._max_queue_size} records): dropping "
                f"records; raise max_queue_size or check that the Track "
                f"API is reachable"
            )
        self._warn(reason, message)
        return False

    def _warn(self, key: str, message: str) -> None:
        """Log a warning at most once per interval for each ``key``."""
        held_back = self._logs.allow(key)
        if held_back is not None:
            logger.warning("%s%s", message, LogLimiter.suffix(held_back))

    def _wait_for_room(self) -> bool:
        if self._drainer == threading.get_ident():
            return False
        deadline = monotonic() + self.config.block_timeout
        self._ensure_thread()
        self._wake.set()
        with self._lock:
            self._blocked += 1
            try:
                while len(self._queue) >= self._max_queue_size:
                    left = deadline - monotonic()
                    if left <= 0:
                        return False
                    self._space_freed.wait(left)
            finally:
                self._blocked -= 1
        return True

    def _drop_at_call(self, record: records.Record, reason: str) -> None:
        self._count_drop(reason)
        self._notice(record, Reason(reason))

    def _count_drop(self, reason: str) -> None:
        with self._lock:
            self._dropped[reason] = self._dropped.get(reason, 0) + 1

    def _notice(self, record: records.Record, reason: Reason) -> None:
        """Hand a dropped record to the flush thread for ``on_error``."""
        if self._on_error is None:
            return
        if self._thread is None or self._closed:
            self.report_failure(record, reason)
        else:
            self._notices.append((record, reason))

    # The flush thread ---------------------------------------------------

    def _ensure_thread(self) -> bool:
        """Start the flush thread if needed; return False if it cannot run."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._fast = self._may_take_fast_path()
            return True
        thread = threading.Thread(
            target=self._run, name=THREAD_NAME, daemon=True
        )
        try:
            thread.start()
        except RuntimeError:
            # Python 3.12 and later start no thread at interpreter exit:
            # from then on each call sends on its own thread, within the
            # shutdown timeout.
            self._inline = True
            if self._exit_deadline is None:
                self._exit_deadline = (
                    monotonic() + self.config.shutdown_timeout
                )
            self._fast = False
            return False
        self._thread = thread
        self._fast = self._may_take_fast_path()
        logger.debug("started flush thread %s", thread.name)
        return True

    def _may_take_fast_path(self) -> bool:
        return not (self._inline or self._closed or self._intercept)

    def set_intercept(
        self, intercept: Callable[[records.Record], bool] | None
    ) -> None:
        """Show each accepted record to ``intercept`` before queueing it.

        ``intercept`` runs on the caller's thread once the record has
        room in the queue. When it returns False, the record stays out
        of the queue and out of the counters. Calls take the slower path
        while it is set. The command line uses it to follow each record.
        """
        self._intercept = intercept
        self._fast = False

    def _run(self) -> None:
        interval = self.config.flush_interval
        try:
            while not self._abort.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                self._wake_requested = False
                try:
                    self.drain()
                except Exception:
                    logger.exception("flush thread error; it keeps running")
                if self._stop_requested and not self._queue:
                    break
        finally:
            # The next call notices this and starts a new thread.
            self._fast = False
            logger.debug("flush thread %s stopped", THREAD_NAME)

    def drain(self, deadline: float | None = None) -> None:
        """Send everything queued, on the calling thread.

        With a ``deadline``, retries stop there and leave records
        pending, and so does waiting for another thread's drain.
        """
        wait = -1.0 if deadline is None else max(0.0, deadline - monotonic())
        if not self._drain_lock.acquire(timeout=wait):
            return
        try:
            self._drainer = threading.get_ident()
            self._deliver_notices()
            self._delivery.run(deadline)
            self._deliver_notices()
        finally:
            self._drainer = None
            self._drain_lock.release()

    def _drain_inline(self) -> None:
        if self._drainer == threading.get_ident():
            # A callback queued a record: the running drain sends it.
            return
        self.drain(self._exit_deadline)

    def _deliver_notices(self) -> None:
        while self._notices:
            record, reason = self._notices.popleft()
            self.report_failure(record, reason)

    # Used by the delivery loop ------------------------------------------

    def queued(self) -> int:
        """Return the number of records waiting in the queue."""
        return len(self._queue)

    def take(self, limit: int) -> tuple[list[records.Record], int]:
        """Take up to ``limit`` records; return them and the first position."""
        with self._lock:
            count = min(limit, len(self._queue))
            popleft = self._queue.popleft
            taken = [popleft() for _ in range(count)]
            first = self._popped
            self._popped += count
            if self._blocked and count:
                self._space_freed.notify_all()
        return taken, first

    def settle(
        self,
        indices: Sequence[int],
        batch: Sequence[records.Record],
        outcome: str,
        reason: Reason | None = None,
    ) -> None:
        """Run the callbacks for taken records, then count their fate.

        Callbacks come first so that a ``flush`` that returns has seen
        them run for its records.
        """
        if not indices:
            return
        try:
            if outcome == "delivered" and self._on_success is not None:
                self._call(self._on_success, list(batch))
            elif outcome == "failed" and reason is not None:
                for record in batch:
                    self.report_failure(record, reason)
        finally:
            # Even a callback raising SystemExit leaves the counts right.
            with self._lock:
                self._settle_locked(indices, outcome)
                if outcome == "delivered":
                    self.delivered += len(indices)
                elif outcome == "failed":
                    self.failed += len(indices)

    def _settle_locked(self, indices: Sequence[int], outcome: str) -> None:
        self._settled += len(indices)
        for waiter in self._waiters:
            count = bisect.bisect_left(indices, waiter.target)
            if not count:
                continue
            waiter.remaining -= count
            if outcome == "delivered":
                waiter.delivered += count
            elif outcome == "failed":
                waiter.failed += count
            else:
                waiter.dropped += count
        self._settled_changed.notify_all()

    def report_unsent(
        self,
        unsent: Sequence[records.Record],
        detail: str = (
            "shutdown() or the exit flush ran out of time before the "
            "record was delivered"
        ),
    ) -> None:
        """Tell ``on_error`` of records that shutdown() left pending.

        They stay pending in the counters: they were neither delivered
        nor rejected, only not sent in time.
        """
        reason = Reason("shutdown_timeout", detail)
        for record in unsent:
            self.report_failure(record, reason)

    def report_failure(self, record: records.Record, reason: Reason) -> None:
        """Pass one failed or dropped record to ``on_error``."""
        if self._on_error is not None:
            self._call(self._on_error, record, reason)

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            held_back = self._logs.allow(f"callback {callback!r}")
            if held_back is not None:
                logger.exception(
                    "callback %s raised; delivery goes on%s",
                    getattr(callback, "__name__", repr(callback)),
                    LogLimiter.suffix(held_back),
                )

    # Flush, shutdown and stats ------------------------------------------

    def flush(self, timeout: float | None) -> FlushResult:
        """Wait until the records queued so far are settled, or timeout."""
        deadline = None if timeout is None else monotonic() + timeout
        with self._lock:
            target = self._popped + len(self._queue)
            waiter = _FlushWaiter(target, target - self._settled)
            if not waiter.remaining:
                return waiter.result()
            self._waiters.append(waiter)
        try:
            if self._drainer == threading.get_ident():
                # Called from a callback: waiting here would wait on itself.
                return waiter.result()
            if self._inline or not self._ensure_thread():
                self._drain_inline()
                return waiter.result()
            self._wake.set()
            with self._lock:
                while waiter.remaining > 0 and not self._abort.is_set():
                    left = None
                    if deadline is not None:
                        left = deadline - monotonic()
                        if left <= 0:
                            break
                    self._settled_changed.wait(left)
        finally:
            with self._lock:
                self._waiters.remove(waiter)
        return waiter.result()

    def shutdown(self, timeout: float | None) -> FlushResult:
        """Stop taking records, flush within ``timeout``, stop the thread.

        Records still unsettled when it returns stay pending for good:
        later flushes report them at once instead of waiting.
        """
        deadline = None if timeout is None else monotonic() + timeout
        self._closed = True
        self._shut_down = True
        self._fast = False
        if self._drainer == threading.get_ident():
            # Called from a callback: the running drain sends the rest
            # and the thread then ends.
            self._stop_requested = True
            return self.flush(0)
        result = self.flush(timeout)
        self._stop_requested = True
        self._abort.set()
        self._wake.set()
        with self._lock:
            # Flushes waiting in other threads stop waiting now.
            self._settled_changed.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            left = 0.0 if deadline is None else deadline - monotonic()
            thread.join(max(left, 0.0))
        self._report_queue_left()
        if result.pending:
            logger.warning(
                "shutdown timed out with %d records undelivered",
                result.pending,
            )
        return result

    def _report_queue_left(self) -> None:
        """Take the records shutdown() left in the queue and report them.

        Taking them under the lock keeps a thread that is still finishing
        a request from sending them after they were reported.
        """
        with self._lock:
            left = list(self._queue)
            self._queue.clear()
            self._popped += len(left)
        self.report_unsent(left)

    def at_exit(self, deadline: float) -> FlushResult:
        """Flush at interpreter exit; later calls send on their own thread."""
        left = max(0.0, deadline - monotonic())
        # Stop sending a little early, so that the flush thread can pass
        # the records it still has to on_error before the budget ends.
        margin = min(EXIT_REPORT_MARGIN, left / 5)
        result = self.shutdown(left - margin)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(margin)
        # The interpreter ends before a request still out can return.
        self.report_unsent(
            self._delivery.claim_in_flight(),
            "the exit flush ran out of time while the record's request "
            "was out: it may have arrived",
        )
        self._exit_deadline = deadline
        self._inline = True
        self._fast = False
        return result

    def release(self) -> None:
        """Let the thread send what is queued and end, without waiting."""
        self._closed = True
        self._fast = False
        self._stop_requested = True
        self._wake.set()

    @property
    def shut_down(self) -> bool:
        """True once shutdown() was called."""
        return self._shut_down

    def stats(self) -> Stats:
        """Return a snapshot of the counters."""
        with self._lock:
            queued = len(self._queue)
            sender = self._delivery.sender
            return Stats(
                enqueued=self._popped + queued,
                delivered=self.delivered,
                failed=self.failed,
                retried=sender.retried,
                pending=self._popped - self._settled + queued,
                batches_sent=sender.requests_sent,
                bytes_sent=sender.bytes_sent,
                dropped=dict(self._dropped),
            )
