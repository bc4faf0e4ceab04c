"""Handlers for the v1 paths: one operation per request."""

from __future__ import annotations

from typing import Any, NamedTuple

from ._actions import apply_operation
from ._checks import (
    MERGE_KEYS,
    Problem,
    check_attributes,
    check_device,
    check_event_name,
    check_identifier,
    check_identifiers,
    check_relationships,
    is_int,
)
from ._limits import MAX_EVENT_DATA_BYTES, json_bytes
from ._messages import OK, Request, Response, parse_json, v1_error, v1_errors
from ._state import Store

EVENT_TYPES = ("event", "page", "screen")
METRICS = frozenset(
    {
        "bounced",
        "clicked",
        "converted",
        "deferred",
        "delivered",
        "dropped",
        "opened",
        "spammed",
    }
)
SEGMENT_ID_TYPES = frozenset({"id", "email", "cio_id"})
REGION_URLS = {
    "us": "https://track.customer.io",
    "eu": "https://track-eu.customer.io",
}


class Settings(NamedTuple):
    """The server configuration that handlers need."""

    region: str
    environment_id: int


class Call(NamedTuple):
    """One routed request: path parameters, state, time (Unix seconds)."""

    request: Request
    params: tuple[str, ...]
    store: Store
    settings: Settings
    now: int


def classify(identifier: str) -> tuple[str, str]:
    """Return the kind of a v1 path identifier and its value.

    A value starting with `cio_` is a cio_id, one containing `@` an email,
    anything else an id.
    """
    if identifier.startswith("cio_"):
        return "cio_id", identifier[4:]

    if "@" in identifier:
        return "email", identifier

    return "id", identifier


def read_body(call: Call) -> tuple[dict[str, Any] | None, Response | None]:
    if not call.request.body.strip():
        return {}, None

    value, error = parse_json(call.request.body)
    if error is not None:
        return None, v1_errors(error)

    if not isinstance(value, dict):
        return None, v1_errors("request body must be a JSON object")

    return value, None


def _person(call: Call) -> tuple[dict[str, str] | None, Response | None]:
    kind, value = classify(call.params[0])
    problem = check_identifier("identifier", value)
    if problem:
        return None, v1_errors(problem.message)

    return {kind: value}, None


def _apply(call: Call, *ops: dict[str, Any]) -> Response:
    with call.store.lock:
        for op in ops:
            apply_operation(call.store, op, call.now)

        call.store.changed.notify_all()

    return OK


def _simple(call: Call, action: str) -> Response:
    identifiers, error = _person(call)
    if error or identifiers is None:
        return error or OK

    return _apply(
        call, {"type": "person", "action": action, "identifiers": identifiers}
    )


def identify(call: Call) -> Response:
    """PUT /api/v1/customers/{identifier}."""
    identifiers, error = _person(call)
    body, body_error = read_body(call)
    if error or body_error or identifiers is None or body is None:
        return error or body_error or OK

    problem = _check_identify_body(body)
    if problem:
        return v1_errors(problem.message)

    op: dict[str, Any] = {
        "type": "person",
        "action": "identify",
        "identifiers": identifiers,
        "attributes": body,
        "timestamp": body.get("_timestamp"),
    }
    relationships = body.get("cio_relationships")
    if not relationships:
        return _apply(call, op)

    action = relationships.get("action") or "add_relationships"
    related = {
        "type": "person",
        "action": action,
        "identifiers": identifiers,
        "cio_relationships": relationships.get("relationships") or [],
    }
    return _apply(call, op, related)


def _check_identify_body(body: dict[str, Any]) -> Problem | None:
    problem = check_attributes(body, "attributes")
    if problem:
        return problem

    for name in ("_timestamp", "created_at"):
        if name in body and not is_int(body[name]):
            return Problem("invalid", name, f"{name} must be an integer")

    if "_update" in body and not isinstance(body["_update"], bool):
        return Problem("invalid", "_update", "_update must be a boolean")

    relationships = body.get("cio_relationships")
    if relationships is None:
        return None

    if not isinstance(relationships, dict) or relationships.get(
        "action", "add_relationships"
    ) not in ("add_relationships", "delete_relationships"):
        return Problem(
            "invalid",
            "cio_relationships",
            "cio_relationships must be an object with an action of "
            "add_relationships or delete_relationships",
        )

    return check_relationships(
        relationships.get("relationships", []),
        "cio_relationships.relationships",
    )


def delete(call: Call) -> Response:
    """DELETE /api/v1/customers/{identifier}."""
    return _simple(call, "delete")


def suppress(call: Call) -> Response:
    """POST /api/v1/customers/{identifier}/suppress."""
    return _simple(call, "suppress")


def unsuppress(call: Call) -> Response:
    """POST /api/v1/customers/{identifier}/unsuppress."""
    return _simple(call, "unsuppress")


def _event_op(body: dict[str, Any]) -> tuple[dict[str, Any], Problem | None]:
    kind = body.get("type", "event")
    op = {
        "type": "person",
        "action": kind,
        "name": body.get("name"),
        "id": body.get("id"),
        "timestamp": body.get("timestamp"),
        "attributes": body.get("data"),
    }
    if kind not in EVENT_TYPES:
        message = "type must be one of: event, page, screen"
        return op, Problem("invalid", "type", message)

    problem = check_event_name(body.get("name"))
    if problem:
        return op, problem

    for name, valid in (
        ("id", isinstance(op["id"], str)),
        ("timestamp", is_int(op["timestamp"])),
        ("data", isinstance(op["attributes"], dict)),
    ):
        if body.get(name) is not None and not valid:
            return op, Problem("invalid", name, f"{name} has the wrong type")

    if json_bytes(body.get("data") or {}) > MAX_EVENT_DATA_BYTES:
        message = f"data is larger than {MAX_EVENT_DATA_BYTES} bytes"
        return op, Problem("too_large", "data", message)

    return op, None


def track(call: Call) -> Response:
    """POST /api/v1/customers/{identifier}/events."""
    identifiers, error = _person(call)
    body, body_error = read_body(call)
    if error or body_error or identifiers is None or body is None:
        return error or body_error or OK

    op, problem = _event_op(body)
    if problem:
        return v1_errors(problem.message)

    op["identifiers"] = identifiers
    return _apply(call, op)


def track_anonymous(call: Call) -> Response:
    """POST /api/v1/events: anonymous and invite events."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    op, problem = _event_op(body)
    anonymous_id = body.get("anonymous_id")
    if problem is None and anonymous_id is not None:
        problem = check_identifier("anonymous_id", anonymous_id)

    if problem:
        return v1_errors(problem.message)

    if not anonymous_id:
        with call.store.lock:
            call.store.add_invite_event(body, call.now)
            call.store.count("operations_accepted")
            call.store.changed.notify_all()

        return OK

    op["identifiers"] = {"anonymous_id": anonymous_id}
    return _apply(call, op)


def add_device(call: Call) -> Response:
    """PUT /api/v1/customers/{identifier}/devices."""
    identifiers, error = _person(call)
    body, body_error = read_body(call)
    if error or body_error or identifiers is None or body is None:
        return error or body_error or OK

    device = body.get("device")
    problem = check_device(device, "device", "id")
    if problem or not isinstance(device, dict):
        return v1_errors(problem.message if problem else "device is required")

    # Some clients put custom attributes beside id and platform instead of
    # under `attributes`; both end up in the device's attributes.
    known = ("id", "platform", "last_used", "attributes")
    attributes = dict(device.get("attributes") or {})
    attributes.update({k: v for k, v in device.items() if k not in known})
    return _apply(
        call,
        {
            "type": "person",
            "action": "add_device",
            "identifiers": identifiers,
            "device": {
                "token": device["id"],
                "platform": device["platform"],
                "last_used": device.get("last_used"),
                "attributes": attributes,
            },
        },
    )


def delete_device(call: Call) -> Response:
    """DELETE /api/v1/customers/{identifier}/devices/{device_id}."""
    identifiers, error = _person(call)
    if error or identifiers is None:
        return error or OK

    token = call.params[1]
    problem = check_identifier("device_id", token)
    if problem:
        return v1_errors(problem.message)

    return _apply(
        call,
        {
            "type": "person",
            "action": "delete_device",
            "identifiers": identifiers,
            "device": {"token": token},
        },
    )


def merge_customers(call: Call) -> Response:
    """POST /api/v1/merge_customers."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    problem = check_identifiers(
        body.get("primary"), "primary", MERGE_KEYS
    ) or check_identifiers(body.get("secondary"), "secondary", MERGE_KEYS)
    if problem:
        return v1_error(problem.message)

    op = {"type": "person", "action": "merge"}
    op.update(primary=body["primary"], secondary=body["secondary"])
    return _apply(call, op)
