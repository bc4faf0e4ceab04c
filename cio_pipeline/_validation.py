"""Call-site checks: cheap, and raising ``ValidationError`` on misuse.

The operations inline the common fast path (a short ``str``) and call
these functions for everything else, so most calls never get here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ._errors import ValidationError

# Field limits of the Track API, in bytes of UTF-8.
MAX_ID_BYTES = 150
MAX_EVENT_NAME_BYTES = 100
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTES = 300
MAX_SEGMENT_IDS = 1000
# Site ids and API keys are short; this bounds them generously.
MAX_CREDENTIAL_LENGTH = 1000

# A timestamp at or past this value is in milliseconds, not seconds: as
# seconds it would be in the year 5138.
MIN_MILLISECONDS = 100_000_000_000

# The smallest int whose decimal text is over the id limit.
_MAX_INT_ID = 10**MAX_ID_BYTES

PLATFORMS = ("ios", "android")
ID_TYPES = ("id", "email", "cio_id")
IDENTIFY_BY = ("auto", "id", "email", "cio_id")


def show(value: object) -> str:
    """Return a short ``repr`` of ``value`` for an error message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def check_identifier(value: object, argument: str) -> str | int:
    """Return ``value`` if it is a usable person id, else raise."""
    if isinstance(value, bool):
        raise ValidationError(
            f"{argument} must be a str or int, got the bool {value!r}"
        )
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(
                f"{argument} must not be negative, got {value}"
            )
        if value >= _MAX_INT_ID:
            raise ValidationError(
                f"{argument} has more than {MAX_ID_BYTES} digits and the "
                f"Track API allows ids of at most {MAX_ID_BYTES} bytes"
            )
        return value
    if value is None:
        raise ValidationError(
            f"{argument} is required: pass the person's id, email or "
            f"cio_id, got None"
        )
    if not isinstance(value, str):
        raise ValidationError(
            f"{argument} must be a str or int, got "
            f"{type(value).__name__} {show(value)}"
        )
    if not value or value.isspace():
        raise ValidationError(
            f"{argument} must not be blank, got {value!r}: pass the "
            f"person's id, email or cio_id"
        )
    check_length(value, argument, MAX_ID_BYTES)
    return value


def check_text(value: object, argument: str, max_bytes: int) -> str:
    """Return ``value`` if it is a non-blank ``str`` within ``max_bytes``."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{argument} must be a str, got "
            f"{type(value).__name__} {show(value)}"
        )
    if not value or value.isspace():
        raise ValidationError(f"{argument} must not be blank, got {value!r}")
    check_length(value, argument, max_bytes)
    return value


def check_secret(value: object, argument: str) -> str:
    """Return ``value`` if it is a usable credential; never echo it."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{argument} must be a str, got {type(value).__name__}"
        )
    if not value or value.isspace():
        raise ValidationError(f"{argument} must not be blank")
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise ValidationError(
            f"{argument} is {len(value)} characters long, more than any "
            f"Track API credential: check that the right value is passed"
        )
    return value


def check_length(value: str, argument: str, max_bytes: int) -> None:
    """Raise if ``value`` is longer than ``max_bytes`` in UTF-8."""
    # A code point takes at most 4 bytes, so short strings pass unencoded.
    if len(value) * 4 <= max_bytes:
        return
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ValidationError(
            f"{argument} is {size} bytes in UTF-8 and the Track API "
            f"allows at most {max_bytes}: shorten {show(value)}"
        )


def check_data(value: object, argument: str) -> dict[str, Any] | None:
    """Return a shallow copy of the mapping ``value``, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.copy()
    if isinstance(value, Mapping):
        return dict(value)
    raise ValidationError(
        f"{argument} must be a dict or None, got "
        f"{type(value).__name__} {show(value)}"
    )


def check_attributes(attributes: dict[str, Any], argument: str) -> None:
    """Check the count and names of a person's attributes."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationError(
            f"{argument} has {len(attributes)} attributes and the Track API "
            f"allows at most {MAX_ATTRIBUTES} in one call: split the update"
        )
    for name in attributes:
        if len(name) * 4 > MAX_ATTRIBUTE_NAME_BYTES:
            check_length(name, "attribute name", MAX_ATTRIBUTE_NAME_BYTES)


def check_timestamp(value: object, argument: str) -> int | float | datetime:
    """Return ``value`` if it is a datetime or Unix seconds, else raise."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"{argument} must be a datetime or Unix seconds (int or float), "
            f"got {type(value).__name__} {show(value)}"
        )
    if not math.isfinite(value) or value < 0:
        raise ValidationError(
            f"{argument} must be Unix seconds at or after 1970, got {value!r}"
        )
    if value >= MIN_MILLISECONDS:
        raise ValidationError(
            f"{argument}={value!r} looks like milliseconds: the Track API "
            f"takes Unix seconds, so divide it by 1000"
        )
    return value


def check_choice(value: object, argument: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise."""
    options = tuple(choices)
    if value not in options:
        listed = ", ".join(repr(option) for option in options)
        raise ValidationError(
            f"{argument} must be one of {listed}, got {show(value)}"
        )
    return str(value)


def check_segment_id(value: object) -> int:
    """Return the manual segment id ``value`` as an int, else raise."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(
            f"segment_id must be a positive int, got {show(value)}"
        )
    return value


def check_customer_ids(values: object) -> list[str]:
    """Return the ids of a segment call as strings, else raise."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"customer_ids must be a list of ids, got {show(values)}"
        )
    ids = [str(check_identifier(value, "customer_ids[]")) for value in values]
    if not ids:
        raise ValidationError("customer_ids must not be empty")
    return ids
