"""The workspace state that accepted operations change.

Every operation arrives here in its v2 shape: the v1 handlers convert their
bodies first. Callers apply operations with `Store.lock` held.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ._checks import is_int
from ._events import ANONYMOUS_ID, Event
from ._people import People, Person

COUNTER_NAMES = (
    "requests",
    "batch_requests",
    "entity_requests",
    "bytes_received",
    "operations_accepted",
    "operations_rejected",
    "events_stored",
    "duplicate_events",
    "suppressed_ignored",
    "unmatched_operations",
    "stale_attributes",
    "identifier_conflicts",
    "segment_ids_skipped",
    "unauthorized",
    "faults_injected",
)

_PREFERENCES = "cio_subscription_preferences."

# Keys of identify attributes that steer the update instead of being stored.
_CONTROL_KEYS = frozenset(
    {"id", "email", "cio_id", "_timestamp", "_update", "cio_relationships"}
)


def single(identifiers: dict[str, Any]) -> tuple[str, str]:
    """Return the one (kind, value) pair of a validated identifiers object."""
    ((kind, value),) = identifiers.items()
    return kind, value


def relationship_key(identifiers: dict[str, Any]) -> tuple[Any, ...]:
    """Return a hashable key for an object's or person's identifiers."""
    return tuple(sorted(identifiers.items()))


class Store:
    """People, events, devices, segments and everything else received."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.clear()

    def clear(self) -> None:
        """Forget all state and zero the counters."""
        self.people = People()
        self.anonymous_events: list[Event] = []
        self.event_ids: set[str] = set()
        self.segments: dict[int, set[str]] = {}
        self.merges: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.objects: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.forms: list[dict[str, Any]] = []
        self.unsubscribes: list[dict[str, Any]] = []
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.responses: dict[str, int] = {}

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter; the caller holds the lock."""
        self.counters[name] += amount

    # People

    def person_for(
        self, kind: str, value: str, now: int, create: bool = True
    ) -> Person | None:
        """Find a person, creating one for a new id, email or phone."""
        person = self.people.find(kind, value)
        if person is None and create and kind != "cio_id":
            # cio_id values are assigned by the service, never by senders.
            person = self.people.create(kind, value, now)

        if person is None:
            self.count("unmatched_operations")

        return person

    def is_blocked(self, kind: str, value: Any) -> bool:
        """Return whether an operation on this identifier is ignored."""
        if self.people.is_blocked(kind, value):
            self.count("suppressed_ignored")
            return True

        return False

    def remove_person(self, person: Person) -> None:
        """Delete a profile and its segment memberships."""
        self.people.remove(person)
        for segment_id in person.segments:
            self.segments.get(segment_id, set()).discard(person.cio_id)

    def set_attributes(
        self, person: Person, attributes: dict[str, Any], timestamp: int
    ) -> None:
        """Set attributes unless a newer update already set them.

        A null or empty string value removes the attribute.
        """
        for name, value in attributes.items():
            if name in _CONTROL_KEYS:
                continue

            if person.attribute_times.get(name, timestamp) > timestamp:
                self.count("stale_attributes")
                continue

            person.attribute_times[name] = timestamp
            if name.startswith(_PREFERENCES):
                _set_dotted(person.attributes, name, value)
            elif value is None or value == "":
                person.attributes.pop(name, None)
            else:
                person.attributes[name] = value

            if name == "created_at" and is_int(value):
                person.created_at = value

    def update_identifiers(
        self, person: Person, attributes: dict[str, Any], addressed_by: str
    ) -> None:
        """Apply `id` and `email` attributes as identifiers.

        An empty identifier can be filled in from any address. Changing one
        that is set needs the person addressed by cio_id. A value that
        belongs to someone else is skipped and counted as a conflict.
        """
        for kind in ("id", "email"):
            value = attributes.get(kind)
            current = getattr(person, kind)
            if not isinstance(value, str) or not value or value == current:
                continue

            owner = self.people.find(kind, value)
            changing = current is not None and addressed_by != "cio_id"
            if changing or (owner is not None and owner is not person):
                self.count("identifier_conflicts")
                continue

            self.people.set_identifier(person, kind, value)

    def adopt_anonymous_events(
        self, person: Person, anonymous_id: str
    ) -> None:
        """Move anonymous events with this anonymous_id to the person."""
        kept = []
        for event in self.anonymous_events:
            if event[ANONYMOUS_ID] == anonymous_id:
                person.events.append(event)
            else:
                kept.append(event)

        self.anonymous_events = kept

    def add_event(
        self,
        op: dict[str, Any],
        now: int,
        text: str | None = None,
    ) -> None:
        """Store a person's or an anonymous event, dropping repeated ids.

        Args:
            op: the validated v2 event, page or screen operation.
            now: the time received, for events without a timestamp.
            text: the operation's JSON text as received; None encodes
                `op` instead.
        """
        event_id = op.get("id")
        if event_id is not None and event_id in self.event_ids:
            self.count("duplicate_events")
            return

        kind, value = single(op["identifiers"])
        if text is None:
            text = json.dumps(op)

        timestamp = op.get("timestamp")
        anonymous_id = value if kind == "anonymous_id" else None
        event = (
            op["name"].strip(),
            op["action"],
            now if timestamp is None else timestamp,
            event_id,
            anonymous_id,
            text,
        )
        if kind == "anonymous_id":
            self.anonymous_events.append(event)
        elif self.is_blocked(kind, value):
            return
        else:
            person = self.person_for(kind, value, now)
            if person is None:
                return

            person.events.append(event)

        if event_id is not None:
            self.event_ids.add(event_id)

        self.count("events_stored")

    def add_invite_event(self, body: dict[str, Any], now: int) -> None:
        """Store a v1 event sent with neither a person nor an anonymous_id."""
        op = {
            "type": "person",
            "action": body.get("type") or "event",
            "identifiers": {"anonymous_id": None},
            "name": body["name"],
            "id": body.get("id"),
            "timestamp": body.get("timestamp"),
            "attributes": body.get("data"),
        }
        self.add_event(op, now)

    # Segments, metrics, forms

    def change_segment(
        self, segment_id: int, kind: str, values: list[str], add: bool
    ) -> None:
        """Add people to a manual segment or remove them from it.

        Values that match no person are skipped, as the API documents.
        """
        members = self.segments.setdefault(segment_id, set())
        for value in values:
            person = self.people.find(kind, value)
            if person is None:
                self.count("segment_ids_skipped")
            elif add:
                members.add(person.cio_id)
                person.segments.add(segment_id)
            else:
                members.discard(person.cio_id)
                person.segments.discard(segment_id)

    def add_metric(self, source: str, body: dict[str, Any], now: int) -> None:
        """Store a delivery metric from /api/v1/metrics, push or v2."""
        if source == "v2":
            metric = {
                "delivery_id": body["identifiers"]["id"],
                "metric": body["name"],
                "timestamp": body.get("timestamp"),
                "attributes": body.get("attributes"),
            }
        else:
            metric = dict(body)
            if source == "push":
                metric["metric"] = metric.pop("event", None)

        if metric.get("timestamp") is None:
            metric["timestamp"] = now

        metric["source"] = source
        self.metrics.append(metric)


def _set_dotted(attributes: dict[str, Any], name: str, value: Any) -> None:
    *parents, leaf = name.split(".")
    node = attributes
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}

        node = child

    node[leaf] = value
