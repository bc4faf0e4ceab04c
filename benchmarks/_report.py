"""Turn the runners' results into medians, ratios and Markdown tables."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

OURS = "cio_pipeline"
WORKLOAD = 100_000

LABELS = {
    "cio_pipeline": "cio_pipeline",
    "cio_pipeline-pure": "cio_pipeline (no orjson)",
    "segment": "Segment",
    "posthog": "PostHog",
    "cdp": "Customer.io CDP",
    "customerio": "customerio (sync)",
    "floor": "floor (reference)",
}

# Results keyed by scenario, then library; one entry per repeat: the
# runner's result dict, or a string saying why there is none.
Results = dict[str, dict[str, list[Any]]]
Metric = Callable[[dict[str, Any]], float | None]


def _caller(key: str) -> Metric:
    return lambda result: result.get(key)


def _e2e_seconds(result: dict[str, Any]) -> float | None:
    seconds = result.get("e2e_seconds")
    if seconds is None:
        return None
    return float(seconds) * WORKLOAD / result["events"]


def _rate(result: dict[str, Any]) -> float | None:
    seconds = result.get("e2e_seconds")
    return result["events"] / seconds if seconds else None


def _cpu_per_1k(result: dict[str, Any]) -> float | None:
    return float(result["cpu_seconds"]) * 1000 / result["events"]


def _wire_per_event(result: dict[str, Any]) -> float | None:
    return result["wire_bytes"] / result["events"]


def _requests(result: dict[str, Any]) -> float | None:
    return result["requests"] * WORKLOAD / result["events"]


def _memory(result: dict[str, Any]) -> float | None:
    return result.get("bytes_per_event")


def _violations(result: dict[str, Any]) -> float | None:
    return result["order_violations"] + result["duplicates"]


def _us(value: float) -> str:
    return f"{value / 1000:,.2f} µs"


def _count(value: float) -> str:
    return f"{value:,.0f}"


# (row label, scenario, metric, formatter, higher is better)
ROWS: list[tuple[str, str, Metric, Callable[[float], str], bool]] = [
    ("Caller cost, median", "caller", _caller("median_ns"), _us, False),
    ("Caller cost, p99", "caller", _caller("p99_ns"), _us, False),
    ("Caller cost, p99.9", "caller", _caller("p999_ns"), _us, False),
    (
        "Caller cost at 20 ms, median",
        "latency",
        _caller("median_ns"),
        _us,
        False,
    ),
    ("Caller cost at 20 ms, p99.9", "latency", _caller("p999_ns"), _us, False),
    (
        "End to end, s per 100,000",
        "e2e",
        _e2e_seconds,
        "{:,.2f}".format,
        False,
    ),
    ("End to end, events/s", "e2e", _rate, _count, True),
    ("CPU s per 1,000 events", "e2e", _cpu_per_1k, "{:.4f}".format, False),
    ("Events/s at 20 ms per request", "latency", _rate, _count, True),
    (
        "Order violations + duplicates at 20 ms",
        "latency",
        _violations,
        _count,
        False,
    ),
    ("Memory, bytes per queued event", "memory", _memory, _count, False),
    ("Wire bytes per event", "e2e", _wire_per_event, _count, False),
    ("Requests per 100,000 events", "e2e", _requests, _count, False),
]

RATIO_ROWS = (0, 2, 6, 7, 8, 10)


def median_of(
    results: Results, scenario: str, library: str, metric: Metric
) -> tuple[float | None, str]:
    """Return the median over repeats and a note on failed repeats."""
    runs = results.get(scenario, {}).get(library, [])
    values = [metric(run) for run in runs if isinstance(run, dict)]
    numbers = [value for value in values if value is not None]
    failures = [run for run in runs if not isinstance(run, dict)]
    failures += ["incomplete"] * (len(values) - len(numbers))
    note = ""
    if failures:
        note = f"{failures[0]} ({len(failures)}/{len(runs)})"
    if not numbers:
        return None, note or "not run"
    return statistics.median(numbers), note


def ratio_of(
    results: Results,
    scenario: str,
    peer: str,
    metric: Metric,
    higher_better: bool,
) -> float | None:
    """Return the median over repeats of ours against ``peer``.

    Above 1 means ours is better; each repeat pairs the two libraries'
    figures from the same round so drift on the machine cancels out.
    """
    ours = results.get(scenario, {}).get(OURS, [])
    theirs = results.get(scenario, {}).get(peer, [])
    ratios = []
    for our_run, their_run in zip(ours, theirs, strict=False):
        if not (isinstance(our_run, dict) and isinstance(their_run, dict)):
            continue
        mine, other = metric(our_run), metric(their_run)
        if not mine or not other:
            continue
        ratios.append(mine / other if higher_better else other / mine)
    return statistics.median(ratios) if ratios else None


def _projected(results: Results, scenario: str, library: str) -> bool:
    runs = results.get(scenario, {}).get(library, [])
    return any(
        isinstance(run, dict) and run.get("events") != WORKLOAD for run in runs
    )


def main_table(results: Results, libraries: Sequence[str]) -> str:
    """Render the measurements, one column per library."""
    header = "| Measure | " + " | ".join(LABELS[lib] for lib in libraries)
    lines = [header + " |", "|---" * (len(libraries) + 1) + "|"]
    for label, scenario, metric, fmt, _ in ROWS:
        cells = []
        for library in libraries:
            value, note = median_of(results, scenario, library, metric)
            cell = fmt(value) if value is not None else note
            if value is not None and note:
                cell += f" ({note})"
            if value is not None and _projected(results, scenario, library):
                cell += " †"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_table(results: Results, libraries: Sequence[str]) -> str:
    """Render ours against each other library; above 1 means ours is better."""
    peers = [lib for lib in libraries if lib != OURS]
    header = "| cio_pipeline vs | " + " | ".join(LABELS[p] for p in peers)
    lines = [header + " |", "|---" * (len(peers) + 1) + "|"]
    for index in RATIO_ROWS:
        label, scenario, metric, _, higher = ROWS[index]
        cells = []
        for peer in peers:
            ratio = ratio_of(results, scenario, peer, metric, higher)
            cells.append(f"{ratio:,.1f}x" if ratio is not None else "—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SHUTDOWN_STEPS = (
    ("flush", "flush()"),
    ("flush_budget", "flush(2 s budget)"),
    ("shutdown", "shutdown()"),
    ("exit", "interpreter exit"),
)


def _step_cell(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "n/a"
    if not outcome["returned"]:
        return f"did not return (killed at {outcome['deadline']:.0f} s)"
    if outcome.get("seconds") is None:
        return f"error: {outcome.get('error', 'no result')}"
    return f"{outcome['seconds']:.2f} s"


def silent_loss(outcome: dict[str, Any]) -> int | None:
    """Return the events neither reported nor counted in a log line."""
    if not outcome["returned"]:
        return None
    told = max(outcome["reported"], outcome.get("logged", 0))
    return max(outcome["events"] - told, 0)


def _loss_cells(outcome: dict[str, Any] | None) -> tuple[str, str]:
    if outcome is None:
        return "n/a", "n/a"
    reported = f"{outcome['reported']} of {outcome['events']}"
    if outcome.get("logged"):
        reported += f"; log: {outcome['logged']}"
    silent = silent_loss(outcome)
    if silent is None:
        return f"{reported} by the kill", "unknown"
    return reported, str(silent)


def shutdown_table(
    shutdown: dict[str, dict[str, Any]], libraries: Sequence[str]
) -> str:
    """Render the dead-API table: time per call and loss accounting."""
    header = (
        "| Library | "
        + " | ".join(title for _, title in SHUTDOWN_STEPS)
        + " | on_error, shutdown() | silent, shutdown() "
        "| on_error, exit | silent, exit |"
    )
    lines = [header, "|---" * 9 + "|"]
    for library in libraries:
        steps = {
            step: shutdown.get(f"{library}:{step}")
            for step, _ in SHUTDOWN_STEPS
        }
        if not any(steps.values()):
            continue
        cells = [_step_cell(steps[step]) for step, _ in SHUTDOWN_STEPS]
        cells += _loss_cells(steps["shutdown"])
        cells += _loss_cells(steps["exit"])
        lines.append(f"| {LABELS[library]} | " + " | ".join(cells) + " |")
    sync = shutdown.get("customerio:exit")
    if sync and sync.get("queue_seconds") is not None:
        each = sync["queue_seconds"] / sync["events"]
        lines += [
            "",
            f"customerio (sync) has no queue: each of its {sync['events']} "
            f"calls blocked {each:.3f} s against the dead API, then raised.",
        ]
    return "\n".join(lines)


def _target_row(
    text: str, value: float | None, fmt: Callable[[float], str], ok: bool
) -> str:
    shown = fmt(value) if value is not None else "not measured"
    verdict = "met" if value is not None and ok else "**missed**"
    return f"| {text} | {shown} | {verdict} |"


def targets_table(
    results: Results, shutdown: dict[str, dict[str, Any]], switch_ok: bool
) -> str:
    """Render the performance targets against cio_pipeline's figures."""

    def value(scenario: str, row: int) -> float | None:
        return median_of(results, scenario, OURS, ROWS[row][2])[0]

    median = value("caller", 0)
    p999 = value("caller", 2)
    rate = value("e2e", 6)
    cpu = value("e2e", 7)
    far = value("latency", 8)
    order = value("latency", 9)
    memory = value("memory", 10)
    rows = [
        "| Target | cio_pipeline | Verdict |",
        "|---|---|---|",
        _target_row(
            "Caller median < 1.5 µs", median, _us, (median or 9e9) < 1500
        ),
        _target_row(
            "Caller p99.9 < 100 µs", p999, _us, (p999 or 9e9) < 100_000
        ),
        f"| sys.setswitchinterval unchanged | {switch_ok} "
        f"| {'met' if switch_ok else '**missed**'} |",
        _target_row(
            "End to end ≥ 150,000 events/s",
            rate,
            _count,
            (rate or 0) >= 150_000,
        ),
        _target_row(
            "CPU < 0.008 s per 1,000 events",
            cpu,
            "{:.4f}".format,
            (cpu or 1) < 0.008,
        ),
        _target_row(
            "≥ 50,000 events/s at 20 ms", far, _count, (far or 0) >= 50_000
        ),
        _target_row(
            "Order kept at 20 ms (violations + duplicates)",
            order,
            _count,
            order == 0,
        ),
        _target_row(
            "Memory < 500 bytes per queued event",
            memory,
            _count,
            (memory or 9e9) < 500,
        ),
    ]
    pure_violations = median_of(
        results, "latency", "cio_pipeline-pure", ROWS[9][2]
    )[0]
    rows.append(
        _target_row(
            "No-orjson path: order kept at 20 ms",
            pure_violations,
            _count,
            pure_violations == 0,
        )
    )
    for step, title in SHUTDOWN_STEPS:
        outcome = shutdown.get(f"{OURS}:{step}")
        if outcome is None:
            continue
        seconds = outcome.get("seconds") if outcome["returned"] else None
        limit = outcome.get("limit", 0.0)
        rows.append(
            _target_row(
                f"Dead API: {title} returns within {limit:.1f} s",
                seconds,
                "{:.2f} s".format,
                seconds is not None and seconds <= limit,
            )
        )
        if step in ("shutdown", "exit"):
            silent = silent_loss(outcome)
            rows.append(
                _target_row(
                    f"Dead API: no event dropped silently at {title}",
                    silent,
                    _count,
                    silent == 0,
                )
            )
            unreported = None
            if outcome["returned"]:
                unreported = outcome["events"] - outcome["reported"]
            rows.append(
                _target_row(
                    f"Dead API: on_error called for every event at {title}",
                    unreported,
                    "{:,.0f} without a call".format,
                    unreported == 0,
                )
            )
    return "\n".join(rows)
