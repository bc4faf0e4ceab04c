"""The `/_local/` JSON endpoints: state, counters, request log, faults.

They need no credentials and never get faults injected.
"""

from __future__ import annotations

import json
from typing import Any

from ._faults import Faults
from ._messages import OK, Request, Response, json_response, parse_json
from ._queries import counters_view, snapshot
from ._request_log import RequestLog
from ._state import Store


class LocalAPI:
    """Answers `/_local/...` requests."""

    def __init__(self, store: Store, faults: Faults, log: RequestLog) -> None:
        self.store = store
        self.faults = faults
        self.log = log

    def handle(self, request: Request) -> Response:
        """Answer one `/_local/` request."""
        key = (request.method, request.path.rstrip("/"))
        if key == ("GET", "/_local/state"):
            return json_response(200, snapshot(self.store))

        if key == ("GET", "/_local/counters"):
            return json_response(200, counters_view(self.store))

        if key == ("GET", "/_local/requests"):
            return json_response(200, self._requests())

        if key == ("POST", "/_local/reset"):
            self.reset()
            return OK

        if key[1] == "/_local/faults":
            return self._faults(request)

        return json_response(404, {"meta": {"error": "not found"}})

    def reset(self) -> None:
        """Forget all state, counters and logged requests."""
        with self.store.lock:
            self.store.clear()
            self.store.changed.notify_all()

        self.log.clear()

    def _requests(self) -> list[dict[str, Any]]:
        entries = self.log.entries()
        for entry in entries:
            entry["body"] = entry["body"].decode("utf-8", "replace")

        return entries

    def _faults(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response(200, self.faults.describe())

        if request.method == "DELETE":
            self.faults.clear()
            return OK

        if request.method != "POST":
            return json_response(405, {"meta": {"error": "not allowed"}})

        spec, error = parse_json(request.body)
        if error is None and not isinstance(spec, dict):
            error = "the body must be a JSON object"

        if error is None:
            try:
                self.faults.configure(spec)
            except (TypeError, ValueError, KeyError) as problem:
                error = f"invalid fault settings: {problem}"

        if error is not None:
            return json_response(400, {"meta": {"error": error}})

        return Response(200, json.dumps(self.faults.describe()).encode())
