"""Validation of v2 operations against the Track API's schemas and limits.

Each check returns None when the operation is valid, or the first Problem
found. Checks are written by hand rather than interpreted from the OpenAPI
document, because a batch of 2,000 operations must validate in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._checks import (
    EVENT_KEYS,
    INVALID,
    MERGE_KEYS,
    PERSON_KEYS,
    REQUIRED,
    Problem,
    check_attributes,
    check_device,
    check_event_name,
    check_identifier,
    check_identifiers,
    check_object,
    check_object_identifiers,
    check_optional_int,
    check_person_relationships,
    check_relationships,
)

DELIVERY_METRICS = frozenset({"opened", "converted", "delivered"})


Check = Callable[[dict[str, Any]], Problem | None]


def check_operation(op: Any) -> Problem | None:
    """Check one v2 operation, as sent in a batch or to /api/v2/entity."""
    if type(op) is not dict:
        return Problem(INVALID, "", "operation must be a JSON object")

    kind = op.get("type")
    checks = _CHECKS.get(kind) if isinstance(kind, str) else None
    if checks is None:
        return Problem(
            INVALID, "type", "type must be one of: person, object, delivery"
        )

    action = op.get("action")
    check = checks.get(action) if isinstance(action, str) else None
    if check is None:
        names = ", ".join(sorted(checks))
        return Problem(
            INVALID,
            "action",
            f"action {action!r} is not valid for type {kind}; "
            f"expected one of: {names}",
        )

    return check(op)


def _person_only(op: dict[str, Any]) -> Problem | None:
    return check_identifiers(op.get("identifiers"), "identifiers", PERSON_KEYS)


def _person_identify(op: dict[str, Any]) -> Problem | None:
    problem = _person_only(op) or check_optional_int(op, "timestamp")
    if problem:
        return problem

    attributes = op.get("attributes")
    if attributes is not None:
        problem = check_attributes(attributes, "attributes")
        if problem:
            return problem

    relationships = op.get("cio_relationships")
    if relationships is None:
        return None

    return check_relationships(relationships, "cio_relationships")


def _person_event(op: dict[str, Any]) -> Problem | None:
    identifiers = check_identifiers(
        op.get("identifiers"), "identifiers", EVENT_KEYS
    )
    if identifiers:
        return identifiers

    event_id = op.get("id")
    if event_id is not None and not isinstance(event_id, str):
        return Problem(INVALID, "id", "id must be a string")

    return (
        check_event_name(op.get("name"))
        or check_optional_int(op, "timestamp")
        or check_object(op, "attributes")
    )


def _person_add_device(op: dict[str, Any]) -> Problem | None:
    problem = _person_only(op)
    if problem:
        return problem

    return check_device(op.get("device"), "device", "token")


def _person_delete_device(op: dict[str, Any]) -> Problem | None:
    problem = _person_only(op)
    if problem:
        return problem

    device = op.get("device")
    if type(device) is not dict:
        return Problem(REQUIRED, "device", "device must be an object")

    return check_identifier("device.token", device.get("token"))


def _person_relationships(op: dict[str, Any]) -> Problem | None:
    problem = _person_only(op)
    if problem:
        return problem

    relationships = op.get("cio_relationships")
    if relationships is None:
        return Problem(
            REQUIRED, "cio_relationships", "cio_relationships is required"
        )

    return check_relationships(relationships, "cio_relationships")


def _person_merge(op: dict[str, Any]) -> Problem | None:
    return check_identifiers(
        op.get("primary"), "primary", MERGE_KEYS
    ) or check_identifiers(op.get("secondary"), "secondary", MERGE_KEYS)


def _object_common(op: dict[str, Any]) -> Problem | None:
    return check_object_identifiers(op.get("identifiers"), "identifiers")


def _object_identify(op: dict[str, Any]) -> Problem | None:
    problem = _object_common(op) or check_object(op, "attributes")
    if problem:
        return problem

    relationships = op.get("cio_relationships")
    if relationships is None:
        return None

    return check_person_relationships(relationships, "cio_relationships")


def _object_identify_anonymous(op: dict[str, Any]) -> Problem | None:
    return _object_identify(op)


def _object_relationships(op: dict[str, Any]) -> Problem | None:
    problem = _object_common(op)
    if problem:
        return problem

    relationships = op.get("cio_relationships")
    if relationships is None:
        return Problem(
            REQUIRED, "cio_relationships", "cio_relationships is required"
        )

    return check_person_relationships(relationships, "cio_relationships")


def _delivery_event(op: dict[str, Any]) -> Problem | None:
    identifiers = op.get("identifiers")
    if type(identifiers) is not dict:
        return Problem(REQUIRED, "identifiers", "identifiers is required")

    problem = check_identifier("identifiers.id", identifiers.get("id"))
    if problem:
        return problem

    if op.get("name") not in DELIVERY_METRICS:
        return Problem(
            INVALID,
            "name",
            "name must be one of: converted, delivered, opened",
        )

    attributes = op.get("attributes")
    if type(attributes) is not dict:
        return Problem(REQUIRED, "attributes", "attributes is required")

    return check_identifier(
        "attributes.device_token", attributes.get("device_token")
    ) or check_optional_int(op, "timestamp")


_CHECKS: dict[str, dict[str, Check]] = {
    "person": {
        "identify": _person_identify,
        "delete": _person_only,
        "event": _person_event,
        "page": _person_event,
        "screen": _person_event,
        "add_relationships": _person_relationships,
        "delete_relationships": _person_relationships,
        "add_device": _person_add_device,
        "delete_device": _person_delete_device,
        "merge": _person_merge,
        "suppress": _person_only,
        "unsuppress": _person_only,
    },
    "object": {
        "identify": _object_identify,
        "identify_anonymous": _object_identify_anonymous,
        "delete": _object_common,
        "add_relationships": _object_relationships,
        "delete_relationships": _object_relationships,
    },
    "delivery": {"event": _delivery_event},
}
