"""Checks of single fields shared by the v1 and v2 handlers.

Each check returns None when the value is valid, or the Problem found.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._limits import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_EVENT_NAME_BYTES,
    MAX_ID_BYTES,
    json_bytes,
    text_bytes,
)

# Reasons in 207 and 400 error entries. Customer.io documents the entry's
# fields but not the reason values; these three are this server's choice.
INVALID = "invalid"
REQUIRED = "required"
TOO_LARGE = "too_large"

PERSON_KEYS = frozenset({"id", "email", "phone", "cio_id"})
MERGE_KEYS = frozenset({"id", "email", "cio_id"})

# Segment and RudderStack send anonymous events to /api/v2/batch with an
# anonymous_id identifier, although the spec lists only PERSON_KEYS.
EVENT_KEYS = PERSON_KEYS | {"anonymous_id"}

PLATFORMS = frozenset({"ios", "android"})


class Problem(NamedTuple):
    """The reason an operation or request body was rejected."""

    reason: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the entry as the API's error object."""
        return {
            "reason": self.reason,
            "field": self.field,
            "message": self.message,
        }


def is_int(value: Any) -> bool:
    """Return whether `value` is a JSON integer (booleans are not)."""
    return type(value) is int


def check_identifier(field: str, value: Any) -> Problem | None:
    """Check one identifier value: a non-empty string of at most 150 bytes."""
    if not isinstance(value, str) or not value.strip():
        return Problem(INVALID, field, f"{field} must be a non-empty string")

    if text_bytes(value) > MAX_ID_BYTES:
        return Problem(
            TOO_LARGE, field, f"{field} is longer than {MAX_ID_BYTES} bytes"
        )

    return None


def check_identifiers(
    value: Any, field: str, allowed: frozenset[str]
) -> Problem | None:
    """Check an identifiers object that must hold exactly one allowed key."""
    if value is None:
        return Problem(REQUIRED, field, f"{field} is required")

    if type(value) is not dict or len(value) != 1:
        names = ", ".join(sorted(allowed))
        return Problem(
            INVALID, field, f"{field} must hold exactly one of: {names}"
        )

    ((key, identifier),) = value.items()
    if key not in allowed:
        return Problem(
            INVALID, f"{field}.{key}", f"{key} is not a valid identifier"
        )

    return check_identifier(f"{field}.{key}", identifier)


def check_attributes(value: Any, field: str) -> Problem | None:
    """Check person attributes: count, name and value sizes."""
    if type(value) is not dict:
        return Problem(INVALID, field, f"{field} must be an object")

    if len(value) > MAX_ATTRIBUTES:
        return Problem(
            TOO_LARGE,
            field,
            f"{field} has {len(value)} entries, more than {MAX_ATTRIBUTES}",
        )

    for name, item in value.items():
        if text_bytes(name) > MAX_ATTRIBUTE_NAME_BYTES:
            return Problem(
                TOO_LARGE,
                f"{field}.{name[:40]}",
                f"attribute name is longer than "
                f"{MAX_ATTRIBUTE_NAME_BYTES} bytes",
            )

        if _value_bytes(item) > MAX_ATTRIBUTE_VALUE_BYTES:
            return Problem(
                TOO_LARGE,
                f"{field}.{name}",
                f"attribute value is longer than "
                f"{MAX_ATTRIBUTE_VALUE_BYTES} bytes",
            )

    return None


def _value_bytes(value: Any) -> int:
    if isinstance(value, str):
        return text_bytes(value)

    if value is None or isinstance(value, bool | int | float):
        return 0

    return json_bytes(value)


def check_optional_int(op: dict[str, Any], field: str) -> Problem | None:
    """Check that `field`, when present, is an integer."""
    value = op.get(field)
    if value is None or is_int(value):
        return None

    return Problem(INVALID, field, f"{field} must be an integer")


def check_event_name(value: Any, field: str = "name") -> Problem | None:
    """Check an event name: a non-empty string of at most 100 bytes."""
    if value is None:
        return Problem(REQUIRED, field, f"{field} is required")

    if not isinstance(value, str) or not value.strip():
        return Problem(INVALID, field, f"{field} must be a non-empty string")

    if text_bytes(value.strip()) > MAX_EVENT_NAME_BYTES:
        return Problem(
            TOO_LARGE,
            field,
            f"{field} is longer than {MAX_EVENT_NAME_BYTES} bytes",
        )

    return None


def check_object(op: dict[str, Any], field: str) -> Problem | None:
    """Check that `field`, when present, is a JSON object."""
    value = op.get(field)
    if value is None or type(value) is dict:
        return None

    return Problem(INVALID, field, f"{field} must be an object")


def check_device(device: Any, field: str, token_key: str) -> Problem | None:
    """Check a device object; v1 names its token `id`, v2 `token`."""
    if type(device) is not dict:
        return Problem(REQUIRED, field, f"{field} must be an object")

    problem = check_identifier(f"{field}.{token_key}", device.get(token_key))
    if problem:
        return problem

    platform = device.get("platform")
    if platform not in PLATFORMS:
        return Problem(
            INVALID,
            f"{field}.platform",
            f"{field}.platform must be ios or android, not {platform!r}",
        )

    if not (device.get("last_used") is None or is_int(device["last_used"])):
        return Problem(
            INVALID, f"{field}.last_used", "last_used must be an integer"
        )

    return check_device_attributes(device.get("attributes"), field)


def check_device_attributes(value: Any, field: str) -> Problem | None:
    """Check device attributes: an object of string values."""
    if value is None:
        return None

    name = f"{field}.attributes"
    if type(value) is not dict:
        return Problem(INVALID, name, f"{name} must be an object")

    for key, item in value.items():
        if not isinstance(item, str):
            return Problem(
                INVALID, f"{name}.{key}", "device attributes must be strings"
            )

    return check_attributes(value, name)


def check_relationships(value: Any, field: str) -> Problem | None:
    """Check a list of relationships to objects."""
    if type(value) is not list:
        return Problem(INVALID, field, f"{field} must be an array")

    for index, item in enumerate(value):
        name = f"{field}[{index}]"
        if type(item) is not dict:
            return Problem(INVALID, name, f"{name} must be an object")

        problem = check_object_identifiers(
            item.get("identifiers"), f"{name}.identifiers"
        )
        if problem:
            return problem

    return None


def check_object_identifiers(value: Any, field: str) -> Problem | None:
    """Check object identifiers: type and object id, or cio_object_id."""
    if type(value) is not dict:
        return Problem(REQUIRED, field, f"{field} must be an object")

    if "cio_object_id" in value:
        return check_identifier(
            f"{field}.cio_object_id", value["cio_object_id"]
        )

    return check_identifier(
        f"{field}.object_type_id", value.get("object_type_id")
    ) or check_identifier(f"{field}.object_id", value.get("object_id"))


def check_person_relationships(value: Any, field: str) -> Problem | None:
    """Check an object's relationships to people."""
    if type(value) is not list:
        return Problem(INVALID, field, f"{field} must be an array")

    for index, item in enumerate(value):
        name = f"{field}[{index}]"
        if type(item) is not dict:
            return Problem(INVALID, name, f"{name} must be an object")

        problem = check_identifiers(
            item.get("identifiers"), f"{name}.identifiers", EVENT_KEYS
        )
        if problem:
            return problem

    return None
