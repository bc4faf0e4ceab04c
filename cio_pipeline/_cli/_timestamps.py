"""Timestamps in input records: Unix seconds or ISO 8601 text."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")


def parse_timestamp(value: object) -> int | float:
    """Convert a timestamp field of an input record to Unix seconds.

    Numbers pass through unchanged, and the client checks their range.
    A string of digits is Unix seconds. Any other string is read as
    ISO 8601: a time without an offset is UTC, and a date alone is
    midnight UTC. Fractions of a second are dropped from ISO text.

    Raises:
        ValueError: the value is neither a number nor readable text.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(
            f"timestamp must be Unix seconds or ISO 8601 text, got "
            f"{type(value).__name__} {value!r}"
        )
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return _parse_iso(text)


def _parse_iso(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot read timestamp {text!r}: use Unix seconds or ISO 8601 "
            f"such as 1997-01-01 or 1997-01-01T12:30:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp())
