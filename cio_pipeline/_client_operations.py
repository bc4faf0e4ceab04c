"""The operations off the hot path, shared into ``Client``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import ValidationError
from ._records import (
    AddDevice,
    AnonymousEvent,
    Delete,
    DeleteDevice,
    Merge,
    Metric,
    Operation,
    Record,
    SegmentMembership,
    Suppress,
    Unsuppress,
)
from ._shape import check_operation
from ._validation import (
    ID_TYPES,
    MAX_EVENT_NAME_BYTES,
    MAX_ID_BYTES,
    MAX_SEGMENT_IDS,
    PLATFORMS,
    check_choice,
    check_customer_ids,
    check_data,
    check_identifier,
    check_segment_id,
    check_text,
    check_timestamp,
)

_new = tuple.__new__
_now = time.time

# Push tokens are longer than person ids; this bounds them generously.
MAX_DEVICE_ID_BYTES = 15_000


class OperationsMixin:
    """People, devices, segments, metrics and raw operations."""

    _enqueue: Callable[[Record], bool]

    def delete(self, customer_id: str | int) -> bool:
        """Delete the person ``customer_id``."""
        customer_id = check_identifier(customer_id, "customer_id")
        return self._enqueue(_new(Delete, (customer_id, _now())))

    def suppress(self, customer_id: str | int) -> bool:
        """Delete the person and block their identifier from returning."""
        customer_id = check_identifier(customer_id, "customer_id")
        return self._enqueue(_new(Suppress, (customer_id, _now())))

    def unsuppress(self, customer_id: str | int) -> bool:
        """Allow a suppressed identifier again."""
        customer_id = check_identifier(customer_id, "customer_id")
        return self._enqueue(_new(Unsuppress, (customer_id, _now())))

    def merge_customers(
        self,
        primary_id_type: str,
        primary_id: str | int,
        secondary_id_type: str,
        secondary_id: str | int,
    ) -> bool:
        """Merge the secondary person into the primary one, for good.

        The id types are ``"id"``, ``"email"`` or ``"cio_id"``.
        """
        record = Merge(
            check_choice(primary_id_type, "primary_id_type", ID_TYPES),
            str(check_identifier(primary_id, "primary_id")),
            check_choice(secondary_id_type, "secondary_id_type", ID_TYPES),
            str(check_identifier(secondary_id, "secondary_id")),
            _now(),
        )
        return self._enqueue(record)

    def track_anonymous(
        self,
        anonymous_id: str | None,
        name: str,
        data: Mapping[str, Any] | None = None,
        id: str | None = None,
        timestamp: int | float | Any = None,
    ) -> bool:
        """Record an anonymous event, or an invite event.

        With ``anonymous_id`` None or empty, ``data["recipient"]`` must
        name the invitee's email. Sent to v1 ``/api/v1/events``, one
        request each, because v2 has no form for either.
        """
        name = check_text(name, "name", MAX_EVENT_NAME_BYTES)
        copied = check_data(data, "data")
        if anonymous_id is None or anonymous_id == "":
            anonymous_id = None
            if not copied or not copied.get("recipient"):
                raise ValidationError(
                    "track_anonymous needs an anonymous_id, or "
                    "data['recipient'] for an invite event"
                )
        else:
            anonymous_id = check_text(
                anonymous_id, "anonymous_id", MAX_ID_BYTES
            )
        if id is not None:
            id = check_text(id, "id", MAX_ID_BYTES)
        if timestamp is not None:
            timestamp = check_timestamp(timestamp, "timestamp")
        record = AnonymousEvent(
            anonymous_id, name, copied, id, timestamp, _now()
        )
        return self._enqueue(record)

    # Devices ------------------------------------------------------------

    def add_device(
        self,
        customer_id: str | int,
        device_id: str,
        platform: str,
        **data: Any,
    ) -> bool:
        """Add or update a person's push device.

        ``last_used`` (datetime or Unix seconds) is a field of the
        device; other keys become its attributes, as strings.
        """
        customer_id = check_identifier(customer_id, "customer_id")
        device_id = check_text(device_id, "device_id", MAX_DEVICE_ID_BYTES)
        platform = check_choice(platform, "platform", PLATFORMS)
        last_used = data.pop("last_used", None)
        if last_used is not None:
            last_used = check_timestamp(last_used, "last_used")
        attributes = {
            str(key): _device_text(value) for key, value in data.items()
        }
        record = AddDevice(
            customer_id, device_id, platform, last_used, attributes, _now()
        )
        return self._enqueue(record)

    def delete_device(self, customer_id: str | int, device_id: str) -> bool:
        """Delete a person's push device."""
        customer_id = check_identifier(customer_id, "customer_id")
        device_id = check_text(device_id, "device_id", MAX_DEVICE_ID_BYTES)
        return self._enqueue(DeleteDevice(customer_id, device_id, _now()))

    # Segments, metrics and raw operations -------------------------------

    def add_to_segment(
        self,
        segment_id: int,
        customer_ids: Iterable[str | int],
        id_type: str | None = None,
    ) -> bool:
        """Add people to a manual segment; v1, 1,000 ids a request."""
        return self._segment(segment_id, customer_ids, "add", id_type)

    def remove_from_segment(
        self,
        segment_id: int,
        customer_ids: Iterable[str | int],
        id_type: str | None = None,
    ) -> bool:
        """Remove people from a manual segment; v1, 1,000 ids a request."""
        return self._segment(segment_id, customer_ids, "remove", id_type)

    def _segment(
        self,
        segment_id: int,
        customer_ids: Iterable[str | int],
        action: str,
        id_type: str | None,
    ) -> bool:
        segment = check_segment_id(segment_id)
        ids = check_customer_ids(customer_ids)
        if id_type is not None:
            id_type = check_choice(id_type, "id_type", ID_TYPES)
        queued = True
        now = _now()
        for start in range(0, len(ids), MAX_SEGMENT_IDS):
            chunk = tuple(ids[start : start + MAX_SEGMENT_IDS])
            record = SegmentMembership(segment, chunk, action, id_type, now)
            queued = self._enqueue(record) and queued
        return queued

    def track_metric(
        self, delivery_id: str, metric: str, **fields: Any
    ) -> bool:
        """Report a delivery metric such as ``"opened"`` or ``"clicked"``.

        ``fields`` may hold ``timestamp``, ``recipient``, ``reason`` and
        ``href``. Sent to v1 ``/api/v1/metrics``: v2's delivery
        operation covers only push metrics.
        """
        delivery_id = check_text(delivery_id, "delivery_id", 1000)
        metric = check_text(metric, "metric", MAX_EVENT_NAME_BYTES)
        if fields.get("timestamp") is not None:
            check_timestamp(fields["timestamp"], "timestamp")
        return self._enqueue(Metric(delivery_id, metric, fields, _now()))

    def batch(self, operations: Iterable[Mapping[str, Any]]) -> bool:
        """Queue raw v2 operations, each checked for shape first.

        Returns True when every operation was queued.
        """
        if isinstance(operations, Mapping) or not isinstance(
            operations, Iterable
        ):
            raise ValidationError(
                "operations must be a list of v2 operation dicts"
            )
        checked = [
            check_operation(operation, f"operations[{position}]")
            for position, operation in enumerate(operations)
        ]
        if not checked:
            raise ValidationError("operations must not be empty")
        now = _now()
        queued = True
        for operation in checked:
            queued = self._enqueue(Operation(operation, now)) and queued
        return queued


def _device_text(value: object) -> str:
    """Return a device attribute as the string the Track API expects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
