"""Retry timing as pure functions, and the rate limit."""

from __future__ import annotations

import email.utils
import itertools
import threading

import pytest

from cio_pipeline._retry import RateLimiter, backoff_delays
from cio_pipeline._transport import parse_retry_after


def test_backoff_doubles_up_to_cap() -> None:
    delays = backoff_delays(factor=0.5, cap=10.0, jitter=lambda wait: wait)
    assert list(itertools.islice(delays, 7)) == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        10.0,
        10.0,
    ]


def test_backoff_full_jitter_stays_in_range() -> None:
    delays = list(itertools.islice(backoff_delays(), 200))
    ceilings = [min(10.0, 0.5 * 2**n) for n in range(200)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    # Full jitter spreads waits over the whole range, not near the top.
    assert min(delays[10:]) < 5.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        (" 7 ", 7.0),
        ("-4", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_seconds(
    header: str | None, expected: float | None
) -> None:
    assert parse_retry_after(header, now=1000.0) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now) == 0.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_then_spaces() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    waits = [limiter.wait_time() for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.1)
    assert waits[11] == pytest.approx(0.2)


def test_rate_limiter_refills_over_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock)
    for _ in range(10):
        limiter.wait_time()
    clock.now = 0.5
    waits = [limiter.wait_time() for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.1)


def test_rate_limiter_off_never_waits() -> None:
    limiter = RateLimiter(None, FakeClock())
    assert [limiter.wait_time() for _ in range(1000)] == [0.0] * 1000


def test_rate_limiter_acquire_stops_on_abort() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock)
    stop = threading.Event()
    assert limiter.acquire(stop)
    stop.set()
    assert not limiter.acquire(stop)
