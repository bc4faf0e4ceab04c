"""Send one request with retries, and classify the Track API response."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from ._results import LogLimiter, Reason
from ._retry import RETRY_STATUSES, RateLimiter, RetryPolicy
from ._transport import Response, TransientError, Transport

logger = logging.getLogger(__name__)

# Maximum length of the server message kept in a failure reason.
MAX_DETAIL = 300


class Partial(NamedTuple):
    """A 207 response: the listed operations failed, the rest succeeded."""

    failures: dict[int, Reason]


class Delivered(NamedTuple):
    """Every operation of the request was accepted."""


class Failed(NamedTuple):
    """The whole request failed for good."""

    reason: Reason


class TooLarge(NamedTuple):
    """The server responded 413: the request must be split."""


class Aborted(NamedTuple):
    """Sending stopped because the client is shutting down."""


Outcome = Delivered | Partial | Failed | TooLarge | Aborted


def server_message(body: bytes) -> str:
    """Return the error text of a Track API response, shortened."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:MAX_DETAIL].decode("utf-8", "replace").strip()
    messages: list[str] = []
    if isinstance(document, dict):
        meta = document.get("meta")
        if isinstance(meta, dict):
            if isinstance(meta.get("error"), str):
                messages.append(meta["error"])
            if isinstance(meta.get("errors"), list):
                messages.extend(str(item) for item in meta["errors"])
        if isinstance(document.get("errors"), list):
            messages.extend(
                _describe_error(item) for item in document["errors"]
            )
    text = "; ".join(messages) or json.dumps(document)
    return text[:MAX_DETAIL]


def _describe_error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    parts = [
        str(item[key])
        for key in ("reason", "field", "message")
        if item.get(key)
    ]
    return " ".join(parts)


def partial_failures(body: bytes, count: int) -> dict[int, Reason]:
    """Map each failed ``batch_index`` of a 207 response to its reason."""
    try:
        errors = json.loads(body).get("errors", [])
    except (ValueError, AttributeError):
        errors = []
    failures: dict[int, Reason] = {}
    for item in errors if isinstance(errors, list) else []:
        if not isinstance(item, dict):
            continue
        index = item.get("batch_index")
        if not isinstance(index, int) or not 0 <= index < count:
            continue
        code = "too_large" if item.get("reason") == "too_large" else "rejected"
        failures[index] = Reason(code, _describe_error(item)[:MAX_DETAIL])
    return failures


def classify(response: Response, count: int) -> Outcome:
    """Turn a final (not retried) response into an outcome."""
    status = response.status
    if status == 207:
        return Partial(partial_failures(response.body, count))
    if 200 <= status < 300:
        return Delivered()
    if status == 413:
        return TooLarge()
    detail = f"HTTP {status}: {server_message(response.body)}"
    if status == 401:
        return Failed(Reason("unauthorized", detail))
    if status == 400:
        return Failed(Reason("rejected", detail))
    return Failed(Reason(f"http_{status}", detail))


class Sender:
    """Send requests, retrying transient failures with backoff."""

    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy,
        limiter: RateLimiter,
        abort: threading.Event,
        clock: Callable[[], float],
    ) -> None:
        self.transport = transport
        self._policy = policy
        self._limiter = limiter
        self._abort = abort
        self._clock = clock
        self._logs = LogLimiter()
        self.log_payloads = False
        self.retried = 0
        self.requests_sent = 0
        self.bytes_sent = 0

    def send(
        self,
        method: str,
        path: str,
        body: bytes,
        count: int,
        deadline: float,
        *,
        stop_at: float | None = None,
    ) -> Outcome:
        """Send until a final response, the retry limits or an abort.

        ``count`` is the number of records in the request, for the
        ``retried`` counter. Retries end in failure at ``deadline``; at
        ``stop_at``, the end of a flush at exit, they end in an abort
        that leaves the records pending.
        """
        delays = self._policy.delays()
        attempt = 0
        while True:
            if not self._limiter.acquire(self._abort):
                return Aborted()
            if self.log_payloads:
                logger.debug("%s %s body: %s", method, path, body[:4096])
            started = self._clock()
            try:
                response = self.transport.request(method, path, body)
            except TransientError as error:
                problem = Reason("connection_error", str(error))
                retry_after = None
            else:
                self.requests_sent += 1
                self.bytes_sent += len(body)
                logger.debug(
                    "%s %s: %d records, %d bytes, HTTP %d in %.1f ms",
                    method,
                    path,
                    count,
                    len(body),
                    response.status,
                    (self._clock() - started) * 1000,
                )
                if response.status not in RETRY_STATUSES:
                    return classify(response, count)
                problem = Reason(
                    f"http_{response.status}",
                    f"HTTP {response.status}: {server_message(response.body)}",
                )
                retry_after = response.retry_after
            attempt += 1
            if stop_at is not None and stop_at <= min(deadline, self._clock()):
                return Aborted()
            wait = self._next_wait(delays, retry_after, deadline)
            if attempt > self._policy.max_retries or wait is None:
                return Failed(Reason("retries_exhausted", problem.describe()))
            if stop_at is not None:
                wait = min(wait, max(0.0, stop_at - self._clock()))
            self.retried += count
            self._log_retry(path, count, attempt, wait, problem)
            if self._abort.wait(wait):
                return Aborted()

    def _next_wait(
        self,
        delays: Any,
        retry_after: float | None,
        deadline: float,
    ) -> float | None:
        """Return the wait before the next try, or None when out of time."""
        left = deadline - self._clock()
        if left <= 0:
            return None
        wait: float = next(delays) if retry_after is None else retry_after
        return min(wait, left)

    def _log_retry(
        self,
        path: str,
        count: int,
        attempt: int,
        wait: float,
        problem: Reason,
    ) -> None:
        logger.debug(
            "retrying %s (%d records) in %.2f s, attempt %d: %s",
            path,
            count,
            wait,
            attempt,
            problem.describe(),
        )
        held_back = self._logs.allow(f"retry {problem}")
        if held_back is not None:
            logger.warning(
                "Track API request failed and will be retried: %s%s",
                problem.describe(),
                LogLimiter.suffix(held_back),
            )
