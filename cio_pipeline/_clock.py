"""The monotonic clock that the flush thread's deadlines use."""

from __future__ import annotations

import time


class _RealClock:
    """The monotonic clock, kept where freezegun does not patch it.

    freezegun replaces module attributes that are the real clock
    functions, but not class attributes, so the flush thread's
    deadlines keep moving while a test freezes the time that records
    are stamped with.
    """

    monotonic = staticmethod(time.monotonic)


def monotonic() -> float:
    """Return the real monotonic time, in seconds."""
    return _RealClock.monotonic()
