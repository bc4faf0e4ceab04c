"""The practical floor: a minimal deque-and-thread batching pipeline.

It does the least a batching client can do. The caller appends a tuple to a
deque. One thread takes up to ``BATCH_EVENTS`` tuples, encodes them as one
Track API v2 batch and posts it over a keep-alive ``http.client``
connection. It has no validation, retries, limits or accounting beyond
counting failed batches, so no real client should be faster; the benchmark
reports it beside the libraries as the floor they are measured against.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

try:
    import orjson

    def _encode(value: object) -> bytes:
        return orjson.dumps(value)

except ImportError:
    import json

    def _encode(value: object) -> bytes:
        return json.dumps(value, default=_isoformat).encode()


BATCH_EVENTS = 2000
# How long the sender thread sleeps when the deque is empty.
IDLE_SECONDS = 0.005


def _isoformat(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


class FloorPipeline:
    """Deque plus one sender thread."""

    def __init__(self, url: str, lost: Callable[[int, str], None]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.lost = lost
        self.queue: deque[tuple[str, str, dict[str, Any]]] = deque()
        self.in_flight = 0
        self.stopping = False
        self.thread = threading.Thread(
            target=self.run, name="floor-sender", daemon=True
        )
        self.thread.start()

    def track(self, customer_id: str, name: str, data: dict[str, Any]) -> None:
        """Queue one event: the whole caller-side cost."""
        self.queue.append((customer_id, name, data))

    def run(self) -> None:
        """Send batches until stopped."""
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=10
        )
        queue = self.queue
        while not self.stopping:
            if not queue:
                time.sleep(IDLE_SECONDS)
                continue
            take = min(len(queue), BATCH_EVENTS)
            batch = [queue.popleft() for _ in range(take)]
            self.in_flight = take
            connection = self.send(connection, batch)
            self.in_flight = 0

    def send(
        self,
        connection: http.client.HTTPConnection,
        batch: list[tuple[str, str, dict[str, Any]]],
    ) -> http.client.HTTPConnection:
        """Post one batch, and report it lost unless the response is 2xx."""
        operations = [
            {
                "type": "person",
                "action": "event",
                "identifiers": {"id": customer_id},
                "name": name,
                "attributes": data,
            }
            for customer_id, name, data in batch
        ]
        body = _encode({"batch": operations})
        headers = {"Content-Type": "application/json"}
        try:
            connection.request("POST", "/api/v2/batch", body, headers)
            response = connection.getresponse()
            response.read()
        except OSError:
            self.lost(len(batch), "connection")
            connection.close()
            return http.client.HTTPConnection(self.host, self.port, timeout=10)
        if not 200 <= response.status < 300:
            self.lost(len(batch), f"status {response.status}")
        return connection

    def flush(self, timeout: float) -> int:
        """Wait until the deque is empty; return how many events remain."""
        deadline = time.monotonic() + timeout
        while self.queue or self.in_flight:
            if time.monotonic() >= deadline:
                break
            time.sleep(IDLE_SECONDS)
        return len(self.queue) + self.in_flight

    def shutdown(self, timeout: float) -> int:
        """Flush, stop the thread and report what remains as lost."""
        remaining = self.flush(timeout)
        self.stopping = True
        left = len(self.queue)
        self.queue.clear()
        if left:
            self.lost(left, "shutdown")
        return remaining
