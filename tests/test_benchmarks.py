"""The benchmark harness, run in its reduced form so that it cannot rot.

``python benchmarks/run.py --quick`` runs every measurement with small
workloads (about 15 seconds). The tests check that each installed library
delivered its events through the counting sink, that the figures are
present and plausible, and that the kill deadline reports a hang.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "benchmarks" / "run.py"

# Always installed with the test extra; the peers only with
# benchmarks/requirements.txt.
ALWAYS = ("cio_pipeline", "cio_pipeline-pure", "customerio", "floor")
PEER_MODULES = {
    "segment": "segment.analytics",
    "posthog": "posthog",
    "cdp": "customerio.analytics",
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


LIBRARIES = ALWAYS + tuple(
    peer for peer, module in PEER_MODULES.items() if _installed(module)
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the quick harness once and return its output and raw results."""
    output = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(
        [sys.executable, str(HARNESS), "--quick", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    raw = json.loads(output.read_text())
    raw["stdout"] = completed.stdout
    return raw


def _runs(raw: dict[str, Any], scenario: str, library: str) -> list[Any]:
    return raw["results"][scenario][library]


@pytest.mark.parametrize("library", LIBRARIES)
def test_quick_run_delivers_every_event(
    quick_run: dict[str, Any], library: str
) -> None:
    """Each library's caller run reaches the sink in full."""
    (run,) = _runs(quick_run, "caller", library)
    assert isinstance(run, dict), run
    assert run["delivered"] == run["events"]
    assert run["e2e_seconds"] > 0


@pytest.mark.parametrize("library", LIBRARIES)
def test_quick_run_times_each_call(
    quick_run: dict[str, Any], library: str
) -> None:
    """Caller quantiles are present and ordered."""
    (run,) = _runs(quick_run, "caller", library)
    assert run["median_ns"] > 0
    assert run["median_ns"] <= run["p99_ns"] <= run["p999_ns"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_quick_run_keeps_order_at_latency(
    quick_run: dict[str, Any], library: str
) -> None:
    """The 20 ms run delivers everything, in order and once."""
    (run,) = _runs(quick_run, "latency", library)
    assert run["delivered"] == run["events"]
    assert run["order_violations"] == 0
    assert run["duplicates"] == 0


def test_quick_run_measures_memory(quick_run: dict[str, Any]) -> None:
    """The memory run saw the sink hold a request and RSS grow."""
    (run,) = _runs(quick_run, "memory", "cio_pipeline")
    assert run["held_requests"] >= 1
    assert run["rss_growth_bytes"] > 0


def test_quick_run_pure_path_has_no_orjson(quick_run: dict[str, Any]) -> None:
    """The pure-Python run really ran without orjson."""
    (run,) = _runs(quick_run, "caller", "cio_pipeline-pure")
    assert run["info"]["orjson_loaded"] is False


def test_quick_run_times_flush_budget(quick_run: dict[str, Any]) -> None:
    """flush(timeout=2) against the 503 sink is timed."""
    outcome = quick_run["shutdown"]["cio_pipeline:flush_budget"]
    assert outcome["returned"] is True
    assert outcome["seconds"] is not None


@pytest.mark.skipif(
    "segment" not in LIBRARIES,
    reason="segment-analytics-python is not installed",
)
def test_quick_run_reports_hang(quick_run: dict[str, Any]) -> None:
    """A flush() that never returns is killed and reported."""
    outcome = quick_run["shutdown"]["segment:flush"]
    assert outcome["returned"] is False
    assert "did not return" in quick_run["stdout"]


def test_quick_run_prints_tables(quick_run: dict[str, Any]) -> None:
    """The harness prints the measurement and target tables."""
    assert "| Measure |" in quick_run["stdout"]
    assert "| Target |" in quick_run["stdout"]


def test_quick_run_faults_exactly_once(quick_run: dict[str, Any]) -> None:
    """Through the faulty server every event is stored once."""
    figures = quick_run["faults"]
    assert isinstance(figures, dict), figures
    assert figures["stored"] == figures["events"]
    assert figures["missing"] == 0
    assert figures["repeated"] == 0
    assert figures["server_counters"]["faults_injected"] >= 4
