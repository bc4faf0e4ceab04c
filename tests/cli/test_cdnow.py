"""Tests of the CDNOW purchase log reader."""

from __future__ import annotations

import pytest

from cio_pipeline._cli._cdnow import (
    MASTER_FILE,
    SAMPLE_FILE,
    Purchase,
    parse_purchases,
    read_purchases,
)


def test_master_lines_with_header_and_crlf() -> None:
    """The header is skipped, ids keep their zeros, dates become seconds."""
    lines = [
        " customer_id  date number_of_cds  dollar_value\r\n",
        " 00001 19970101  1   11.77\r\n",
        " 00002 19970112  5   77.00\r\n",
    ]
    assert list(parse_purchases(lines)) == [
        Purchase("00001", 852076800, 1, 11.77, 2),
        Purchase("00002", 853027200, 5, 77.0, 3),
    ]


def test_sample_lines_use_the_first_id() -> None:
    """The sample's second id column is dropped."""
    lines = [" 00004 0001 19970101  2   29.33\r\n"]
    assert list(parse_purchases(lines)) == [
        Purchase("00004", 852076800, 2, 29.33, 1)
    ]


def test_malformed_line_raises() -> None:
    """A line with the wrong number of fields names its line number."""
    with pytest.raises(ValueError, match="line 2"):
        list(parse_purchases(["00001 19970101 1 1.0\n", "00001 1\n"]))


@pytest.mark.parametrize(
    ("file_name", "purchases", "customers", "repeats"),
    [(SAMPLE_FILE, 6919, 2357, 19), (MASTER_FILE, 69659, 23570, 215)],
)
def test_shipped_files_counts(
    file_name: str, purchases: int, customers: int, repeats: int
) -> None:
    """The shipped files have the documented size and repeated lines."""
    rows = list(read_purchases(file_name))
    assert len(rows) == purchases
    assert len({row.customer_id for row in rows}) == customers
    keys = [row[:4] for row in rows]
    assert len(keys) - len(set(keys)) >= repeats
