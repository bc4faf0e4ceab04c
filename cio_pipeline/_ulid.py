"""ULIDs for event de-duplication.

A ULID is 48 bits of Unix milliseconds and 80 random bits, written as
26 characters of Crockford's base32. Within one millisecond this
generator keeps the top 60 random bits and counts up in the low 20, so
a new id costs two table look-ups instead of 80 fresh random bits.
"""

from __future__ import annotations

import os

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Every pair of base32 digits, indexed by the 10-bit value they encode.
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)

_COUNTER_BITS = 20
_COUNTER_LIMIT = 1 << _COUNTER_BITS


def _encode_bits(value: int, pairs: int) -> str:
    """Encode the low ``pairs * 10`` bits of ``value``, high bits first."""
    return "".join(
        _PAIRS[(value >> (10 * shift)) & 1023]
        for shift in range(pairs - 1, -1, -1)
    )


class UlidGenerator:
    """Make ULIDs; not thread-safe, so each worker owns one."""

    def __init__(self) -> None:
        self._millisecond = -1
        self._prefix = ""
        self._counter = 0

    def new(self, now: float) -> str:
        """Return a new ULID stamped with ``now``, in Unix seconds."""
        millisecond = int(now * 1000)
        counter = self._counter + 1
        if millisecond != self._millisecond or counter >= _COUNTER_LIMIT:
            self._start(millisecond)
            counter = self._counter
        self._counter = counter
        return f"{self._prefix}{_PAIRS[counter >> 10]}{_PAIRS[counter & 1023]}"

    def _start(self, millisecond: int) -> None:
        random_bits = int.from_bytes(os.urandom(10), "big")
        # Leave the counter's top bit clear so it has room to count up.
        self._counter = random_bits & (_COUNTER_LIMIT // 2 - 1)
        random_high = random_bits >> _COUNTER_BITS
        # 48 bits of milliseconds take 10 digits, the top 2 bits zero.
        self._prefix = _encode_bits(millisecond, 5) + _encode_bits(
            random_high, 6
        )
        self._millisecond = millisecond
