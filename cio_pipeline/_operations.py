"""Turn records into Track API operations: v2 batch items or v1 requests."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import quote

from . import _records as records
from ._encoder import timestamp_seconds
from ._ulid import UlidGenerator

# People whose identifiers objects are kept for reuse.
IDENTIFIER_CACHE_SIZE = 10_000


class V1Request(NamedTuple):
    """One v1 request: a record that the v2 batch endpoint cannot carry."""

    method: str
    path: str
    body: dict[str, Any]


def path_segment(value: object) -> str:
    """Percent-encode ``value`` once as a single URL path segment."""
    return quote(str(value), safe="")


def identifiers(value: str | int, identify_by: str) -> dict[str, str]:
    """Return the v2 ``identifiers`` object that addresses a person.

    With ``identify_by="auto"`` a value starting with ``cio_`` is a
    cio_id, one containing ``@`` an email and anything else an id, the
    way the Track API reads a v1 path. v2 takes a cio_id without the
    ``cio_`` prefix.
    """
    text = value if isinstance(value, str) else str(value)
    if identify_by == "auto":
        if text.startswith("cio_"):
            return {"cio_id": text[4:]}
        if "@" in text:
            return {"email": text}
        return {"id": text}
    if identify_by == "cio_id" and text.startswith("cio_"):
        return {"cio_id": text[4:]}
    return {identify_by: text}


def _merge_identifier(id_type: str, value: str) -> dict[str, str]:
    if id_type == "cio_id" and value.startswith("cio_"):
        value = value[4:]
    return {id_type: value}


class OperationBuilder:
    """Build the JSON-ready form of each record; owned by one worker."""

    def __init__(self, identify_by: str) -> None:
        self._identify_by = identify_by
        self._ulids = UlidGenerator()
        # Encoders only read these dicts, so operations share them.
        self._identifiers: dict[str | int, dict[str, str]] = {}

    def v2(self, record: records.Record, now: float) -> dict[str, Any]:
        """Return the v2 batch operation for a record v2 can carry."""
        if type(record) is records.Event:
            return self.event(record, now)
        if type(record) is records.Identify:
            return {
                "type": "person",
                "action": "identify",
                "identifiers": self._who(record.customer_id),
                "attributes": record.attributes,
                "timestamp": int(record.called_at),
            }
        if type(record) is records.Operation:
            return record.operation
        if type(record) is records.AddDevice:
            return self._add_device(record)
        if type(record) is records.DeleteDevice:
            return {
                "type": "person",
                "action": "delete_device",
                "identifiers": self._who(record.customer_id),
                "device": {"token": record.device_id},
            }
        if type(record) is records.Merge:
            return {
                "type": "person",
                "action": "merge",
                "primary": _merge_identifier(
                    record.primary_id_type, record.primary_id
                ),
                "secondary": _merge_identifier(
                    record.secondary_id_type, record.secondary_id
                ),
            }
        action = _PERSON_ACTIONS[type(record)]
        customer_id: str | int = record.customer_id  # type: ignore[union-attr]
        return {
            "type": "person",
            "action": action,
            "identifiers": self._who(customer_id),
        }

    def v1(self, record: records.Record, now: float) -> V1Request:
        """Return the v1 request for a record that v2 cannot carry."""
        if type(record) is records.AnonymousEvent:
            return V1Request(
                "POST", "/api/v1/events", self._anonymous(record, now)
            )
        if type(record) is records.SegmentMembership:
            path = (
                f"/api/v1/segments/{path_segment(record.segment_id)}/"
                f"{record.action}_customers"
            )
            if record.id_type is not None:
                path += f"?id_type={record.id_type}"
            return V1Request("POST", path, {"ids": list(record.customer_ids)})
        if type(record) is records.Metric:
            body: dict[str, Any] = {
                "delivery_id": record.delivery_id,
                "metric": record.metric,
            }
            body.update(record.fields)
            if "timestamp" in body:
                body["timestamp"] = timestamp_seconds(body["timestamp"])
            return V1Request("POST", "/api/v1/metrics", body)
        raise TypeError(f"{type(record).__name__} is not a v1 record")

    def _who(self, customer_id: str | int) -> dict[str, str]:
        found = self._identifiers.get(customer_id)
        if found is None:
            if len(self._identifiers) >= IDENTIFIER_CACHE_SIZE:
                self._identifiers.clear()
            found = identifiers(customer_id, self._identify_by)
            self._identifiers[customer_id] = found
        return found

    def event(self, record: records.Event, now: float) -> dict[str, Any]:
        """Return the v2 operation of an event, page or screen view."""
        # One unpacking is cheaper than seven field look-ups.
        customer_id, name, data, event_id, timestamp, action, called_at = (
            record
        )
        who = self._identifiers.get(customer_id)
        if who is None:
            who = self._who(customer_id)
        operation: dict[str, Any] = {
            "type": "person",
            "action": action,
            "identifiers": who,
            "name": name,
            "id": event_id or self._ulids.new(now),
            "timestamp": (
                int(called_at)
                if timestamp is None
                else timestamp_seconds(timestamp)
            ),
        }
        if data:
            operation["attributes"] = data
        return operation

    def _anonymous(
        self, record: records.AnonymousEvent, now: float
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": record.name,
            "id": record.event_id or self._ulids.new(now),
            "timestamp": (
                int(record.called_at)
                if record.timestamp is None
                else timestamp_seconds(record.timestamp)
            ),
        }
        if record.anonymous_id is not None:
            body["anonymous_id"] = record.anonymous_id
        if record.data:
            body["data"] = record.data
        return body

    def _add_device(self, record: records.AddDevice) -> dict[str, Any]:
        device: dict[str, Any] = {
            "token": record.device_id,
            "platform": record.platform,
        }
        if record.last_used is not None:
            device["last_used"] = timestamp_seconds(record.last_used)
        if record.attributes:
            device["attributes"] = record.attributes
        return {
            "type": "person",
            "action": "add_device",
            "identifiers": self._who(record.customer_id),
            "device": device,
        }


_PERSON_ACTIONS: dict[type, str] = {
    records.Delete: "delete",
    records.Suppress: "suppress",
    records.Unsuppress: "unsuppress",
}
