"""Tests of timestamp fields: Unix seconds or ISO 8601 text."""

from __future__ import annotations

import pytest

from cio_pipeline._cli._timestamps import parse_timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (852076800, 852076800),
        (852076800.5, 852076800.5),
        ("852076800", 852076800),
        (" 852076800 ", 852076800),
        ("852076800.25", 852076800.25),
        ("1997-01-01", 852076800),
        ("1997-01-01T00:00:00", 852076800),
        ("1997-01-01T00:00:00Z", 852076800),
        ("1997-01-01T01:00:00+01:00", 852076800),
        ("1997-01-01 00:00:00.999", 852076800),
    ],
)
def test_timestamp_accepted_forms(value: object, expected: float) -> None:
    """Numbers pass through; digit strings and ISO text become seconds."""
    assert parse_timestamp(value) == expected


def test_timestamp_naive_iso_is_utc() -> None:
    """An ISO time without an offset is read as UTC."""
    assert parse_timestamp("1970-01-01T00:01:00") == 60


@pytest.mark.parametrize(
    "value", ["yesterday", "1997-13-01", "", "01/02/1997", True, None, [1]]
)
def test_timestamp_rejects_unreadable(value: object) -> None:
    """Text that is not a date, booleans and other types raise."""
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp(value)
