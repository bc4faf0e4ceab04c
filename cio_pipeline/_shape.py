"""Shape checks for the raw v2 operations that ``Client.batch`` queues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError
from ._validation import show

ACTIONS = {
    "person": frozenset(
        {
            "identify",
            "delete",
            "event",
            "page",
            "screen",
            "add_relationships",
            "delete_relationships",
            "add_device",
            "delete_device",
            "merge",
            "suppress",
            "unsuppress",
        }
    ),
    "object": frozenset(
        {
            "identify",
            "identify_anonymous",
            "delete",
            "add_relationships",
            "delete_relationships",
        }
    ),
    "delivery": frozenset({"event"}),
}


def check_operation(operation: object, argument: str) -> dict[str, Any]:
    """Return a shallow copy of a v2 operation if its shape is right."""
    if not isinstance(operation, Mapping):
        raise ValidationError(
            f"{argument} must be a dict, got {type(operation).__name__}"
        )
    kind = operation.get("type")
    if kind not in ACTIONS:
        raise ValidationError(
            f"{argument}['type'] must be 'person', 'object' or "
            f"'delivery', got {show(kind)}"
        )
    action = operation.get("action")
    if action not in ACTIONS[kind]:
        listed = ", ".join(sorted(ACTIONS[kind]))
        raise ValidationError(
            f"{argument}['action'] must be one of {listed} for type "
            f"{kind!r}, got {show(action)}"
        )
    if kind == "person" and action == "merge":
        for side in ("primary", "secondary"):
            _check_one_identifier(operation.get(side), f"{argument}[{side!r}]")
    else:
        identifiers = operation.get("identifiers")
        if not isinstance(identifiers, Mapping) or not identifiers:
            raise ValidationError(
                f"{argument}['identifiers'] must be a non-empty dict, "
                f"got {show(identifiers)}"
            )
    if action in ("event", "page", "screen") and not operation.get("name"):
        raise ValidationError(f"{argument}['name'] is required for {action}")
    return dict(operation)


def _check_one_identifier(value: object, argument: str) -> None:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValidationError(
            f"{argument} must be a dict with exactly one of 'id', 'email' "
            f"or 'cio_id', got {show(value)}"
        )
