"""Benchmark cio_pipeline against peer libraries on one machine, one run.

Usage: ``python benchmarks/run.py`` (about 6 minutes on 2 cores), or
``--quick`` for a reduced run of every measurement in about 20 seconds.

Every library runs in its own fresh interpreter pinned to core 0, against a
counting sink pinned to core 1, under a kill deadline. The tables go to
standard output; ``--update-readme`` also writes them into
``benchmarks/README.md`` and ``--json`` saves the raw results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _machine
import _report
import faults
from _jobs import Job, logged_loss, run_job
from _sinkclient import SinkProcess

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"


@dataclass(frozen=True)
class Sizes:
    """Workload sizes and deadlines for one harness mode."""

    events: int
    peer_latency_events: int
    sync_events: int
    sync_latency_events: int
    shutdown_events: int
    warmup: int
    deadline: float
    shutdown_deadline: float


FULL = Sizes(100_000, 20_000, 3_000, 200, 1_000, 1_000, 90.0, 40.0)
QUICK = Sizes(2_000, 500, 50, 10, 200, 100, 30.0, 6.0)

# Libraries whose batches hold 100 events, so at 20 ms a round trip their
# rate is steady after a few batches and a smaller workload measures it.
HUNDRED_EVENT_BATCHES = ("segment", "posthog", "cdp")

# The quick run's dead-API steps: ours within budgets, and one peer whose
# flush() never returns, which exercises the kill deadline.
# Kill deadline of the faulty-server run, in seconds.
FAULTS_DEADLINE = 180.0

# How many dead-API runners run at once.
SHUTDOWN_PARALLEL = 8

QUICK_STEPS = {"cio_pipeline": ["flush_budget", "exit"], "segment": ["flush"]}


def throughput_jobs(library: str, sizes: Sizes, quick: bool) -> list[Job]:
    """Return one round of the caller, end-to-end and 20 ms jobs."""
    sync = library == "customerio"
    events = sizes.sync_events if sync else sizes.events
    warmup = max(events // 20, 1) if sync else sizes.warmup
    far_events = sizes.events
    if sync:
        far_events = sizes.sync_latency_events
    elif library in HUNDRED_EVENT_BATCHES:
        far_events = sizes.peer_latency_events
    common = {"library": library, "deadline": sizes.deadline}
    jobs = [Job("caller", events=events, warmup=warmup, timed=True, **common)]
    if not quick:
        jobs.append(Job("e2e", events=events, warmup=warmup, **common))
    jobs.append(
        Job(
            "latency",
            events=far_events,
            warmup=max(far_events // 20, 1),
            timed=True,
            latency_ms=20.0,
            check=True,
            **common,
        )
    )
    if not sync:
        jobs.append(Job("memory", events=events, warmup=warmup, **common))
    return jobs


def shutdown_jobs(
    libraries: list[str], sizes: Sizes, quick: bool
) -> list[Job]:
    """Return the dead-API jobs: one per library and step."""
    jobs = []
    for library in libraries:
        if library == "floor":
            continue
        steps = ["flush", "flush_budget", "shutdown", "exit"]
        if library == "customerio":
            steps = ["exit"]
        elif library not in ("cio_pipeline", "cio_pipeline-pure", "posthog"):
            steps.remove("flush_budget")
        if quick:
            steps = QUICK_STEPS.get(library, [])
        events = 20 if library == "customerio" else sizes.shutdown_events
        jobs += [
            Job(
                "shutdown",
                library=library,
                events=events,
                step=step,
                mode="503",
                deadline=sizes.shutdown_deadline,
            )
            for step in steps
        ]
    return jobs


def run_rounds(
    sink: SinkProcess, libraries: list[str], args: argparse.Namespace
) -> _report.Results:
    """Run every round, interleaving libraries so drift hits all alike."""
    sizes = QUICK if args.quick else FULL
    results: _report.Results = {}
    rounds = [
        [
            job
            for lib in libraries
            for job in throughput_jobs(lib, sizes, args.quick)
        ]
        for _ in range(args.repeat)
    ]
    total = sum(len(jobs) for jobs in rounds)
    done = 0
    for jobs in rounds:
        for scenario in ("caller", "e2e", "latency", "memory"):
            for job in (job for job in jobs if job.scenario == scenario):
                outcome = run_job(job, sink, args.cpu)
                done += 1
                _progress(
                    f"[{done}/{total}] {job.library} {scenario}", outcome
                )
                per_library = results.setdefault(scenario, {})
                per_library.setdefault(job.library, []).append(
                    outcome.get("result") or outcome["failure"]
                )
    if args.quick:
        results["e2e"] = results["caller"]
    return results


def run_shutdowns(
    sink: SinkProcess, libraries: list[str], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Run the dead-API jobs side by side: they mostly wait on timers.

    Runs that may hang start first, so their deadlines overlap the rest.
    The runners are not pinned, so that their imports do not queue on one
    core while another runner times a step.
    """
    jobs = shutdown_jobs(libraries, QUICK if args.quick else FULL, args.quick)
    jobs.sort(key=lambda job: job.library.startswith("cio_pipeline"))
    sink.client.reset(mode="503")
    with ThreadPoolExecutor(max_workers=SHUTDOWN_PARALLEL) as pool:
        outcomes = list(
            pool.map(lambda job: run_job(job, sink, None, reset=False), jobs)
        )
    shutdown = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        _progress(f"{job.library} dead API {job.step}", outcome)
        shutdown[f"{job.library}:{job.step}"] = outcome
    return shutdown


def run_faults(args: argparse.Namespace) -> dict[str, Any] | str:
    """Run faults.py in a child process; return its figures or a failure."""
    events = 5_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "faults.json"
        command = [
            sys.executable,
            str(HERE / "faults.py"),
            "--events",
            str(events),
            "--json",
            str(output),
            "--cpu",
            str(args.cpu),
        ]
        try:
            subprocess.run(
                command,
                capture_output=True,
                timeout=FAULTS_DEADLINE,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return f"did not return (killed at {FAULTS_DEADLINE:.0f} s)"
        except subprocess.CalledProcessError as error:
            lines = error.stderr.decode(errors="replace").splitlines()
            return "error: " + (lines[-1] if lines else str(error))
        figures: dict[str, Any] = json.loads(output.read_text())
    print(f"faults: {figures['stored']} stored", file=sys.stderr)
    return figures


def _progress(title: str, outcome: dict[str, Any]) -> None:
    status = "ok" if outcome.get("result") else outcome.get("failure")
    print(f"{title}: {status} in {outcome['wall']:.1f} s", file=sys.stderr)


def render(
    results: _report.Results,
    shutdown: dict[str, dict[str, Any]],
    libraries: list[str],
    machine: dict[str, Any],
    command: str,
) -> str:
    """Render all tables as one Markdown section."""
    infos = [outcome.get("info", {}) for outcome in shutdown.values()]
    for per_library in results.values():
        for runs in per_library.values():
            infos += [run["info"] for run in runs if isinstance(run, dict)]
    switch_ok = not any(info.get("switch_interval_changed") for info in infos)
    parts = [
        f"Command: `{command}`",
        "",
        _machine.describe(machine),
        "",
        "### Measurements (median of the rounds)",
        "",
        _report.main_table(results, libraries),
        "",
        "† projected to 100,000 events from a smaller workload.",
        "",
        "### cio_pipeline against each library (above 1x = better)",
        "",
        _report.ratio_table(results, libraries),
        "",
        "### Dead API: the sink responds 503 to every request",
        "",
        _report.shutdown_table(shutdown, libraries),
        "",
        "### Targets",
        "",
        _report.targets_table(results, shutdown, switch_ok),
    ]
    return "\n".join(parts) + "\n"


def update_readme(section: str) -> None:
    """Replace the text between the README's result markers."""
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = README.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{README} has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{section}{end}{tail}")


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run")
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds (default 3, quick 1)"
    )
    parser.add_argument(
        "--libraries",
        default=",".join(_report.LABELS),
        help="comma-separated libraries to run (default: all installed)",
    )
    parser.add_argument("--json", type=Path, help="write raw results here")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="render a run saved with --json instead of measuring",
    )
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument(
        "--cpu", type=int, default=0, help="core for the measured process"
    )
    args = parser.parse_args()
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    return args


def measure(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Run every measurement and return the raw results."""
    machine = _machine.collect()
    libraries, missing = _machine.installed(args.libraries.split(","))
    for library, reason in missing.items():
        print(f"skipping {library}: {reason}", file=sys.stderr)

    sink_cpu = _machine.other_cpu(args.cpu)
    if sink_cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sink_cpu})
    started = time.monotonic()
    sink = SinkProcess(sink_cpu)
    try:
        results = run_rounds(sink, libraries, args)
        shutdown = run_shutdowns(sink, libraries, args)
    finally:
        sink.close()
    fault_figures = run_faults(args) if "cio_pipeline" in libraries else None
    machine["harness_seconds"] = round(time.monotonic() - started, 1)
    return {
        "command": command,
        "libraries": libraries,
        "machine": machine,
        "results": results,
        "shutdown": shutdown,
        "faults": fault_figures,
    }


def render_all(raw: dict[str, Any]) -> str:
    """Render the raw results of one run as the page's Markdown section."""
    libraries = raw.get("libraries") or [
        library
        for library in _report.LABELS
        if any(library in runs for runs in raw["results"].values())
    ]
    shutdown = raw["shutdown"]
    for key, outcome in shutdown.items():
        if "logged" not in outcome:
            library = key.split(":")[0]
            tail = outcome.get("stderr_tail", "")
            outcome["logged"] = logged_loss(library, tail)
    section = render(
        raw["results"], shutdown, libraries, raw["machine"], raw["command"]
    )
    section += "\n### Faulty server: 5% 500s, 2% 429s, 1% + 1% closed\n\n"
    fault_figures = raw.get("faults")
    if isinstance(fault_figures, dict):
        section += faults.render(fault_figures) + "\n"
    else:
        section += f"{fault_figures or 'not run'}\n"
    return section


def main() -> None:
    """Run the benchmark, or load a saved run, and print the tables."""
    args = parse_args()
    if args.from_json:
        raw = json.loads(args.from_json.read_text())
        raw.setdefault("command", "unknown")
    else:
        command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
        raw = measure(args, command.strip())
        if args.json:
            args.json.write_text(json.dumps(raw, indent=1, default=str))

    section = render_all(raw)
    print(section)
    if args.update_readme:
        update_readme(section)


if __name__ == "__main__":
    main()
