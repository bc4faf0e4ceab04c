"""Measure how many events a second the local Track API server accepts.

The server runs in this process. A sender process posts pre-built batches
of about 400 KB (event operations shaped like cio_pipeline's) over
keep-alive connections, so that the sender's JSON encoding is not timed.
Each request gets fresh event ids, so that full mode stores every event
instead of discarding repeats.

    python benchmarks/server_throughput.py --mode count --seconds 10
    python benchmarks/server_throughput.py --mode full --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import sys
import time
from typing import Any

from cio_pipeline._server import LocalTrackAPI

SITE_ID = "bench-site"
API_KEY = "bench-key"
AUTH = "Basic YmVuY2gtc2l0ZTpiZW5jaC1rZXk="
BATCH_BYTES = 400_000
DISTINCT_BATCHES = 40
# Event ids carry this marker; each round of batches replaces it with the
# round number, so that no event id repeats.
ROUND_MARKER = b"RRRRRR"


def build_batches(count: int, seed: int) -> list[tuple[bytes, int]]:
    """Return `count` batch bodies with distinct event ids, and their sizes."""
    batches = []
    serial = seed * 10_000_000
    for _ in range(count):
        parts = []
        size = len('{"batch":[]}')
        while size < BATCH_BYTES - 300:
            serial += 1
            op = {
                "type": "person",
                "action": "event",
                "identifiers": {"id": f"user-{serial % 5000}"},
                "name": "purchase",
                "id": f"01J{ROUND_MARKER.decode()}{serial:017d}",
                "timestamp": 1_700_000_000 + serial % 86_400,
                "attributes": {"price": 12.5, "sku": f"sku-{serial % 97}"},
            }
            text = json.dumps(op, separators=(",", ":"))
            parts.append(text)
            size += len(text) + 1

        body = ('{"batch":[' + ",".join(parts) + "]}").encode()
        batches.append((body, len(parts)))

    return batches


def send(port: int, seconds: float, seed: int, results: Any) -> None:
    """Post batches over one keep-alive connection for `seconds`."""
    batches = build_batches(DISTINCT_BATCHES, seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    events = requests = sent_bytes = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        body, count = batches[requests % len(batches)]
        fresh = b"%06d" % (requests // len(batches))
        body = body.replace(ROUND_MARKER, fresh)
        conn.request("POST", "/api/v2/batch", body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"server responded with {response.status}")

        events += count
        requests += 1
        sent_bytes += len(body)

    results.put((events, requests, sent_bytes, time.perf_counter() - started))
    conn.close()


def measure(mode: str, seconds: float, connections: int) -> dict[str, Any]:
    """Run one measurement and return its figures."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with LocalTrackAPI(SITE_ID, API_KEY, mode=mode) as server:
        senders = [
            context.Process(
                target=send, args=(server.port, seconds, index, results)
            )
            for index in range(connections)
        ]
        for sender in senders:
            sender.start()

        figures = [results.get(timeout=seconds + 120) for _ in senders]
        for sender in senders:
            sender.join(30)

        counters = server.counters()

    accepted = counters["operations_accepted"]
    if counters["duplicate_events"]:
        raise RuntimeError("event ids repeated; the figure would be inflated")

    events = sum(figure[0] for figure in figures)
    elapsed = max(figure[3] for figure in figures)
    if accepted != events:
        raise RuntimeError(f"sent {events} events, server counted {accepted}")

    if mode == "full" and counters["events_stored"] != events:
        raise RuntimeError(f"sent {events} events, server stored fewer")

    return {
        "mode": mode,
        "connections": connections,
        "events": events,
        "requests": sum(figure[1] for figure in figures),
        "seconds": round(elapsed, 2),
        "events_per_second": round(events / elapsed),
        "megabytes_per_second": round(
            sum(figure[2] for figure in figures) / elapsed / 1e6, 1
        ),
    }


def main() -> int:
    """Parse the options, measure and print one JSON line per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode", choices=("count", "full", "both"), default="both"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="time per mode"
    )
    parser.add_argument(
        "--connections", type=int, default=1, help="sender processes"
    )
    options = parser.parse_args()
    modes = ("count", "full") if options.mode == "both" else (options.mode,)
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
            }
        )
    )
    for mode in modes:
        figures = measure(mode, options.seconds, options.connections)
        print(json.dumps(figures), flush=True)

    return 0


if __name__ == "__main__":
    sys.exit(main())
