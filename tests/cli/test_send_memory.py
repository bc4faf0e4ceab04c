"""Peak memory of ``send``: it must not grow with the input file."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, COMMAND, SITE_ID, environment

SMALL_LINES = 50_000
LARGE_LINES = 400_000

# Allowed growth of peak memory, in KiB, from the small file to the one
# eight times larger. Holding the larger file's records would take
# well over 100 MiB more; the queue is bounded at 10,000 records.
MAX_GROWTH_KIB = 16 * 1024

# Seconds one run may take; the large one sends about 25,000 records a
# second on a 2-core machine.
SEND_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def counting_server() -> Iterator[LocalTrackAPI]:
    """A server that counts operations without storing them."""
    with LocalTrackAPI(SITE_ID, API_KEY, mode="count") as server:
        yield server


def _write_records(path: Path, count: int) -> Path:
    """Write ``count`` lines: identify and track, 1,000 people."""
    with path.open("w", encoding="utf-8") as stream:
        for number in range(count):
            person = f"user-{number % 1000}"
            if number % 2:
                record = {
                    "type": "identify",
                    "id": person,
                    "attributes": {"plan": "pro", "visits": number},
                }
            else:
                record = {
                    "type": "track",
                    "customer_id": person,
                    "name": "page_viewed",
                    "data": {"path": f"/articles/{number}", "n": number},
                    "timestamp": 1_700_000_000 + number,
                }
            stream.write(json.dumps(record) + "\n")
    return path


def _peak_memory_kib(
    server: LocalTrackAPI, path: Path
) -> tuple[int, dict[str, int]]:
    """Run send on ``path``; return its peak RSS in KiB and its summary."""
    process = subprocess.Popen(
        [
            *COMMAND,
            "send",
            "--url",
            server.url,
            "--quiet",
            "--json",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )
    assert process.stdout is not None
    try:
        # wait4 gives this child's own resource use; stdout is read
        # first so that a full pipe cannot block the child.
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        process.stdout.close()
        if process.returncode is None:
            process.kill()
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss, json.loads(output)


@pytest.mark.timeout(2 * SEND_TIMEOUT)
def test_peak_memory_flat_with_file_size(
    counting_server: LocalTrackAPI, tmp_path: Path
) -> None:
    """Eight times the lines cost less than MAX_GROWTH_KIB more memory."""
    small = _write_records(tmp_path / "small.jsonl", SMALL_LINES)
    large = _write_records(tmp_path / "large.jsonl", LARGE_LINES)
    small_peak, small_summary = _peak_memory_kib(counting_server, small)
    large_peak, large_summary = _peak_memory_kib(counting_server, large)
    print(
        f"send peak memory: {SMALL_LINES:,} lines {small_peak:,} KiB "
        f"({small_summary['records_per_second']:,.0f} records/s), "
        f"{LARGE_LINES:,} lines {large_peak:,} KiB "
        f"({large_summary['records_per_second']:,.0f} records/s)"
    )
    assert small_summary["delivered"] == SMALL_LINES
    assert large_summary["delivered"] == LARGE_LINES
    assert large_peak - small_peak < MAX_GROWTH_KIB
