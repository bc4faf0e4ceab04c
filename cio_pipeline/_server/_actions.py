"""The changes that each accepted v2 operation makes to the state."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ._events import TIMESTAMP
from ._people import Person
from ._state import Store, relationship_key, single

Action = Callable[[Store, dict[str, Any], int], None]


EVENT_ACTIONS = frozenset({"event", "page", "screen"})


def apply_operation(
    store: Store, op: dict[str, Any], now: int, text: str | None = None
) -> None:
    """Apply one validated v2 operation; the caller must hold `store.lock`.

    `text` is the operation's JSON text as received, kept for events.
    """
    kind = op["type"]
    action = op["action"]
    if kind == "person" and action in EVENT_ACTIONS:
        store.add_event(op, now, text)
    elif kind == "person":
        _PERSON_ACTIONS[action](store, op, now)
    elif kind == "object":
        _OBJECT_ACTIONS[op["action"]](store, op, now)
    else:
        store.add_metric("v2", op, now)

    store.counters["operations_accepted"] += 1


def _identify(store: Store, op: dict[str, Any], now: int) -> None:
    kind, value = single(op["identifiers"])
    attributes = op.get("attributes") or {}
    if store.is_blocked(kind, value) or any(
        store.is_blocked(key, attributes.get(key)) for key in ("id", "email")
    ):
        return

    update_only = attributes.get("_update") is True
    person = store.person_for(kind, value, now, create=not update_only)
    if person is None:
        return

    timestamp = op.get("timestamp")
    store.update_identifiers(person, attributes, kind)
    store.set_attributes(
        person, attributes, now if timestamp is None else timestamp
    )

    anonymous_id = attributes.get("anonymous_id")
    if isinstance(anonymous_id, str):
        store.adopt_anonymous_events(person, anonymous_id)

    relationships = op.get("cio_relationships")
    if relationships:
        relate_person(person, relationships, add=True)


def relate_person(
    person: Person, relationships: list[dict[str, Any]], add: bool
) -> None:
    """Add or remove a person's relationships to objects."""
    for item in relationships:
        identifiers = item["identifiers"]
        key = relationship_key(identifiers)
        if not add:
            person.relationships.pop(key, None)
            continue

        person.relationships[key] = {
            "identifiers": dict(identifiers),
            "relationship_attributes": dict(
                item.get("relationship_attributes") or {}
            ),
        }


def _existing(store: Store, op: dict[str, Any]) -> Person | None:
    kind, value = single(op["identifiers"])
    if store.is_blocked(kind, value):
        return None

    return store.person_for(kind, value, 0, create=False)


def _delete(store: Store, op: dict[str, Any], now: int) -> None:
    person = _existing(store, op)
    if person is not None:
        store.remove_person(person)


def _relationships(store: Store, op: dict[str, Any], now: int) -> None:
    kind, value = single(op["identifiers"])
    if store.is_blocked(kind, value):
        return

    person = store.person_for(kind, value, now)
    if person is not None:
        add = op["action"] == "add_relationships"
        relate_person(person, op["cio_relationships"], add)


def _add_device(store: Store, op: dict[str, Any], now: int) -> None:
    kind, value = single(op["identifiers"])
    if store.is_blocked(kind, value):
        return

    person = store.person_for(kind, value, now)
    if person is None:
        return

    device = op["device"]
    token = device["token"]
    stored = person.devices.setdefault(token, {"token": token})
    stored["platform"] = device["platform"]
    stored["last_used"] = device.get("last_used", stored.get("last_used"))
    attributes = stored.setdefault("attributes", {})
    attributes.update(device.get("attributes") or {})


def _delete_device(store: Store, op: dict[str, Any], now: int) -> None:
    person = _existing(store, op)
    if person is not None:
        person.devices.pop(op["device"]["token"], None)


def _merge(store: Store, op: dict[str, Any], now: int) -> None:
    primary = store.people.find(*single(op["primary"]))
    secondary = store.people.find(*single(op["secondary"]))
    applied = (
        primary is not None
        and secondary is not None
        and primary is not secondary
    )
    store.merges.append(
        {
            "primary": dict(op["primary"]),
            "secondary": dict(op["secondary"]),
            "applied": applied,
            "received_at": now,
        }
    )
    if primary is None or secondary is None or not applied:
        store.count("unmatched_operations")
        return

    merge_people(store, primary, secondary)


def merge_people(store: Store, primary: Person, secondary: Person) -> None:
    """Fold the secondary profile into the primary and delete it.

    The primary keeps its own identifiers and attribute values. It gains
    the attributes, devices and relationships it lacks, all events, and
    the secondary's segment memberships.
    """
    for name, value in secondary.attributes.items():
        if name not in primary.attributes:
            primary.attributes[name] = value
            primary.attribute_times[name] = secondary.attribute_times.get(
                name, 0
            )

    primary.events.extend(secondary.events)
    primary.events.sort(key=itemgetter(TIMESTAMP))
    for token, device in secondary.devices.items():
        primary.devices.setdefault(token, device)

    for key, relationship in secondary.relationships.items():
        primary.relationships.setdefault(key, relationship)

    for segment_id in secondary.segments:
        store.segments[segment_id].add(primary.cio_id)
        primary.segments.add(segment_id)

    store.remove_person(secondary)


def _suppress(store: Store, op: dict[str, Any], now: int) -> None:
    kind, value = single(op["identifiers"])
    person = store.people.find(kind, value)
    identifiers = [(kind, value)]
    if person is not None:
        identifiers += person.identifiers()
        store.remove_person(person)

    store.people.block(identifiers)


def _unsuppress(store: Store, op: dict[str, Any], now: int) -> None:
    kind, value = single(op["identifiers"])
    if not store.people.unblock(kind, value):
        store.count("unmatched_operations")


_PERSON_ACTIONS: dict[str, Action] = {
    "identify": _identify,
    "delete": _delete,
    "add_relationships": _relationships,
    "delete_relationships": _relationships,
    "add_device": _add_device,
    "delete_device": _delete_device,
    "merge": _merge,
    "suppress": _suppress,
    "unsuppress": _unsuppress,
}


def object_key(identifiers: dict[str, Any]) -> tuple[Any, ...]:
    """Return the key of an object in `Store.objects`."""
    if "cio_object_id" in identifiers:
        return ("cio_object_id", identifiers["cio_object_id"])

    return (identifiers["object_type_id"], identifiers["object_id"])


def _object_identify(store: Store, op: dict[str, Any], now: int) -> None:
    identifiers = op["identifiers"]
    key = object_key(identifiers)
    record = store.objects.setdefault(
        key,
        {
            "identifiers": dict(identifiers),
            "attributes": {},
            "relationships": {},
            "created_at": now,
        },
    )
    for name, value in (op.get("attributes") or {}).items():
        if value is None or value == "":
            record["attributes"].pop(name, None)
        else:
            record["attributes"][name] = value

    _relate_object(record, op.get("cio_relationships") or [], add=True)


def _object_delete(store: Store, op: dict[str, Any], now: int) -> None:
    if store.objects.pop(object_key(op["identifiers"]), None) is None:
        store.count("unmatched_operations")


def _object_relationships(store: Store, op: dict[str, Any], now: int) -> None:
    record = store.objects.get(object_key(op["identifiers"]))
    if record is None:
        store.count("unmatched_operations")
        return

    add = op["action"] == "add_relationships"
    _relate_object(record, op["cio_relationships"], add)


def _relate_object(
    record: dict[str, Any], relationships: list[dict[str, Any]], add: bool
) -> None:
    for item in relationships:
        key = relationship_key(item["identifiers"])
        if not add:
            record["relationships"].pop(key, None)
            continue

        record["relationships"][key] = {
            "identifiers": dict(item["identifiers"]),
            "relationship_attributes": dict(
                item.get("relationship_attributes") or {}
            ),
        }


_OBJECT_ACTIONS: dict[str, Action] = {
    "identify": _object_identify,
    "identify_anonymous": _object_identify,
    "delete": _object_delete,
    "add_relationships": _object_relationships,
    "delete_relationships": _object_relationships,
}
