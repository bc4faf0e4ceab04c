"""Describe the machine and find which benchmarked libraries are installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from typing import Any

# Library key: (module the runner imports, distribution for the version).
MODULES = {
    "cio_pipeline": ("cio_pipeline", "cio-pipeline"),
    "cio_pipeline-pure": ("cio_pipeline", "cio-pipeline"),
    "segment": ("segment.analytics", "segment-analytics-python"),
    "posthog": ("posthog", "posthog"),
    "cdp": ("customerio.analytics", "customerio-cdp-analytics"),
    "customerio": ("customerio", "customerio"),
    "floor": ("http.client", ""),
}


def installed(requested: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split ``requested`` into installed libraries and skip reasons."""
    found, missing = [], {}
    for library in requested:
        if library not in MODULES:
            missing[library] = f"unknown; choose from {', '.join(MODULES)}"
            continue
        try:
            spec = importlib.util.find_spec(MODULES[library][0])
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            missing[library] = (
                "not installed (pip install -r benchmarks/requirements.txt)"
            )
        else:
            found.append(library)
    return found, missing


def versions() -> dict[str, str]:
    """Return the installed version of each distribution."""
    names = {dist for _, dist in MODULES.values() if dist} | {
        "orjson",
        "requests",
    }
    found = {}
    for name in sorted(names):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def other_cpu(cpu: int) -> int | None:
    """Return a core other than ``cpu`` for the sink, or None if none."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    others = sorted(os.sched_getaffinity(0) - {cpu})
    return others[0] if others else None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0.0
    return pages / 2**30


def _commit() -> str:
    """Return the repository's commit, marked when the tree has changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        commit = subprocess.run(
            [git, "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            [git, "-C", root, "status", "--porcelain", "cio_pipeline"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (" with uncommitted changes" if changes else "")


def collect() -> dict[str, Any]:
    """Return the facts the benchmark page states about the machine."""
    return {
        "commit": _commit(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "versions": versions(),
    }


def describe(machine: dict[str, Any]) -> str:
    """Render the machine facts as Markdown lines."""
    packages = ", ".join(
        f"{name} {v}" for name, v in machine["versions"].items()
    )
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB, {machine['system']}, "
        f"Python {machine['python']}.  \n"
        f"cio_pipeline commit: {machine['commit']}.  \n"
        f"Packages: {packages}.  \n"
        f"Harness wall time: {machine.get('harness_seconds', '?')} s."
    )
