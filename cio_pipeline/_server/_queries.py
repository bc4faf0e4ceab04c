"""Read-only views of the state: copies, safe to keep and change.

Each function takes the store's lock itself.
"""

from __future__ import annotations

import copy
from typing import Any

from ._events import event_view
from ._people import Person
from ._state import Store


def find_person(
    store: Store,
    id: str | None = None,
    email: str | None = None,
    cio_id: str | None = None,
    phone: str | None = None,
) -> Person | None:
    """Return the live Person for exactly one identifier; hold the lock."""
    given = [
        (kind, value)
        for kind, value in (
            ("id", id),
            ("email", email),
            ("cio_id", cio_id),
            ("phone", phone),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise ValueError(
            f"pass exactly one of id, email, cio_id or phone, not {len(given)}"
        )

    kind, value = given[0]
    return store.people.find(kind, str(value))


def person_view(person: Person) -> dict[str, Any]:
    """Return a copy of a profile with its event count."""
    view = person.snapshot()
    view["event_count"] = len(person.events)
    return view


def objects_view(store: Store) -> list[dict[str, Any]]:
    """Return copies of the stored objects."""
    with store.lock:
        return [
            {
                "identifiers": dict(record["identifiers"]),
                "attributes": copy.deepcopy(record["attributes"]),
                "relationships": copy.deepcopy(
                    list(record["relationships"].values())
                ),
                "created_at": record["created_at"],
            }
            for record in store.objects.values()
        ]


def segments_view(store: Store) -> dict[str, list[str]]:
    """Return each segment's members as sorted cio_ids."""
    with store.lock:
        return {
            str(segment_id): sorted(members)
            for segment_id, members in sorted(store.segments.items())
        }


def counters_view(store: Store) -> dict[str, Any]:
    """Return the counters, with responses counted by status."""
    with store.lock:
        counters: dict[str, Any] = dict(store.counters)
        counters["responses"] = dict(store.responses)
        return counters


def snapshot(store: Store) -> dict[str, Any]:
    """Return the whole state as JSON-ready data."""
    with store.lock:
        people = []
        for person in store.people:
            view = person_view(person)
            view["events"] = [event_view(e) for e in person.events]
            people.append(view)

        return {
            "people": people,
            "anonymous_events": [
                event_view(event, anonymous=True)
                for event in store.anonymous_events
            ],
            "suppressed": store.people.suppressed_list(),
            "segments": segments_view(store),
            "merges": copy.deepcopy(store.merges),
            "metrics": copy.deepcopy(store.metrics),
            "objects": objects_view(store),
            "forms": copy.deepcopy(store.forms),
            "unsubscribes": copy.deepcopy(store.unsubscribes),
            "counters": counters_view(store),
        }
