"""Run one measurement in a child interpreter under a kill deadline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _sinkclient import SinkProcess

RUNNER = Path(__file__).with_name("_runner.py")

# Scenario names in the tables, and the runner scenario each one runs.
RUNNER_SCENARIO = {
    "caller": "throughput",
    "e2e": "throughput",
    "latency": "throughput",
    "memory": "memory",
    "shutdown": "shutdown",
}


# Log lines in which a library states how many events it did not deliver,
# as of cio_pipeline 0.1.0 and posthog 7.91.1. Segment, the CDP client and
# the synchronous client log no such count.
LOSS_LOG_PATTERNS = {
    "cio_pipeline": re.compile(
        r"(\d+) records were not delivered before exit"
    ),
    "posthog": re.compile(r"with (\d+) items pending"),
}


@dataclass(frozen=True)
class Job:
    """One measurement of one library."""

    scenario: str
    library: str
    events: int
    deadline: float
    warmup: int = 0
    timed: bool = False
    latency_ms: float = 0.0
    check: bool = False
    mode: str = "ok"
    step: str = ""


def command_for(job: Job, sink_url: str, cpu: int | None) -> list[str]:
    """Return the runner's command line for ``job``."""
    command = [
        sys.executable,
        str(RUNNER),
        "--library",
        job.library,
        "--scenario",
        RUNNER_SCENARIO[job.scenario],
        "--sink",
        sink_url,
        "--events",
        str(job.events),
        "--warmup",
        str(job.warmup),
        # The sink stops waiting before the harness kills the runner, so a
        # slow library still reports what it delivered.
        "--wait",
        str(max(job.deadline - 10, job.deadline / 2)),
    ]
    if job.timed:
        command.append("--timed")
    if job.step:
        command += ["--step", job.step]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    return command


def run_job(
    job: Job, sink: SinkProcess, cpu: int | None, reset: bool = True
) -> dict[str, Any]:
    """Run ``job`` and return its outcome.

    The outcome contains ``result`` (the runner's figures, with ``info``) or
    ``failure`` (why there are none), plus ``wall`` seconds, the count of
    events the library ``reported`` lost, and for shutdown jobs the
    ``seconds`` the measured step took.
    """
    if reset:
        sink.client.reset(job.mode, job.latency_ms, job.check)
    started = time.monotonic()
    process = subprocess.Popen(
        command_for(job, sink.url, cpu),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    returned = True
    try:
        stdout, stderr = process.communicate(timeout=job.deadline)
    except subprocess.TimeoutExpired:
        returned = False
        process.kill()
        stdout, stderr = process.communicate()
    ended = time.monotonic()
    outcome = parse_output(stdout)
    outcome.update(
        returned=returned,
        wall=ended - started,
        deadline=job.deadline,
        events=job.events,
        exit_code=process.returncode,
    )
    if job.scenario == "shutdown":
        _shutdown_seconds(job, outcome, ended)
        outcome["logged"] = logged_loss(job.library, stderr)
        outcome["stderr_tail"] = stderr[-1500:]
    if "result" in outcome:
        outcome["result"]["info"] = outcome.get("info", {})
    elif not returned:
        outcome["failure"] = "did not return"
    else:
        last = stderr.strip().splitlines()[-1:] or [
            f"exit {process.returncode}"
        ]
        outcome["failure"] = "error: " + last[0][:120]
    return outcome


def logged_loss(library: str, stderr: str) -> int:
    """Return the largest undelivered count the library's log states."""
    pattern = LOSS_LOG_PATTERNS.get(library.removesuffix("-pure"))
    if pattern is None:
        return 0
    return max((int(count) for count in pattern.findall(stderr)), default=0)


def parse_output(stdout: str) -> dict[str, Any]:
    """Collect the runner's JSON lines into one outcome dict."""
    outcome: dict[str, Any] = {"reported": 0, "reasons": {}, "marks": {}}
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "lost" in record:
            outcome["reported"] += record["lost"]
            reasons = outcome["reasons"]
            reasons[record["reason"]] = reasons.get(record["reason"], 0)
            reasons[record["reason"]] += record["lost"]
        elif "mark" in record:
            outcome["marks"][record["mark"]] = record
        elif "info" in record:
            info = outcome.setdefault("info", {})
            changed = info.get("switch_interval_changed", False)
            info.update(record["info"])
            info["switch_interval_changed"] = changed or info.get(
                "switch_interval_changed", False
            )
        elif "result" in record:
            outcome["result"] = record["result"]
    return outcome


def _shutdown_seconds(job: Job, outcome: dict[str, Any], ended: float) -> None:
    """Store how long the measured step took, and its time limit."""
    marks = outcome["marks"]
    queued = marks.get("queued", {})
    outcome["queue_seconds"] = queued.get("seconds")
    outcome["limit"] = STEP_LIMITS[job.step]
    if job.step != "exit":
        outcome["seconds"] = outcome.get("result", {}).get("seconds")
        return

    exiting = marks.get("exiting")
    if outcome["returned"] and exiting is not None:
        outcome["seconds"] = ended - exiting["at"]
        outcome["result"] = {"seconds": outcome["seconds"]}


# Seconds each dead-API step may take for cio_pipeline. With no timeout,
# flush() and shutdown() are bounded by max_retry_time (30 s), and the exit
# hook by shutdown_timeout (3 s). The extra 0.1 s covers process scheduling.
STEP_LIMITS = {
    "flush": 30.1,
    "flush_budget": 2.1,
    "shutdown": 30.1,
    "exit": 3.1,
}
