"""Requests and responses as the dispatcher handles them."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ._checks import Problem

JSON_TYPE = "application/json; charset=utf-8"


class Request(NamedTuple):
    """One HTTP request, read in full."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class Response(NamedTuple):
    """An HTTP response to send; `headers` excludes the framing headers."""

    status: int
    body: bytes = b"{}"
    headers: tuple[tuple[str, str], ...] = ()


OK = Response(200)


def json_response(status: int, payload: Any) -> Response:
    """Return a response with a JSON body."""
    return Response(status, json.dumps(payload).encode())


def v1_errors(*messages: str) -> Response:
    """Return a v1 400 response: {"meta": {"errors": [...]}}."""
    return json_response(400, {"meta": {"errors": list(messages)}})


def v1_error(message: str, status: int = 400) -> Response:
    """Return a v1 response with one message: {"meta": {"error": ...}}."""
    return json_response(status, {"meta": {"error": message}})


def v2_errors(status: int, problems: list[Problem]) -> Response:
    """Return a v2 response: {"errors": [{reason, field, message}, ...]}."""
    entries = [problem.to_dict() for problem in problems]
    return json_response(status, {"errors": entries})


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """Decode a JSON body; return (value, None) or (None, error message)."""
    try:
        return json.loads(body), None
    except UnicodeDecodeError:
        return None, "request body is not valid UTF-8"
    except json.JSONDecodeError as error:
        return None, f"request body is not valid JSON: {error}"
