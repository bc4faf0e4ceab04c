"""A bounded log of the requests the server received."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from ._messages import Request

DEFAULT_MAX_ENTRIES = 1000
DEFAULT_MAX_BYTES = 50_000_000


class RequestLog:
    """The most recent requests, bounded by count and by body bytes."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque()
        self._bytes = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def add(
        self,
        request: Request,
        status: int | None,
        fault: str | None,
        received_at: float,
    ) -> None:
        """Record a request; `status` is None when nothing was answered."""
        headers = dict(request.headers)
        if "authorization" in headers:
            headers["authorization"] = "[redacted]"

        entry = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": headers,
            "body": request.body,
            "status": status,
            "fault": fault,
            "received_at": received_at,
        }
        with self._lock:
            self._entries.append(entry)
            self._bytes += len(request.body)
            while self._entries and (
                len(self._entries) > self.max_entries
                or self._bytes > self.max_bytes
            ):
                self._bytes -= len(self._entries.popleft()["body"])

    def entries(self) -> list[dict[str, Any]]:
        """Return copies of the logged requests, oldest first."""
        with self._lock:
            return [
                dict(entry, headers=dict(entry["headers"]))
                for entry in self._entries
            ]

    def clear(self) -> None:
        """Forget every logged request."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
