"""Deliver 100,000 events through a faulty local Track API exactly once.

The project's local server (``cio_pipeline._server.LocalTrackAPI`` in full
mode, which stores events and counts a repeated event id as a duplicate
instead of storing it again) runs in a child process pinned to core 1. It
responds 500 to 5% of requests and 429 to 2%, and closes 1% of connections
before applying the batch and 1% after applying it, without a response.
cio_pipeline, pinned to core 0, tracks 100,000 events and flushes. Then the
script reads the server's state and checks that every event was stored
once, in order per person.

    python benchmarks/faults.py            # 100,000 events
    python benchmarks/faults.py --events 10000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import attrs

SITE_ID = "bench-site"
API_KEY = "bench-key"
CUSTOMERS = 1000
SEED = 6

FAULTS = {
    "fail": [
        {"status": 500, "share": 0.05},
        {"status": 429, "share": 0.02},
    ],
    "close_before_apply": {"share": 0.01},
    "close_after_apply": {"share": 0.01},
    # With about 2,200 events a request, 100,000 events take only about 50
    # requests, so the first four get one fault of each kind for certain.
    "script": [
        {
            "responses": [500, 429, "close_before_apply", "close_after_apply"],
            "path": "/api/v2/batch",
        }
    ],
}


def serve(spec: dict[str, Any]) -> None:
    """Run the local server until standard input closes (child process)."""
    from cio_pipeline._server import LocalTrackAPI

    with LocalTrackAPI(SITE_ID, API_KEY, seed=SEED, faults=spec) as server:
        print(server.url, flush=True)
        sys.stdin.read()


def start_server(cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    """Start the server process and return it with its URL."""
    command = [sys.executable, __file__, "--serve"]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    url = process.stdout.readline().strip() if process.stdout else ""
    if not url.startswith("http"):
        process.kill()
        raise SystemExit(f"the local server did not start: {url!r}")
    return process, url


def local_get(url: str, path: str) -> Any:
    """GET one of the server's ``/_local/`` endpoints."""
    with urllib.request.urlopen(url + path, timeout=60) as response:  # noqa: S310 - loopback URL
        return json.load(response)


def send(url: str, events: int, budget: float) -> dict[str, Any]:
    """Track ``events`` events, flush within ``budget`` and time it."""
    from cio_pipeline import Client

    lost: dict[str, int] = {}

    def on_error(record: object, reason: str) -> None:
        lost[str(reason)] = lost.get(str(reason), 0) + 1

    client = Client(
        SITE_ID,
        API_KEY,
        url=url,
        max_queue_size=events + 1,
        on_error=on_error,
        atexit=False,
    )
    started = time.monotonic()
    for seq in range(events):
        data = {
            "seq": seq,
            "plan": "pro",
            "amount": 19.99,
            "items": seq % 7,
            "at": datetime.now(UTC),
        }
        client.track(f"customer-{seq * 7919 % CUSTOMERS}", "purchase", data)
    result = client.flush(timeout=budget)
    seconds = time.monotonic() - started
    stats = client.stats()
    client.shutdown(timeout=1.0)
    return {
        "seconds": seconds,
        "flush_result": attrs.asdict(result),
        "retried": stats.retried,
        "batches_sent": stats.batches_sent,
        "lost": lost,
    }


def check_state(state: dict[str, Any], events: int) -> dict[str, Any]:
    """Count stored events, missing and repeated seqs, and order breaks."""
    seen = bytearray(events)
    stored = repeated = out_of_order = 0
    for person in state["people"]:
        previous = -1
        for event in person["events"]:
            seq = (event.get("data") or {}).get("seq")
            if not isinstance(seq, int) or not 0 <= seq < events:
                continue
            stored += 1
            if seen[seq]:
                repeated += 1
            seen[seq] = 1
            if seq < previous:
                out_of_order += 1
            previous = seq
    return {
        "stored": stored,
        "missing": events - sum(seen),
        "repeated": repeated,
        "out_of_order": out_of_order,
    }


def run(events: int, budget: float, cpu: int) -> dict[str, Any]:
    """Run the whole check and return the figures."""
    others = sorted(os.sched_getaffinity(0) - {cpu})
    server_cpu = others[0] if others else None
    process, url = start_server(server_cpu)
    try:
        os.sched_setaffinity(0, {cpu})
        sent = send(url, events, budget)
        counters = local_get(url, "/_local/counters")
        checked = check_state(local_get(url, "/_local/state"), events)
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(timeout=30)
    return {
        "events": events,
        "faults": FAULTS,
        **sent,
        **checked,
        "server_counters": counters,
    }


def render(figures: dict[str, Any]) -> str:
    """Render the figures as a Markdown table."""
    counters = figures["server_counters"]
    exactly_once = (
        figures["stored"] == figures["events"]
        and figures["missing"] == 0
        and figures["repeated"] == 0
    )
    rows = [
        ("Events tracked", f"{figures['events']:,}"),
        ("Seconds to flush all", f"{figures['seconds']:.2f}"),
        ("flush() result", str(figures["flush_result"])),
        ("Faults injected by the server", counters.get("faults_injected")),
        ("Answers by status", counters.get("responses")),
        ("Records the client sent again", figures["retried"]),
        (
            "Repeats the server discarded by event id",
            counters.get("duplicate_events"),
        ),
        ("Events stored", f"{figures['stored']:,}"),
        ("Missing", figures["missing"]),
        ("Stored twice", figures["repeated"]),
        ("Out of order per person", figures["out_of_order"]),
        ("Reported lost through on_error", figures["lost"] or 0),
        ("Every event exactly once", "yes" if exactly_once else "**no**"),
    ]
    lines = ["| Faulty server | cio_pipeline |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments and run, or serve when started as the child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--budget", type=float, default=120.0, help="flush timeout, seconds"
    )
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {args.cpu})
        serve(FAULTS)
        return

    figures = run(args.events, args.budget, args.cpu)
    print(render(figures))
    if args.json:
        with open(args.json, "w") as output:
            json.dump(figures, output, indent=1, default=str)


if __name__ == "__main__":
    main()
