"""JSON encoding: the same output with and without orjson."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from cio_pipeline._encoder import Encoder, datetime_seconds

pytest.importorskip("orjson")


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.fixture(params=["orjson", "json"])
def encoder(request: pytest.FixtureRequest) -> Encoder:
    encoder = Encoder(use_orjson=request.param == "orjson")
    assert encoder.uses_orjson == (request.param == "orjson")
    return encoder


CASES: list[tuple[Any, Any]] = [
    (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), 1704164645),
    # A naive datetime is read as UTC.
    (datetime(2024, 1, 2, 3, 4, 5), 1704164645),
    # An aware datetime is converted, not relabelled.
    (
        datetime(2024, 1, 1, 22, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
        1704164645,
    ),
    (date(2024, 1, 2), 1704153600),
    (time(13, 45), "13:45:00"),
    (Decimal("19.99"), 19.99),
    (Decimal("1234567890.123456789012"), "1234567890.123456789012"),
    (Decimal("NaN"), None),
    (float("nan"), None),
    (float("inf"), None),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    (Color.RED, "red"),
    ({3, 1, 2}, [1, 2, 3]),
    ((1, "a"), [1, "a"]),
    (b"caf\xc3\xa9", "café"),
    (Point(1, 2), {"x": 1, "y": 2}),
    ("日本語", "日本語"),
    (2**70, 2**70),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_encoder_converts_value(
    encoder: Encoder, value: Any, expected: Any
) -> None:
    encoded = encoder.dumps({"value": value})
    assert json.loads(encoded) == {"value": expected}


def test_encoder_output_is_compact_utf8(encoder: Encoder) -> None:
    encoded = encoder.dumps({"name": "café", "list": [1, 2]})
    assert encoded == '{"name":"café","list":[1,2]}'.encode()


def test_both_encoders_give_same_bytes() -> None:
    fast, plain = Encoder(use_orjson=True), Encoder(use_orjson=False)
    value = {
        "at": datetime(2024, 1, 2, tzinfo=UTC),
        "day": date(2024, 1, 2),
        "n": 3,
        "s": "é",
        "nested": {"list": [1, "two", None, True]},
    }
    assert fast.dumps(value) == plain.dumps(value)


def test_encoder_rejects_unknown_type(encoder: Encoder) -> None:
    with pytest.raises(TypeError, match="json_default"):
        encoder.dumps({"value": object()})


def test_encoder_rejects_bytes_that_are_not_utf8(encoder: Encoder) -> None:
    with pytest.raises(ValueError, match="utf-8"):
        encoder.dumps({"value": b"\xff"})


def test_encoder_uses_json_default() -> None:
    for use_orjson in (True, False):
        encoder = Encoder(
            lambda value: f"<{type(value).__name__}>", use_orjson=use_orjson
        )
        assert encoder.dumps({"v": object()}) == b'{"v":"<object>"}'


def test_datetime_seconds_floors_fractions() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)
    assert datetime_seconds(moment) == 1704164645


@dataclasses.dataclass
class Measurement:
    value: float


def test_nan_inside_converted_values_becomes_null() -> None:
    for use_orjson in (True, False):
        encoder = Encoder(use_orjson=use_orjson)
        # The big integer sends orjson's output through the json module.
        value = {"m": Measurement(float("nan")), "big": 2**70}
        decoded = json.loads(encoder.dumps(value))
        assert decoded == {"m": {"value": None}, "big": 2**70}


def test_non_string_keys_agree(encoder: Encoder) -> None:
    encoded = encoder.dumps({1: "a", 2.5: "b", False: "c", None: "d"})
    assert json.loads(encoded) == {
        "1": "a",
        "2.5": "b",
        "false": "c",
        "null": "d",
    }
    with pytest.raises(TypeError):
        encoder.dumps({datetime(2024, 1, 1, tzinfo=UTC): 1})
