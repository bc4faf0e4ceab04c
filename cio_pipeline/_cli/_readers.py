"""Input readers: JSON Lines (dead-letter files included) and CSV.

Each reader yields one ``InputRecord`` per non-blank line or CSV row,
in file order. A bad line does not raise. Its record carries a
``RecordError`` instead, so one bad line does not stop the run. Errors
reading the file itself, such as ``OSError``, do raise.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

from ._mapping import RecordError

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is optional
    orjson = None  # type: ignore[assignment]

STDIN_NAME = "<stdin>"

# Columns with a meaning of their own; every other column is an
# attribute (people) or event data (events).
PEOPLE_ID_COLUMNS = ("id", "email")
EVENT_COLUMNS = ("customer_id", "name", "timestamp")


class InputRecord(NamedTuple):
    """One line or row of input.

    ``original`` is what a dead-letter line stores as ``record``: the
    JSON object, the CSV row as a JSON Lines object, or the raw text of
    a line that is not a JSON object. When ``error`` is None,
    ``original`` is a dict ready for ``build_call``.
    """

    source: str
    original: Any
    error: RecordError | None


def input_name(path: str) -> str:
    """Return the name that sources use for a path on the command line."""
    return STDIN_NAME if path == "-" else path


@contextmanager
def open_input(path: str) -> Iterator[IO[bytes]]:
    """Open a file named on the command line for reading bytes.

    ``-`` is standard input, and a name ending in ``.gz`` is read
    through gzip.
    """
    if path == "-":
        yield sys.stdin.buffer
        return
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            yield stream  # type: ignore[misc]
        return
    with Path(path).open("rb") as stream:
        yield stream


def read_json_lines(
    lines: Iterable[bytes], name: str
) -> Iterator[InputRecord]:
    """Yield the records of a JSON Lines stream.

    A line that is a dead-letter entry (an object with ``record`` and
    no ``type``) yields the record it contains, so a dead-letter file
    can be sent again as it is.
    """
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text:
            yield _json_record(text, f"{name}:{number}")


def _json_record(text: bytes | str, source: str) -> InputRecord:
    try:
        value = _loads(text)
    except ValueError as error:
        reason = RecordError("invalid_json", f"invalid JSON: {error}")
        return InputRecord(source, _as_text(text), reason)
    if _is_dead_letter(value):
        return _unwrap_dead_letter(value["record"], source)
    return _object_record(value, source)


# A digit run that may not fit in 64 bits.
_LONG_NUMBER = re.compile(rb"\d{19}")


def _loads(text: bytes | str) -> Any:
    """Parse one JSON value, with orjson when it is installed.

    orjson rejects NaN, which the json module takes, so the json module
    decides, and words the error, whenever orjson fails. orjson 3.13
    reads integers over 64 bits as floats, so text with a run of 19 or
    more digits goes to the json module, which keeps them exact.
    """
    if orjson is not None and not _LONG_NUMBER.search(
        text if isinstance(text, bytes) else text.encode()
    ):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _is_dead_letter(value: object) -> bool:
    return (
        isinstance(value, dict) and "record" in value and "type" not in value
    )


def _unwrap_dead_letter(record: object, source: str) -> InputRecord:
    # A line that was not JSON is stored as its text: read it again,
    # since the user may have fixed it in the dead-letter file.
    if isinstance(record, str):
        text = record.strip()
        if text:
            return _json_record(text, source)
    return _object_record(record, source)


def _object_record(value: object, source: str) -> InputRecord:
    if isinstance(value, dict):
        return InputRecord(source, value, None)
    reason = RecordError(
        "not_an_object",
        f"expected a JSON object, got {_json_kind(value)}",
    )
    return InputRecord(source, value, reason)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"the {type(value).__name__} {value!r}"


def _as_text(text: bytes | str) -> str:
    # JSON text cannot hold bytes that are not UTF-8, so they are written
    # as \xNN escapes. A resend then fails on them instead of sending
    # replacement characters.
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    return text


def read_csv(stream: IO[bytes], name: str, kind: str) -> Iterator[InputRecord]:
    """Yield the records of a CSV file of people or events.

    The first row is the header. Cells are strings and empty cells are
    left out, because CSV cannot tell an empty value from a missing one.

    Args:
        stream: the file, read as UTF-8 with an optional byte order mark.
        name: the file's name in sources.
        kind: ``"people"`` or ``"events"``.
    """
    text = io.TextIOWrapper(
        stream, encoding="utf-8-sig", errors="replace", newline=""
    )
    try:
        yield from _csv_rows(text, name, kind)
    finally:
        # Leave the byte stream open: it may be standard input.
        text.detach()


def _csv_rows(text: IO[str], name: str, kind: str) -> Iterator[InputRecord]:
    reader = csv.reader(text)
    header = [column.strip() for column in next(reader, [])]
    missing = missing_columns(header, kind)
    line_number = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row = None
            reason = RecordError("invalid_csv", f"invalid CSV: {error}")
        source = f"{name}:{line_number}"
        line_number = reader.line_num + 1
        if row is None:
            yield InputRecord(source, None, reason)
        elif missing is not None:
            yield InputRecord(source, row, missing)
        elif any(cell.strip() for cell in row):
            yield _csv_record(header, row, source, kind)


def missing_columns(header: list[str], kind: str) -> RecordError | None:
    """Return the error for a CSV header that lacks a required column."""
    if kind == "people":
        if not any(column in header for column in PEOPLE_ID_COLUMNS):
            return RecordError(
                "missing_field",
                "the CSV header has no 'id' or 'email' column",
            )
        return None
    absent = [c for c in EVENT_COLUMNS[:2] if c not in header]
    if absent:
        listed = " or ".join(repr(column) for column in absent)
        return RecordError(
            "missing_field", f"the CSV header has no {listed} column"
        )
    return None


def _csv_record(
    header: list[str], row: list[str], source: str, kind: str
) -> InputRecord:
    if len(row) > len(header):
        reason = RecordError(
            "invalid_csv",
            f"the row has {len(row)} cells but the header has "
            f"{len(header)} columns",
        )
        return InputRecord(source, row, reason)
    cells = {
        column: cell
        for column, cell in zip(header, row, strict=False)
        if cell != ""
    }
    if kind == "people":
        return InputRecord(source, person_record(cells), None)
    return InputRecord(source, event_record(cells), None)


def person_record(cells: dict[str, str]) -> dict[str, Any]:
    """Return the ``identify`` record for a people CSV row.

    The person is addressed by ``id``, or by ``email`` when the row has
    no id; every other cell is an attribute.
    """
    key = next(
        (column for column in PEOPLE_ID_COLUMNS if column in cells), None
    )
    attributes = {
        column: value for column, value in cells.items() if column != key
    }
    record: dict[str, Any] = {"type": "identify"}
    if key is not None:
        record["id"] = cells[key]
    record["attributes"] = attributes
    return record


def event_record(cells: dict[str, str]) -> dict[str, Any]:
    """Return the ``track`` record for an events CSV row."""
    record: dict[str, Any] = {"type": "track"}
    record.update(
        (column, cells[column]) for column in EVENT_COLUMNS if column in cells
    )
    data = {
        column: value
        for column, value in cells.items()
        if column not in EVENT_COLUMNS
    }
    if data:
        record["data"] = data
    return record
