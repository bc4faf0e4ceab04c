"""Handlers for /api/v2/batch and /api/v2/entity."""

from __future__ import annotations

import json
import re
from json.scanner import make_scanner
from typing import Any

from ._actions import apply_operation
from ._checks import INVALID, TOO_LARGE, Problem
from ._limits import MAX_OPERATION_BYTES, json_bytes, text_bytes
from ._messages import OK, Response, json_response, parse_json, v2_errors
from ._v1 import Call
from ._validation import check_operation

# The usual layout of a batch body: {"batch": [op, op, ...]}.
_BATCH_START = re.compile(r'\s*\{\s*"batch"\s*:\s*\[\s*')
_SPACE = re.compile(r"\s*")
# The C scanner behind json.loads, called once per operation so that each
# operation's position, and so its size as sent, is known.
_scan_value = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

# (operation, its size in bytes, its JSON text or None when not known).
Sized = list[tuple[Any, int, str | None]]


def split_batch(body: bytes) -> tuple[Sized | None, Problem | None]:
    """Decode a batch body into (operation, size in bytes, text) triples.

    Sizes and texts are those of each operation as sent. Bodies in another
    layout fall back to a full decode; their operations are measured as
    compact JSON and come without text.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, Problem(INVALID, "", "request body is not valid UTF-8")

    sized = _scan(text)
    if sized is not None:
        return sized, None

    value, error = parse_json(body)
    if error is not None:
        return None, Problem(INVALID, "", error)

    operations = value.get("batch") if isinstance(value, dict) else None
    if not isinstance(operations, list):
        return None, Problem(INVALID, "batch", "batch must be an array")

    return [(op, json_bytes(op), None) for op in operations], None


def _scan(text: str) -> Sized | None:
    start = _BATCH_START.match(text)
    if start is None:
        return None

    ascii_only = text.isascii()
    index = start.end()
    sized: Sized = []
    append = sized.append
    try:
        if text[index] == "]":
            return sized if _tail_is_end(text, index) else None

        while True:
            op, end = _scan_value(text, index)
            source = text[index:end]
            size = end - index if ascii_only else text_bytes(source)
            append((op, size, source))
            if text[end] != ",":
                end = _skip_space(text, end)
                if text[end] == "]":
                    return sized if _tail_is_end(text, end) else None

                if text[end] != ",":
                    return None

            index = end + 1
            if text[index] in " \t\r\n":
                index = _skip_space(text, index)
    except (ValueError, IndexError, StopIteration):
        return None


def _skip_space(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr]


def _tail_is_end(text: str, close: int) -> bool:
    return text[close + 1 :].strip() == "}"


def check_sized(op: Any, size: int) -> Problem | None:
    """Check an operation's size, then its fields."""
    if size > MAX_OPERATION_BYTES:
        return Problem(
            TOO_LARGE,
            "",
            f"operation is {size} bytes; the limit is "
            f"{MAX_OPERATION_BYTES} bytes",
        )

    return check_operation(op)


def batch(call: Call) -> Response:
    """POST /api/v2/batch: apply the valid operations, list the rest."""
    sized, problem = split_batch(call.request.body)
    if problem or sized is None:
        return v2_errors(400, [problem] if problem else [])

    errors: list[dict[str, Any]] = []
    valid = []
    for index, (op, size, source) in enumerate(sized):
        problem = check_sized(op, size)
        if problem is None:
            valid.append((op, source))
            continue

        errors.append({"batch_index": index, **problem.to_dict()})

    store = call.store
    with store.lock:
        store.count("batch_requests")
        store.count("operations_rejected", len(errors))
        for op, source in valid:
            apply_operation(store, op, call.now, source)

        store.changed.notify_all()

    if errors:
        return json_response(207, {"errors": errors})

    return OK


def entity(call: Call) -> Response:
    """POST /api/v2/entity: one operation as the whole body."""
    body = call.request.body
    problem = None
    if len(body) > MAX_OPERATION_BYTES:
        problem = check_sized(None, len(body))

    op, error = parse_json(body) if problem is None else (None, None)
    if error is not None:
        problem = Problem(INVALID, "", error)

    problem = problem or check_operation(op)
    store = call.store
    with store.lock:
        store.count("entity_requests")
        if problem is None and isinstance(op, dict):
            apply_operation(store, op, call.now, body.decode())
            store.changed.notify_all()
        else:
            store.count("operations_rejected")

    if problem is not None:
        return v2_errors(400, [problem])

    return OK


def count_operations(body: bytes) -> int:
    """Return how many operations a batch body holds, for counting mode."""
    value, error = parse_json(body)
    if error is None and isinstance(value, dict):
        operations = value.get("batch")
        if isinstance(operations, list):
            return len(operations)

    return 0
