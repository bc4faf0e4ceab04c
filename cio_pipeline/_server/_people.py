"""People, their identifiers and the suppression list."""

from __future__ import annotations

import copy
from typing import Any

from ._events import Event

# Identifier kinds by which a person can be found. Emails are compared
# without case, as in an email-identified workspace.
KINDS = ("id", "email", "phone", "cio_id")


def normalize(kind: str, value: str) -> str:
    """Return the form of an identifier used for look-ups."""
    return value.lower() if kind == "email" else value


class Person:
    """One profile as the Track API would store it."""

    __slots__ = (
        "attribute_times",
        "attributes",
        "cio_id",
        "created_at",
        "devices",
        "email",
        "events",
        "id",
        "phone",
        "relationships",
        "segments",
    )

    def __init__(self, cio_id: str, created_at: int) -> None:
        self.cio_id = cio_id
        self.id: str | None = None
        self.email: str | None = None
        self.phone: str | None = None
        self.created_at = created_at
        self.attributes: dict[str, Any] = {}
        # Timestamp (Unix seconds) of the update that last set each
        # attribute, so that an older update cannot overwrite a newer one.
        self.attribute_times: dict[str, int] = {}
        self.events: list[Event] = []
        self.devices: dict[str, dict[str, Any]] = {}
        self.relationships: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.segments: set[int] = set()

    def identifiers(self) -> list[tuple[str, str]]:
        """Return the (kind, value) pairs that address this person."""
        return [
            (kind, value)
            for kind in KINDS
            if (value := getattr(self, kind)) is not None
        ]

    def snapshot(self) -> dict[str, Any]:
        """Return a copy of the profile, without its events."""
        return {
            "cio_id": self.cio_id,
            "id": self.id,
            "email": self.email,
            "phone": self.phone,
            "created_at": self.created_at,
            "attributes": copy.deepcopy(self.attributes),
            "devices": copy.deepcopy(list(self.devices.values())),
            "relationships": copy.deepcopy(list(self.relationships.values())),
            "segments": sorted(self.segments),
        }


class People:
    """Profiles indexed by every identifier, plus suppressed identifiers."""

    def __init__(self) -> None:
        self.index: dict[str, dict[str, Person]] = {kind: {} for kind in KINDS}
        self.by_cio_id = self.index["cio_id"]
        self.suppressed: dict[tuple[str, str], int] = {}
        self._groups = 0
        self._cio_ids = 0

    def __iter__(self) -> Any:
        return iter(list(self.by_cio_id.values()))

    def find(self, kind: str, value: str) -> Person | None:
        """Return the person with this identifier, if any."""
        return self.index[kind].get(normalize(kind, value))

    def create(self, kind: str, value: str, now: int) -> Person:
        """Create a person addressed by a new id, email or phone."""
        self._cio_ids += 1
        person = Person(f"{self._cio_ids:08x}", now)
        self.by_cio_id[person.cio_id] = person
        self.set_identifier(person, kind, value)
        return person

    def set_identifier(self, person: Person, kind: str, value: str) -> None:
        """Give `person` a new identifier value, moving the index entry."""
        old = getattr(person, kind)
        if old is not None:
            del self.index[kind][normalize(kind, old)]

        setattr(person, kind, value)
        self.index[kind][normalize(kind, value)] = person

    def remove(self, person: Person) -> None:
        """Forget a person under every identifier."""
        for kind, value in person.identifiers():
            self.index[kind].pop(normalize(kind, value), None)

    def is_blocked(self, kind: str, value: Any) -> bool:
        """Return whether an identifier is on the suppression list."""
        if not self.suppressed or not isinstance(value, str):
            return False

        return (kind, normalize(kind, value)) in self.suppressed

    def block(self, identifiers: list[tuple[str, str]]) -> None:
        """Suppress identifiers together, so one unsuppress frees them all."""
        self._groups += 1
        for kind, value in identifiers:
            self.suppressed[(kind, normalize(kind, value))] = self._groups

    def unblock(self, kind: str, value: str) -> bool:
        """Free an identifier and those suppressed with it."""
        group = self.suppressed.get((kind, normalize(kind, value)))
        if group is None:
            return False

        for key in [k for k, g in self.suppressed.items() if g == group]:
            del self.suppressed[key]

        return True

    def suppressed_list(self) -> list[dict[str, str]]:
        """Return suppressed identifiers as {kind: value} objects."""
        return [{kind: value} for kind, value in sorted(self.suppressed)]
