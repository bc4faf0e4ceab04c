"""Fixtures for the command line's tests: a local server and a runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cio_pipeline._server import LocalTrackAPI

SITE_ID = "cli-site"
API_KEY = "cli-key-7c2f9a0d4e"

COMMAND = [sys.executable, "-m", "cio_pipeline._cli"]

# Seconds a command may take before a test fails instead of hanging.
RUN_TIMEOUT = 60.0


@pytest.fixture
def server() -> Iterator[LocalTrackAPI]:
    """A local Track API that accepts SITE_ID and API_KEY."""
    with LocalTrackAPI(SITE_ID, API_KEY) as running:
        yield running


def environment(**extra: str) -> dict[str, str]:
    """Return the process environment with the test credentials."""
    env = dict(os.environ)
    env.pop("CUSTOMERIO_SITE_ID", None)
    env.pop("CUSTOMERIO_API_KEY", None)
    env["CUSTOMERIO_SITE_ID"] = SITE_ID
    env["CUSTOMERIO_API_KEY"] = API_KEY
    env.update(extra)
    return env


def run_cli(
    *args: str,
    stdin: str | bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the command line with ``args`` and wait for it to end."""
    if isinstance(stdin, bytes):
        stdin = stdin.decode("utf-8")
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=environment() if env is None else env,
        cwd=cwd,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def summary_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Return the JSON summary that ``--json`` printed on stdout."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout + result.stderr
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def write_lines(path: Path, records: list[Any]) -> Path:
    """Write ``records`` as JSON Lines; strings are written as they are."""
    lines = [
        record if isinstance(record, str) else json.dumps(record)
        for record in records
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Return the JSON objects of a JSON Lines file."""
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]
