"""One measurement of one library, run in a fresh interpreter.

The harness starts ``python benchmarks/_runner.py --library L --scenario S
...`` under a kill deadline. The runner writes JSON lines to standard
output: ``{"lost": n, "reason": r}`` whenever the library reports lost
events, ``{"mark": name, "at": t}`` for timestamps the harness needs, and
one ``{"result": {...}}`` at the end. Lines are written as they happen so
that a run killed at its deadline still shows what the library reported.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from array import array
from datetime import UTC, datetime
from typing import Any

import _sinkclient
from _adapters import Adapter, make_adapter, thread_names

EVENT_NAME = "purchase"
CUSTOMERS = [f"customer-{index}" for index in range(1000)]
# Stride that visits the 1,000 customers in a scattered order.
CUSTOMER_STRIDE = 7919

_output_lock = threading.Lock()

# The adapter of the running scenario. Holding it here keeps the client
# alive until interpreter exit, as a module-level client would be.
_adapter: Adapter | None = None


def emit(record: dict[str, Any]) -> None:
    """Write one JSON line and flush it."""
    line = json.dumps(record, default=str) + "\n"
    with _output_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def report_lost(count: int, reason: str) -> None:
    """Forward a library's loss report to the harness."""
    emit({"lost": count, "reason": reason})


def properties(seq: int) -> dict[str, Any]:
    """Build the application's fresh properties dict for one call."""
    return {
        "seq": seq,
        "plan": "pro",
        "amount": 19.99,
        "items": seq % 7,
        "at": datetime.now(UTC),
    }


def run_calls(adapter: Adapter, first: int, count: int) -> None:
    """Make ``count`` untimed calls."""
    call = adapter.call
    customers = CUSTOMERS
    for seq in range(first, first + count):
        customer = customers[seq * CUSTOMER_STRIDE % 1000]
        call(customer, EVENT_NAME, properties(seq))


def run_timed_calls(adapter: Adapter, first: int, count: int) -> array[int]:
    """Make ``count`` calls and return each call's duration in ns."""
    call = adapter.call
    customers = CUSTOMERS
    clock = time.perf_counter_ns
    samples = array("q", bytes(8 * count))
    for index in range(count):
        seq = first + index
        customer = customers[seq * CUSTOMER_STRIDE % 1000]
        data = {
            "seq": seq,
            "plan": "pro",
            "amount": 19.99,
            "items": seq % 7,
            "at": datetime.now(UTC),
        }
        started = clock()
        call(customer, EVENT_NAME, data)
        samples[index] = clock() - started
    return samples


def quantiles(samples: array[int]) -> dict[str, float]:
    """Return median, p99 and p99.9 of the samples, in ns."""
    ordered = sorted(samples)
    last = len(ordered) - 1
    return {
        "median_ns": ordered[last // 2],
        "p99_ns": ordered[round(last * 0.99)],
        "p999_ns": ordered[round(last * 0.999)],
        "max_ns": ordered[last],
    }


def rss_bytes() -> int:
    """Return the resident set size from /proc/self/statm."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def warm_up(adapter: Adapter, sink: _sinkclient.SinkClient, count: int) -> int:
    """Send ``count`` events and wait until the sink acknowledged them."""
    if count <= 0:
        return 0
    run_calls(adapter, 0, count)
    adapter.drain(10.0)
    stats = sink.wait(acked=count, timeout=10.0)
    if stats["acked"] < count:
        raise SystemExit(
            f"warm-up timed out: the sink acknowledged {stats['acked']} "
            f"of {count} events"
        )
    return count


def scenario_throughput(adapter: Adapter, args: argparse.Namespace) -> None:
    """Measure end-to-end delivery, optionally timing each call."""
    sink = _sinkclient.SinkClient(args.sink)
    first = warm_up(adapter, sink, args.warmup)
    before = sink.stats()
    cpu_started = time.process_time()
    caller_cpu_started = time.thread_time()
    started = time.monotonic()
    if args.timed:
        samples = run_timed_calls(adapter, first, args.events)
    else:
        run_calls(adapter, first, args.events)
    calls_done = time.monotonic()
    caller_cpu = time.thread_time() - caller_cpu_started
    after = sink.wait(acked=before["acked"] + args.events, timeout=args.wait)
    cpu_used = time.process_time() - cpu_started

    delivered = after["acked"] - before["acked"]
    result: dict[str, Any] = {
        "events": args.events,
        "delivered": delivered,
        "calls_seconds": calls_done - started,
        "cpu_seconds": cpu_used,
        # CPU of the calling thread during the calls, application included.
        "caller_cpu_seconds": caller_cpu,
        "requests": after["acked_requests"] - before["acked_requests"],
        "wire_bytes": after["wire_bytes"] - before["wire_bytes"],
        "order_violations": after["order_violations"],
        "duplicates": after["duplicates"],
        "sink_cpu_seconds": after["sink_cpu_seconds"]
        - before["sink_cpu_seconds"],
        "paths": after["paths"],
    }
    if delivered >= args.events:
        result["e2e_seconds"] = after["acked_at"] - started
    if args.timed:
        result.update(quantiles(samples))
    emit({"result": result})


def scenario_memory(adapter: Adapter, args: argparse.Namespace) -> None:
    """Measure RSS growth per queued event while no request gets a response."""
    sink = _sinkclient.SinkClient(args.sink)
    first = warm_up(adapter, sink, args.warmup)
    sink.reset(mode="hold")
    gc.collect()
    rss_before = rss_bytes()
    run_calls(adapter, first, args.events)
    held = sink.wait(received=1, timeout=5.0)
    gc.collect()
    rss_after = rss_bytes()
    emit(
        {
            "result": {
                "events": args.events,
                "rss_growth_bytes": rss_after - rss_before,
                "bytes_per_event": (rss_after - rss_before) / args.events,
                "held_requests": held["held_requests"],
                "held_events": held["held_events"],
            }
        }
    )


def scenario_shutdown(adapter: Adapter, args: argparse.Namespace) -> None:
    """Queue events while the sink responds 503, then run one step."""
    started = time.monotonic()
    run_calls(adapter, 0, args.events)
    queued = time.monotonic()
    emit({"mark": "queued", "at": queued, "seconds": queued - started})
    started = time.monotonic()
    if args.step == "flush":
        returned = adapter.flush()
    elif args.step == "flush_budget":
        returned = adapter.flush_budget(args.budget)
    elif args.step == "shutdown":
        returned = adapter.shutdown()
    else:
        # The harness times the interpreter's exit from this mark.
        emit({"mark": "exiting", "at": time.monotonic()})
        return
    seconds = time.monotonic() - started
    emit({"result": {"seconds": seconds, "returned": returned}})


SCENARIOS = {
    "throughput": scenario_throughput,
    "memory": scenario_memory,
    "shutdown": scenario_shutdown,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the runner's command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True)
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    parser.add_argument("--sink", required=True, help="sink base URL")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--timed", action="store_true")
    parser.add_argument("--wait", type=float, default=60.0)
    parser.add_argument("--step", default="flush")
    parser.add_argument("--budget", type=float, default=2.0)
    parser.add_argument("--queue-size", type=int, default=200_000)
    parser.add_argument("--cpu", type=int, default=None)
    return parser.parse_args(argv)


def main() -> None:
    """Build the adapter and run the scenario."""
    global _adapter  # noqa: PLW0603 - see the comment at its definition
    args = parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    switch_interval = sys.getswitchinterval()
    adapter = _adapter = make_adapter(
        args.library, args.sink, args.queue_size, report_lost
    )
    emit(
        {
            "info": {
                "switch_interval_changed": sys.getswitchinterval()
                != switch_interval,
                "orjson_loaded": sys.modules.get("orjson") is not None,
                "threads": thread_names(),
            }
        }
    )
    SCENARIOS[args.scenario](adapter, args)
    # Checked again after the run: a library may change it on first use.
    emit(
        {
            "info": {
                "switch_interval_changed": sys.getswitchinterval()
                != switch_interval
            }
        }
    )
    if args.scenario != "shutdown" or args.step != "exit":
        # Skip atexit hooks: this run's figure is already written, and a
        # library's exit handler could wait on a held request.
        os._exit(0)


if __name__ == "__main__":
    main()
