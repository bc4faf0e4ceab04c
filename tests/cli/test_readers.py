"""Tests of the JSON Lines, dead-letter and CSV readers."""

from __future__ import annotations

import io
import json

from cio_pipeline._cli._readers import read_csv, read_json_lines


def _json_lines(text: bytes) -> list[tuple[str, object, str | None]]:
    return [
        (record.source, record.original, record.error and record.error.reason)
        for record in read_json_lines(io.BytesIO(text), "in.jsonl")
    ]


def _csv(text: str, kind: str) -> list[tuple[str, object, str | None]]:
    stream = io.BytesIO(text.encode("utf-8"))
    return [
        (record.source, record.original, record.error and record.error.reason)
        for record in read_csv(stream, "in.csv", kind)
    ]


def test_json_lines_numbers_lines_and_skips_blanks() -> None:
    """Sources count every line, blank ones included; CRLF is fine."""
    records = _json_lines(
        b'{"type":"delete","customer_id":"1"}\r\n\n  \n{"a":1}\n'
    )
    assert records == [
        ("in.jsonl:1", {"type": "delete", "customer_id": "1"}, None),
        ("in.jsonl:4", {"a": 1}, None),
    ]


def test_json_lines_bad_lines_carry_errors() -> None:
    """Invalid JSON keeps the raw text; non-objects keep the value."""
    records = _json_lines(b'{"type": \n[1]\n"text"\nnull\n')
    assert records == [
        ("in.jsonl:1", '{"type":', "invalid_json"),
        ("in.jsonl:2", [1], "not_an_object"),
        ("in.jsonl:3", "text", "not_an_object"),
        ("in.jsonl:4", None, "not_an_object"),
    ]


def test_json_lines_invalid_utf8_is_a_bad_line() -> None:
    """Bytes that are not UTF-8 fail that line alone."""
    records = _json_lines(b'{"a": "\xff"}\n{"b": 1}\n')
    assert records[0][0] == "in.jsonl:1"
    assert records[0][2] == "invalid_json"
    assert records[1] == ("in.jsonl:2", {"b": 1}, None)


def test_dead_letter_lines_yield_their_record() -> None:
    """A dead-letter entry yields its record; the rest is ignored."""
    entry = {
        "record": {"type": "delete", "customer_id": "1"},
        "error": "rejected",
        "detail": "bad",
        "source": "old.jsonl:9",
    }
    records = _json_lines(json.dumps(entry).encode() + b"\n")
    assert records == [
        ("in.jsonl:1", {"type": "delete", "customer_id": "1"}, None)
    ]


def test_dead_letter_raw_line_is_parsed_again() -> None:
    """A raw line stored by an earlier run is read as JSON again."""
    fixed = {"record": '{"type":"delete","customer_id":"1"}', "error": "x"}
    broken = {"record": "{oops", "error": "invalid_json"}
    text = (json.dumps(fixed) + "\n" + json.dumps(broken) + "\n").encode()
    records = _json_lines(text)
    assert records[0] == (
        "in.jsonl:1",
        {"type": "delete", "customer_id": "1"},
        None,
    )
    assert records[1] == ("in.jsonl:2", "{oops", "invalid_json")


def test_object_with_type_and_record_is_not_unwrapped() -> None:
    """Only objects without a type are read as dead-letter entries."""
    value = {"type": "identify", "id": "1", "record": "x"}
    assert _json_lines(json.dumps(value).encode()) == [
        ("in.jsonl:1", value, None)
    ]


def test_csv_people_rows() -> None:
    """People rows: id, attributes as strings, empty cells left out."""
    text = "id,email,created_at,plan\r\n00001,a@x.io,1997-01-01,\r\n"
    assert _csv(text, "people") == [
        (
            "in.csv:2",
            {
                "type": "identify",
                "id": "00001",
                "attributes": {"email": "a@x.io", "created_at": "1997-01-01"},
            },
            None,
        )
    ]


def test_csv_people_by_email_when_no_id() -> None:
    """A row without an id is addressed by its email."""
    text = "\ufeffid,email,plan\n,b@x.io,pro\n"
    assert _csv(text, "people") == [
        (
            "in.csv:2",
            {
                "type": "identify",
                "id": "b@x.io",
                "attributes": {"plan": "pro"},
            },
            None,
        )
    ]


def test_csv_events_rows() -> None:
    """Event rows: customer_id, name, timestamp; other columns are data."""
    text = (
        "customer_id,name,timestamp,cds,value\n7,purchase,1997-01-01,2,9.5\n"
    )
    assert _csv(text, "events") == [
        (
            "in.csv:2",
            {
                "type": "track",
                "customer_id": "7",
                "name": "purchase",
                "timestamp": "1997-01-01",
                "data": {"cds": "2", "value": "9.5"},
            },
            None,
        )
    ]


def test_csv_line_numbers_follow_quoted_newlines() -> None:
    """A quoted cell over two lines moves the next row's line number."""
    text = 'customer_id,name,note\n1,a,"two\nlines"\n\n2,b,x\n'
    sources = [source for source, _, _ in _csv(text, "events")]
    assert sources == ["in.csv:2", "in.csv:5"]


def test_csv_row_with_extra_cells_fails() -> None:
    """A row longer than the header is an invalid_csv record."""
    records = _csv("customer_id,name\n1,a,extra\n", "events")
    assert records == [("in.csv:2", ["1", "a", "extra"], "invalid_csv")]


def test_csv_header_without_required_columns() -> None:
    """Every row of a file whose header lacks a column fails with it."""
    records = _csv("customer,name\n1,a\n2,b\n", "events")
    assert [reason for _, _, reason in records] == [
        "missing_field",
        "missing_field",
    ]
    people = list(read_csv(io.BytesIO(b"name\nx\n"), "in.csv", "people"))
    assert people[0].error is not None
    assert "'id' or 'email'" in str(people[0].error)


def test_csv_leaves_the_byte_stream_open() -> None:
    """Reading CSV does not close the stream, which may be stdin."""
    stream = io.BytesIO(b"id\n1\n")
    list(read_csv(stream, "in.csv", "people"))
    assert not stream.closed
