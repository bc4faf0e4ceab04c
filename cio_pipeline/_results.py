"""Failure reasons, flush results and stats that the client reports."""

from __future__ import annotations

import time
from collections.abc import Mapping

import attrs


class Reason(str):
    """A short failure or drop reason such as ``"rejected"``.

    It compares equal to its code; ``detail`` contains the longer text,
    such as the server's message, or is empty.
    """

    __slots__ = ("detail",)
    detail: str

    def __new__(cls, code: str, detail: str = "") -> Reason:
        reason = super().__new__(cls, code)
        reason.detail = detail
        return reason

    def __repr__(self) -> str:
        if self.detail:
            return f"Reason({str(self)!r}, {self.detail!r})"
        return f"Reason({str(self)!r})"

    def describe(self) -> str:
        """Return the code and the detail as one line."""
        return f"{self}: {self.detail}" if self.detail else str(self)


@attrs.frozen
class FlushResult:
    """The fate of the records a ``flush`` or ``shutdown`` waited for.

    ``pending`` counts those neither delivered nor failed nor dropped
    when the call returned, because its timeout passed first.
    """

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    pending: int = 0


@attrs.frozen
class Stats:
    """A snapshot of a client's counters since it was made or forked.

    Every record a call accepted is counted in ``enqueued`` and ends in
    exactly one of ``delivered``, ``failed``, ``dropped["evicted"]``
    (pushed out by ``on_full="drop_oldest"``) or ``pending``. Records
    that a call did not accept are counted only in ``dropped``, under
    ``"queue_full"``, ``"block_timeout"``, ``"shutdown"`` or
    ``"disabled"``. ``retried`` counts records sent again,
    ``batches_sent`` and ``bytes_sent`` every request that got a
    response.
    """

    enqueued: int
    delivered: int
    failed: int
    retried: int
    pending: int
    batches_sent: int
    bytes_sent: int
    dropped: Mapping[str, int]


class LogLimiter:
    """Let a repeated log message through at most once per interval."""

    def __init__(self, interval: float = 30.0) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def allow(self, key: str) -> int | None:
        """Return how many repeats were held back, or None to skip."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._suppressed.pop(key, 0)

    @staticmethod
    def suffix(held_back: int) -> str:
        """Return the note that ends a message with held-back repeats."""
        if not held_back:
            return ""
        return f" ({held_back} more like this since the last one)"
