"""Tests of the record-to-call mapping of ``send``."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from cio_pipeline import Client
from cio_pipeline._cli._mapping import (
    OPERATIONS,
    Call,
    RecordError,
    build_call,
)


def test_identify_attributes_become_keywords() -> None:
    """identify passes attributes as keyword arguments, times as seconds."""
    call = build_call(
        {
            "type": "identify",
            "id": "00001",
            "attributes": {"plan": "pro", "created_at": "1997-01-01"},
        }
    )
    assert call == Call(
        "identify", ("00001",), {"plan": "pro", "created_at": 852076800}
    )


def test_track_fields_become_arguments() -> None:
    """track takes its optional fields as keywords, timestamp converted."""
    call = build_call(
        {
            "type": "track",
            "customer_id": 7,
            "name": "purchase",
            "data": {"value": 1.5},
            "timestamp": "1997-01-01T00:00:00Z",
        }
    )
    assert call.method == "track"
    assert call.args == (7, "purchase")
    assert call.kwargs == {"data": {"value": 1.5}, "timestamp": 852076800}


def test_pageview_timestamp_in_data_converted() -> None:
    """A view's timestamp lives in its data and is converted there."""
    call = build_call(
        {
            "type": "pageview",
            "customer_id": "u1",
            "page": "/home",
            "data": {"timestamp": "1970-01-01T00:00:10Z", "ref": "x"},
        }
    )
    assert call.kwargs == {"timestamp": 10, "ref": "x"}


def test_device_last_used_converted() -> None:
    """add_device reads last_used as a timestamp."""
    call = build_call(
        {
            "type": "add_device",
            "customer_id": "u1",
            "device_id": "tok",
            "platform": "ios",
            "data": {"last_used": "1970-01-01T00:00:05Z"},
        }
    )
    assert call.args == ("u1", "tok", "ios")
    assert call.kwargs == {"last_used": 5}


def test_segment_optional_id_type() -> None:
    """Segment calls take ids as a list and id_type as a keyword."""
    call = build_call(
        {
            "type": "add_to_segment",
            "segment_id": 3,
            "customer_ids": ["a", "b"],
            "id_type": "email",
        }
    )
    assert call == Call(
        "add_to_segment", (3, ["a", "b"]), {"id_type": "email"}
    )


@pytest.mark.parametrize(
    ("record", "reason", "words"),
    [
        ({"id": "1"}, "missing_field", "'type'"),
        ({"type": "fly"}, "unknown_operation", "'fly'"),
        ({"type": 3}, "unknown_operation", "3"),
        ({"type": "track", "customer_id": "1"}, "missing_field", "'name'"),
        (
            {"type": "delete", "customer_id": "1", "name": "x"},
            "unknown_field",
            "'name'",
        ),
        (
            {"type": "identify", "id": "1", "attributes": [1]},
            "invalid_value",
            "object",
        ),
        (
            {"type": "identify", "id": "1", "attributes": {"id": "2"}},
            "invalid_value",
            "'id'",
        ),
        (
            {
                "type": "track",
                "customer_id": "1",
                "name": "x",
                "timestamp": "soon",
            },
            "invalid_timestamp",
            "soon",
        ),
        (
            {"type": "identify", "id": "1", "attributes": {"created_at": "x"}},
            "invalid_timestamp",
            "attributes.created_at",
        ),
    ],
)
def test_bad_records_raise_with_reason(
    record: dict[str, Any], reason: str, words: str
) -> None:
    """Each kind of bad record raises with its reason code and the field."""
    with pytest.raises(RecordError, match=words) as caught:
        build_call(record)
    assert caught.value.reason == reason


def test_null_optional_fields_pass_through() -> None:
    """A null timestamp or id is passed on, meaning the client's default."""
    call = build_call(
        {"type": "track", "customer_id": "1", "name": "x", "timestamp": None}
    )
    assert call.kwargs == {"timestamp": None}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operations_match_client_signatures(operation: str) -> None:
    """Every field of an operation is a parameter of the Client method."""
    spec = OPERATIONS[operation]
    parameters = inspect.signature(getattr(Client, operation)).parameters
    names = [name for name in parameters if name != "self"]
    positional = [
        name
        for name in names
        if parameters[name].default is inspect.Parameter.empty
        and parameters[name].kind is not inspect.Parameter.VAR_KEYWORD
    ]
    collected = [
        name
        for name in names
        if parameters[name].kind is inspect.Parameter.VAR_KEYWORD
    ]
    optional = [
        name
        for name in names
        if name not in positional and name not in collected
    ]
    assert list(spec.required) == positional
    assert list(spec.optional) == optional
    expected = [spec.collected] if spec.collected else []
    assert expected == collected
