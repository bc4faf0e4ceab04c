"""Map an input record, a JSON object, onto a call of the client.

An input record names the operation in ``type``. Its other keys are
the parameters of the ``Client`` method of that name. A method that
collects keyword arguments (``identify(id, **attributes)``) takes them
as one object under the parameter's name (``"attributes"``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs

from ._timestamps import parse_timestamp


class RecordError(Exception):
    """An input record that cannot be sent.

    ``reason`` is the short code that the dead-letter file and the
    summary use, and the message explains what is wrong.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Call(NamedTuple):
    """A client method call: its name and its arguments."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@attrs.frozen
class OperationSpec:
    """The fields of one operation.

    ``required`` fields are passed by position, ``optional`` ones by
    keyword. ``collected`` names the object whose keys become keyword
    arguments. ``timestamps`` lists the top-level fields, and
    ``collected_timestamps`` the keys of the collected object, that
    take Unix seconds or ISO 8601 text.
    """

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    collected: str | None = None
    timestamps: tuple[str, ...] = ()
    collected_timestamps: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field name the operation accepts besides ``type``."""
        extra = () if self.collected is None else (self.collected,)
        return self.required + self.optional + extra


_EVENT = OperationSpec(
    required=("customer_id", "name"),
    optional=("data", "id", "timestamp"),
    timestamps=("timestamp",),
)
_PERSON = OperationSpec(required=("customer_id",))
_SEGMENT = OperationSpec(
    required=("segment_id", "customer_ids"), optional=("id_type",)
)

OPERATIONS: dict[str, OperationSpec] = {
    "identify": OperationSpec(
        required=("id",),
        collected="attributes",
        collected_timestamps=("created_at", "_timestamp"),
    ),
    "track": _EVENT,
    "track_anonymous": OperationSpec(
        required=("anonymous_id", "name"),
        optional=("data", "id", "timestamp"),
        timestamps=("timestamp",),
    ),
    "pageview": OperationSpec(
        required=("customer_id", "page"),
        collected="data",
        collected_timestamps=("timestamp",),
    ),
    "screen": OperationSpec(
        required=("customer_id", "name"),
        collected="data",
        collected_timestamps=("timestamp",),
    ),
    "add_device": OperationSpec(
        required=("customer_id", "device_id", "platform"),
        collected="data",
        collected_timestamps=("last_used",),
    ),
    "delete_device": OperationSpec(required=("customer_id", "device_id")),
    "delete": _PERSON,
    "suppress": _PERSON,
    "unsuppress": _PERSON,
    "merge_customers": OperationSpec(
        required=(
            "primary_id_type",
            "primary_id",
            "secondary_id_type",
            "secondary_id",
        )
    ),
    "add_to_segment": _SEGMENT,
    "remove_from_segment": _SEGMENT,
    "track_metric": OperationSpec(
        required=("delivery_id", "metric"),
        collected="fields",
        collected_timestamps=("timestamp",),
    ),
}


def build_call(record: dict[str, Any]) -> Call:
    """Turn an input record into the client call it describes.

    Raises:
        RecordError: the operation is unknown, a field is missing or
            unknown, a collected field is not an object, or a
            timestamp cannot be read.
    """
    operation = record.get("type")
    spec = _spec_for(operation)
    _check_fields(record, spec)

    args = tuple(
        _timestamp_field(record, name, spec.timestamps)
        for name in spec.required
    )
    kwargs = {
        name: _timestamp_field(record, name, spec.timestamps)
        for name in spec.optional
        if name in record
    }
    if spec.collected is not None:
        kwargs.update(_collected(record, spec))
    return Call(str(operation), args, kwargs)


def _spec_for(operation: object) -> OperationSpec:
    if operation is None:
        raise RecordError(
            "missing_field",
            "missing field 'type': name the operation, such as "
            '"identify" or "track"',
        )
    spec = OPERATIONS.get(operation) if isinstance(operation, str) else None
    if spec is None:
        names = ", ".join(sorted(OPERATIONS))
        raise RecordError(
            "unknown_operation",
            f"unknown operation {operation!r}: use one of {names}",
        )
    return spec


def _check_fields(record: dict[str, Any], spec: OperationSpec) -> None:
    missing = [name for name in spec.required if name not in record]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise RecordError(
            "missing_field",
            f"missing field {listed} for {record['type']!r}",
        )
    unknown = [
        name for name in record if name != "type" and name not in spec.fields
    ]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        accepted = ", ".join(repr(name) for name in spec.fields)
        raise RecordError(
            "unknown_field",
            f"unknown field {listed} for {record['type']!r}: it accepts "
            f"{accepted}",
        )


def _timestamp_field(
    record: dict[str, Any], name: str, timestamps: tuple[str, ...]
) -> Any:
    value = record[name]
    if name not in timestamps or value is None:
        return value
    return _read_timestamp(value, name)


def _collected(record: dict[str, Any], spec: OperationSpec) -> dict[str, Any]:
    name = str(spec.collected)
    collected = record.get(name)
    if collected is None:
        return {}
    if not isinstance(collected, dict):
        raise RecordError(
            "invalid_value",
            f"field {name!r} must be an object, got "
            f"{type(collected).__name__}",
        )
    clashes = [key for key in collected if key in spec.required]
    if clashes:
        listed = ", ".join(repr(key) for key in clashes)
        raise RecordError(
            "invalid_value",
            f"field {name!r} must not contain {listed}: it is a "
            f"parameter of {record['type']!r}",
        )
    converted = dict(collected)
    for key in spec.collected_timestamps:
        if converted.get(key) is not None:
            converted[key] = _read_timestamp(converted[key], f"{name}.{key}")
    return converted


def _read_timestamp(value: object, name: str) -> int | float:
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise RecordError("invalid_timestamp", f"{name}: {error}") from None
