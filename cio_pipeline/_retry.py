"""Retry timing: exponential backoff with full jitter, and a rate limit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import attrs
import backoff

# The first wait is drawn from [0, 0.5 s], and each later one from a
# range twice as wide, up to this cap.
BACKOFF_FACTOR = 0.5
BACKOFF_CAP = 10.0

# Statuses worth sending again unchanged: a timeout, throttling and
# server errors.
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))


def backoff_delays(
    factor: float = BACKOFF_FACTOR,
    cap: float = BACKOFF_CAP,
    jitter: Callable[[float], float] = backoff.full_jitter,
) -> Iterator[float]:
    """Yield the wait before each retry, in seconds, without end."""
    waits = backoff.expo(base=2, factor=factor, max_value=cap)
    # backoff's generators wait for a first send() before yielding.
    next(waits)
    for wait in waits:
        yield jitter(wait)


@attrs.frozen
class RetryPolicy:
    """How often and how long a batch is retried."""

    max_retries: int
    max_retry_time: float

    def delays(self) -> Iterator[float]:
        """Yield the waits of one batch's retries."""
        return backoff_delays()


class RateLimiter:
    """A token bucket that spaces requests to at most ``rate`` a second."""

    def __init__(self, rate: float | None, clock: Callable[[], float]) -> None:
        self._interval = 0.0 if not rate else 1.0 / rate
        self._clock = clock
        # One second's worth of requests may go out back to back.
        self._burst = max(1.0, rate or 1.0)
        self._tokens = self._burst
        self._updated = clock()

    def wait_time(self) -> float:
        """Take a token and return how long to wait before using it."""
        if not self._interval:
            return 0.0
        now = self._clock()
        self._tokens = min(
            self._burst,
            self._tokens + (now - self._updated) / self._interval,
        )
        self._updated = now
        self._tokens -= 1.0
        if self._tokens >= 0.0:
            return 0.0
        return -self._tokens * self._interval

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a token; return False if ``stop`` was set first."""
        delay = self.wait_time()
        return not (delay > 0.0 and stop.wait(delay))
