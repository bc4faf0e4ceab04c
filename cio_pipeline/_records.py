"""Typed, immutable records: one per operation a caller queued.

Records are ``NamedTuple`` classes rather than frozen attrs classes
because the caller's thread builds one per call: a frozen slotted attrs
instance took about 850 ns to build on a 2-core test machine and a
``NamedTuple`` built with ``tuple.__new__`` about 270 ns, and both are
immutable and carry no ``__dict__``. Dicts in records are shallow
copies of the caller's; nested values are shared, so a caller must not
change them after the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

#: A timestamp as a caller passes it: Unix seconds or a datetime.
Timestamp = int | float | datetime


class Identify(NamedTuple):
    """Create or update a person."""

    customer_id: str | int
    attributes: dict[str, Any]
    called_at: float


class Delete(NamedTuple):
    """Delete a person."""

    customer_id: str | int
    called_at: float


class Event(NamedTuple):
    """An event, page view or screen view of a known person.

    ``action`` is ``"event"``, ``"page"`` or ``"screen"``.
    """

    customer_id: str | int
    name: str
    data: dict[str, Any] | None
    event_id: str | None
    timestamp: Timestamp | None
    action: str
    called_at: float


class AnonymousEvent(NamedTuple):
    """An anonymous event, or an invite event when ``anonymous_id`` is None."""

    anonymous_id: str | None
    name: str
    data: dict[str, Any] | None
    event_id: str | None
    timestamp: Timestamp | None
    called_at: float


class AddDevice(NamedTuple):
    """Add or update a person's push device."""

    customer_id: str | int
    device_id: str
    platform: str
    last_used: Timestamp | None
    attributes: dict[str, str]
    called_at: float


class DeleteDevice(NamedTuple):
    """Delete a person's push device."""

    customer_id: str | int
    device_id: str
    called_at: float


class Suppress(NamedTuple):
    """Delete a person and block their identifier."""

    customer_id: str | int
    called_at: float


class Unsuppress(NamedTuple):
    """Allow a suppressed identifier again."""

    customer_id: str | int
    called_at: float


class Merge(NamedTuple):
    """Merge the secondary person into the primary one."""

    primary_id_type: str
    primary_id: str
    secondary_id_type: str
    secondary_id: str
    called_at: float


class SegmentMembership(NamedTuple):
    """Add people to a manual segment or remove them from it.

    ``action`` is ``"add"`` or ``"remove"``; ``customer_ids`` has at
    most 1,000 entries, the Track API's limit per request.
    """

    segment_id: int
    customer_ids: tuple[str, ...]
    action: str
    id_type: str | None
    called_at: float


class Metric(NamedTuple):
    """A delivery metric such as ``opened`` or ``clicked``."""

    delivery_id: str
    metric: str
    fields: dict[str, Any]
    called_at: float


class Operation(NamedTuple):
    """A raw v2 operation queued through ``Client.batch``."""

    operation: dict[str, Any]
    called_at: float


Record = (
    Identify
    | Delete
    | Event
    | AnonymousEvent
    | AddDevice
    | DeleteDevice
    | Suppress
    | Unsuppress
    | Merge
    | SegmentMembership
    | Metric
    | Operation
)

#: Records that the v2 batch endpoint cannot carry: each one is its own
#: v1 request.
V1_RECORD_TYPES = (AnonymousEvent, SegmentMembership, Metric)
