"""Counting HTTP sink that accepts every benchmarked library's body shape.

Run it as a separate process: ``python benchmarks/_sink.py --cpu 1``. It
prints the port it listens on as the first line of standard output and
serves until it is terminated.

Accepted requests (any path not under ``/_sink/`` is treated as ingestion):

- ``POST /v1/batch``: Segment and Customer.io CDP, ``{"batch": [...]}``.
- ``POST /batch/``, ``/i/v0/e/``, ``/i/v1/analytics/events``: PostHog.
- ``POST /api/v2/batch`` and ``/api/v2/entity``: the Track API v2.
- ``POST /api/v1/customers/{id}/events`` and other ``/api/v1`` calls: the
  synchronous Track API client, one event per request.

Control endpoints, all responding with JSON:

- ``/_sink/reset?mode=ok|hold|503&latency_ms=20&check=1`` zeroes the
  counters and sets how the sink responds to ingestion requests: ``ok``
  with 200 after the added latency, ``hold`` never, ``503`` with 503 at
  once. ``check=1`` tracks each event's ``seq`` property to count order
  violations per customer and duplicates.
- ``/_sink/stats`` returns the counters.
- ``/_sink/wait?acked=N&received=N&timeout=S`` responds once at least
  ``acked`` events got a 200 response and ``received`` ingestion requests
  arrived, or when ``timeout`` seconds pass.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:
    import orjson

    _loads: Any = orjson.loads
    _dumps: Any = orjson.dumps
except ImportError:  # pragma: no cover - the benchmark runs without orjson
    _loads = json.loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value).encode()


from _sinkhttp import HttpConnection, Request, Response

# Sequence numbers above this are not tracked for duplicates, which bounds
# the memory of the duplicate map to 16 MB.
MAX_TRACKED_SEQ = 16_000_000

# A key that every event of a batch body has exactly once, when the
# application's properties do not use it: the benchmark's never do. Counting
# it takes 0.2 ms for a 480 KB body where orjson.loads takes 3.7 ms, which
# would delay the next response on the connection. With check=1 the sink
# parses every body instead.
COUNT_MARKERS = {
    "/v1/batch": b'"messageId"',
    "/batch/": b'"uuid"',
    "/api/v2/batch": b'"identifiers"',
}

_RETRY_BODY = (
    b'{"code":"unavailable","message":"the sink responds 503 in this mode"}'
)
_OK = Response(200, b"{}")


class Counters:
    """Counters of one measurement, zeroed by ``/_sink/reset``."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests = 0
        self.events = 0
        self.wire_bytes = 0
        self.body_bytes = 0
        self.acked_requests = 0
        self.acked = 0
        self.acked_at = 0.0
        self.rejected_requests = 0
        self.rejected_events = 0
        self.held_requests = 0
        self.held_events = 0
        self.unparsable = 0
        self.paths: dict[str, int] = {}
        self.order_violations = 0
        self.duplicates = 0
        self.unique = 0
        self.last_seq: dict[object, int] = {}
        self.seen = bytearray()

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as a JSON-ready dict."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        names = [
            "requests",
            "events",
            "wire_bytes",
            "body_bytes",
            "acked_requests",
            "acked",
            "acked_at",
            "rejected_requests",
            "rejected_events",
            "held_requests",
            "held_events",
            "unparsable",
            "paths",
            "order_violations",
            "duplicates",
            "unique",
        ]
        stats = {name: getattr(self, name) for name in names}
        stats["sink_cpu_seconds"] = usage.ru_utime + usage.ru_stime
        stats["now"] = time.monotonic()
        return stats


class Sink:
    """Ingestion and control logic shared by all connections."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.counters = Counters()
        self.mode = "ok"
        self.latency = 0.0
        self.check = False
        self.waiters: list[tuple[int, int, asyncio.Future[None]]] = []

    def handle(self, request: Request, connection: HttpConnection) -> None:
        """Respond to one parsed request on its connection."""
        if request.target.startswith("/_sink/"):
            connection.respond(self.control(request))
            return

        arrived = time.monotonic()
        counters = self.counters
        if self.mode == "503":
            connection.respond(Response(503, _RETRY_BODY))
            counters.rejected_requests += 1
            counters.rejected_events += self.ingest(request)
            self.notify()
        elif self.mode == "hold":
            counters.held_requests += 1
            counters.held_events += self.ingest(request)
            self.notify()
        elif self.latency > 0:
            events = self.ingest(request)
            self.loop.call_at(
                arrived + self.latency,
                self.acknowledge,
                events,
                connection,
                counters,
            )
        else:
            # Responding before parsing keeps the parse off the client's
            # critical path, because the client waits for this response
            # before its next request on the connection.
            connection.respond(_OK)
            self.count_acked(self.ingest(request), counters, arrived)

    def ingest(self, request: Request) -> int:
        """Count one ingestion request and return its number of events."""
        counters = self.counters
        counters.requests += 1
        counters.wire_bytes += request.wire_bytes
        counters.body_bytes += len(request.body)
        path = urlsplit(request.target).path
        key = _path_family(path)
        counters.paths[key] = counters.paths.get(key, 0) + 1
        marker = COUNT_MARKERS.get(path)
        if marker is not None and not self.check:
            count = request.body.count(marker)
        else:
            events = self.parse_events(path, request.body)
            count = len(events)
            if self.check:
                self.check_order(events)
        counters.events += count
        return count

    def parse_events(self, path: str, body: bytes) -> list[Any]:
        """Return the event objects carried by one request body."""
        try:
            document = _loads(body) if body else {}
        except ValueError:
            self.counters.unparsable += 1
            return []

        if isinstance(document, list):
            return document
        if not isinstance(document, dict):
            return []
        batch = document.get("batch")
        if isinstance(batch, list):
            return batch
        if path.startswith("/api/v1/customers/"):
            # The v1 event body has no customer id: it is in the path.
            return [dict(document, _customer=path.split("/")[4])]
        return [document]

    def check_order(self, events: list[Any]) -> None:
        """Count per-customer order violations and duplicate ``seq`` values."""
        counters = self.counters
        last_seq = counters.last_seq
        seen = counters.seen
        for event in events:
            customer, seq = _customer_and_seq(event)
            if seq is None:
                continue
            previous = last_seq.get(customer)
            if previous is not None and seq < previous:
                counters.order_violations += 1
            last_seq[customer] = seq
            if 0 <= seq < MAX_TRACKED_SEQ:
                if seq >= len(seen):
                    seen.extend(bytes(seq + 65536 - len(seen)))
                if seen[seq]:
                    counters.duplicates += 1
                else:
                    seen[seq] = 1
                    counters.unique += 1

    def acknowledge(
        self, events: int, connection: HttpConnection, counters: Counters
    ) -> None:
        """Answer 200 after the added latency and count the events."""
        connection.respond(_OK)
        self.count_acked(events, counters, time.monotonic())

    def count_acked(self, events: int, counters: Counters, at: float) -> None:
        """Count events that got a 200 response at monotonic time ``at``."""
        if counters is not self.counters:
            return
        counters.acked_requests += 1
        counters.acked += events
        counters.acked_at = at
        self.notify()

    def notify(self) -> None:
        """Wake the waiters whose targets are reached."""
        if not self.waiters:
            return
        counters = self.counters
        remaining = []
        for acked, received, future in self.waiters:
            done = counters.acked >= acked and counters.requests >= received
            if done and not future.done():
                future.set_result(None)
            elif not future.done():
                remaining.append((acked, received, future))
        self.waiters = remaining

    def control(self, request: Request) -> Response | asyncio.Task[Response]:
        """Run one control request."""
        parts = urlsplit(request.target)
        query = {
            key: values[-1] for key, values in parse_qs(parts.query).items()
        }
        if parts.path == "/_sink/reset":
            return self.reset(query)
        if parts.path == "/_sink/stats":
            return _json_response(self.counters.snapshot())
        if parts.path == "/_sink/wait":
            return self.loop.create_task(self.wait(query))
        return Response(404, b'{"message":"unknown control path"}')

    def reset(self, query: dict[str, str]) -> Response:
        """Zero the counters and set how the sink responds."""
        mode = query.get("mode", "ok")
        if mode not in ("ok", "hold", "503"):
            return Response(400, b'{"message":"mode must be ok, hold or 503"}')

        self.mode = mode
        self.latency = float(query.get("latency_ms", "0")) / 1000
        self.check = query.get("check", "0") == "1"
        self.counters = Counters()
        for _, _, future in self.waiters:
            if not future.done():
                future.set_result(None)
        self.waiters = []
        return _json_response({"mode": mode, "latency": self.latency})

    async def wait(self, query: dict[str, str]) -> Response:
        """Wait until the requested counts are reached or time runs out."""
        acked = int(query.get("acked", "0"))
        received = int(query.get("received", "0"))
        timeout = float(query.get("timeout", "30"))
        future: asyncio.Future[None] = self.loop.create_future()
        self.waiters.append((acked, received, future))
        self.notify()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, timeout)
        return _json_response(self.counters.snapshot())


def _path_family(path: str) -> str:
    if path.startswith("/api/v1/customers/"):
        return "/api/v1/customers/{id}/" + path.rsplit("/", 1)[-1]
    return path


def _customer_and_seq(event: Any) -> tuple[object, int | None]:
    if not isinstance(event, dict):
        return None, None
    customer = event.get("userId") or event.get("distinct_id")
    if customer is None:
        identifiers = event.get("identifiers")
        if isinstance(identifiers, dict):
            customer = identifiers.get("id")
    if customer is None:
        customer = event.get("_customer")
    properties = (
        event.get("properties") or event.get("attributes") or event.get("data")
    )
    if not isinstance(properties, dict):
        return customer, None
    seq = properties.get("seq")
    return customer, seq if isinstance(seq, int) else None


def _json_response(value: Any) -> Response:
    return Response(200, _dumps(value))


async def serve(host: str, port: int) -> None:
    """Serve until cancelled, printing the bound port first."""
    sink = Sink()
    server = await asyncio.get_running_loop().create_server(
        lambda: HttpConnection(sink.handle), host, port, backlog=256
    )
    bound = server.sockets[0].getsockname()[1]
    print(bound, flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Parse arguments, pin the process to a core and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a port")
    parser.add_argument(
        "--cpu", type=int, default=None, help="core to pin the sink to"
    )
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
