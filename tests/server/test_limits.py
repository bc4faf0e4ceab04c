"""Size limits: request 413, operation too_large, field limits."""

from __future__ import annotations

import json

import pytest

from cio_pipeline._server import LocalTrackAPI

from .conftest import Track, person_op


def _padded_batch(size: int) -> bytes:
    ops = []
    filler = "x" * 900
    while len(json.dumps({"batch": ops}, separators=(",", ":"))) < size:
        ops.append(person_op("event", name="e", attributes={"f": filler}))

    return json.dumps({"batch": ops}, separators=(",", ":")).encode()


def test_request_over_limit_gets_413(
    server: LocalTrackAPI, track: Track
) -> None:
    """A batch over 500,000 bytes gets 413 and nothing is applied."""
    body = _padded_batch(500_001)
    assert len(body) > 500_000

    response = track.request("POST", "/api/v2/batch", body)

    assert response.status_code == 413
    assert response.json()["errors"][0]["reason"] == "too_large"
    assert server.people() == []


def test_request_at_limit_accepted(track: Track) -> None:
    """A batch of exactly 500,000 bytes is accepted."""
    body = _padded_batch(499_000)
    body = body[:-2] + b" " * (500_000 - len(body)) + body[-2:]
    assert len(body) == 500_000

    assert track.request("POST", "/api/v2/batch", body).status_code == 200


def test_v1_request_over_limit_gets_413(track: Track) -> None:
    """v1 paths respond 413 with meta.error for oversized bodies."""
    body = json.dumps({"a": "x" * 500_001}).encode()

    response = track.request("PUT", "/api/v1/customers/u1", body)

    assert response.status_code == 413
    assert "500000" in response.json()["meta"]["error"]


def test_huge_request_closes_connection(track: Track) -> None:
    """A body too large to drain gets 413 and the connection closes."""
    body = b"x" * 9_000_000

    response = track.request("POST", "/api/v2/batch", body)

    assert response.status_code == 413
    assert response.headers["Connection"] == "close"


def test_operation_over_32000_bytes(
    server: LocalTrackAPI, track: Track
) -> None:
    """An operation over 32,000 bytes is a 207 entry with too_large."""
    attributes = {f"k{i}": "v" * 900 for i in range(36)}
    big = person_op("event", name="big", attributes=attributes)
    assert len(json.dumps(big, separators=(",", ":"))) > 32_000

    response = track.batch(person_op("event", name="small"), big)

    assert response.status_code == 207
    [error] = response.json()["errors"]
    assert error["batch_index"] == 1
    assert error["reason"] == "too_large"
    assert [e["name"] for e in server.events("u1")] == ["small"]


def test_operation_size_counts_utf8_bytes(track: Track) -> None:
    """Operation size is measured in UTF-8 bytes, not characters."""
    text = "é" * 8_000
    attributes = {f"k{i}": text[:450] for i in range(40)}
    op = person_op("event", name="e", attributes=attributes)
    size = len(json.dumps(op, ensure_ascii=False).encode())
    assert len(json.dumps(op, ensure_ascii=False)) < 32_000 < size

    response = track.batch(op)

    assert response.json()["errors"][0]["reason"] == "too_large"


def test_entity_over_32000_bytes(track: Track) -> None:
    """An entity body over 32,000 bytes gets 400 too_large."""
    attributes = {f"k{i}": "v" * 900 for i in range(36)}
    op = person_op("event", name="big", attributes=attributes)

    response = track.request("POST", "/api/v2/entity", op)

    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "too_large"


@pytest.mark.parametrize(
    ("op", "field"),
    [
        (person_op("identify", "i" * 151), "identifiers.id"),
        (person_op("identify", attributes={"n" * 151: 1}), "attributes.n"),
        (person_op("identify", attributes={"a": "v" * 1001}), "attributes.a"),
        (person_op("identify", attributes={"a": ["v" * 999]}), "attributes.a"),
        (
            person_op("identify", attributes={f"a{i}": 1 for i in range(301)}),
            "attributes",
        ),
        (person_op("event", name="n" * 101), "name"),
        (person_op("event", name="é" * 51), "name"),
    ],
)
def test_field_limits_in_batch(
    server: LocalTrackAPI, track: Track, op: dict[str, object], field: str
) -> None:
    """Each field limit is a 207 entry with reason too_large."""
    response = track.batch(op)

    assert response.status_code == 207
    [error] = response.json()["errors"]
    assert error["reason"] == "too_large"
    assert error["field"].startswith(field)
    assert server.people() == []


def test_field_limits_at_maximum_accepted(track: Track) -> None:
    """Values exactly at each limit are accepted."""
    response = track.batch(
        person_op("identify", "i" * 150, attributes={"n" * 150: "v" * 1000}),
        person_op("identify", attributes={f"a{i}": 1 for i in range(300)}),
        person_op("event", name="n" * 100),
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/customers/" + "i" * 151, {}),
        ("PUT", "/api/v1/customers/u1", {"a": "v" * 1001}),
        ("PUT", "/api/v1/customers/u1", {f"a{i}": 1 for i in range(301)}),
        ("POST", "/api/v1/customers/u1/events", {"name": "n" * 101}),
        (
            "POST",
            "/api/v1/customers/u1/events",
            {"name": "e", "data": {"d": "x" * 100_000}},
        ),
        ("POST", "/api/v1/events", {"name": "e", "anonymous_id": "a" * 151}),
    ],
)
def test_field_limits_in_v1(
    server: LocalTrackAPI, track: Track, method: str, path: str, body: object
) -> None:
    """v1 requests over a field limit get 400 and change nothing."""
    response = track.request(method, path, body)

    assert response.status_code == 400
    assert response.json()["meta"]["errors"]
    assert server.people() == []
