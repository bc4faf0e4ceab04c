"""Stored events: plain tuples, with their data kept as JSON text.

A benchmark stores millions of events. As dicts, each would be an object
that the cyclic garbage collector scans on every full collection, which
halves the server's throughput. A tuple of strings and numbers is one the
collector stops tracking, so each event keeps the JSON text of the v2
operation it arrived in and its data is decoded only when read.
"""

from __future__ import annotations

import json
from typing import Any

# (name, type, timestamp, id, anonymous_id, the v2 operation's JSON text);
# the data is that operation's "attributes".
Event = tuple[str, str, int, str | None, str | None, str]

NAME = 0
TYPE = 1
TIMESTAMP = 2
ID = 3
ANONYMOUS_ID = 4


def event_view(event: Event, anonymous: bool = False) -> dict[str, Any]:
    """Return an event as a new dict: name, type, data, timestamp, id.

    Args:
        event: the stored event.
        anonymous: include anonymous_id even when it is None, as for the
            invite events in the anonymous list. Person events include it
            only when they were merged from anonymous events.
    """
    name, kind, timestamp, event_id, anonymous_id, text = event
    data = json.loads(text).get("attributes") or {}
    view = {
        "name": name,
        "type": kind,
        "data": data,
        "timestamp": timestamp,
        "id": event_id,
    }
    if anonymous or anonymous_id is not None:
        view["anonymous_id"] = anonymous_id

    return view
