"""JSON encoding of operations: compact UTF-8, orjson when installed.

Both encoders give the same JSON for the types documented here:

- ``datetime``: integer Unix seconds; a naive datetime is read as UTC,
  an aware one is converted.
- ``date``: Unix seconds at midnight UTC of that day.
- ``time``: ISO 8601 text such as ``"13:45:00"``.
- ``Decimal``: a number when a float represents it exactly, else its text,
  so no digits are lost; NaN and infinities become ``null``.
- ``float`` NaN and infinities: ``null``.
- ``UUID``: its text. ``Enum``: its value. ``set``, ``frozenset`` and
  ``tuple``: a list (sets sorted when their items can be sorted).
- ``bytes``: decoded as UTF-8; bytes that are not UTF-8 fail the record.
- dataclass instances: an object of their fields.
- dict keys: ``int``, ``float``, ``bool`` and None keys become text as
  in the json module; keys of other types fail the record.
- anything else: ``json_default(value)`` when the client has one, else
  the record fails with the reason ``unencodable``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

JsonDefault = Callable[[Any], Any]


def datetime_seconds(value: datetime) -> int:
    """Return ``value`` as integer Unix seconds; naive means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.floor(value.timestamp())


def timestamp_seconds(value: int | float | datetime) -> int:
    """Return a checked timestamp as integer Unix seconds."""
    if isinstance(value, datetime):
        return datetime_seconds(value)
    return int(value)


def _decimal_value(value: Decimal) -> float | str | None:
    if not value.is_finite():
        return None
    number = float(value)
    if Decimal(repr(number)) == value:
        return number
    return str(value)


def _without_nan(value: Any) -> Any:
    """Return ``value`` with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nan(item) for item in value]
    return value


class Encoder:
    """Encode operations to compact UTF-8 JSON bytes."""

    def __init__(
        self,
        json_default: JsonDefault | None = None,
        *,
        use_orjson: bool | None = None,
    ) -> None:
        self._json_default = json_default
        if use_orjson is None:
            use_orjson = orjson is not None
        self.uses_orjson = use_orjson and orjson is not None
        self._stdlib = json.JSONEncoder(
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
            default=self.default,
        )
        # For values holding NaN, also in what default() returns.
        self._stdlib_without_nan = json.JSONEncoder(
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
            default=lambda value: _without_nan(self.default(value)),
        )

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``; raise TypeError or ValueError if it cannot."""
        if self.uses_orjson:
            try:
                return orjson.dumps(
                    value,
                    default=self.default,
                    option=orjson.OPT_PASSTHROUGH_DATETIME
                    | orjson.OPT_PASSTHROUGH_DATACLASS,
                )
            except orjson.JSONEncodeError:
                # The json module encodes what orjson rejects: integers
                # over 64 bits, and keys that are not str, the same way
                # with or without orjson.
                pass
        return self._dumps_stdlib(value)

    def _dumps_stdlib(self, value: Any) -> bytes:
        try:
            text = self._stdlib.encode(value)
        except ValueError as error:
            if "float" not in str(error):
                raise
            text = self._stdlib_without_nan.encode(_without_nan(value))
        return text.encode("utf-8")

    def default(self, value: Any) -> Any:
        """Convert a value that JSON has no type for; see the module doc."""
        if type(value) is datetime and value.tzinfo is not None:
            return math.floor(value.timestamp())
        if isinstance(value, datetime):
            return datetime_seconds(value)
        if isinstance(value, date):
            return datetime_seconds(
                datetime(value.year, value.month, value.day, tzinfo=UTC)
            )
        if isinstance(value, time):
            return value.isoformat()
        if isinstance(value, Decimal):
            return _decimal_value(value)
        if isinstance(value, UUID):
            return str(value)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, set | frozenset):
            try:
                return sorted(value)
            except TypeError:
                return list(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).decode("utf-8")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                field.name: getattr(value, field.name)
                for field in dataclasses.fields(value)
            }
        if self._json_default is not None:
            return self._json_default(value)
        raise TypeError(
            f"values of type {type(value).__name__} cannot be encoded as "
            f"JSON: convert them first or pass json_default= to the Client"
        )
