"""Tests of the tracker that maps client outcomes back to input records."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cio_pipeline import Client
from cio_pipeline._cli._deadletter import DeadLetterWriter
from cio_pipeline._cli._progress import Counters
from cio_pipeline._cli._tracking import Entry, Tracker

MakeClient = Callable[..., Client]

# The make_client and adapter fixtures come from tests/conftest.py: a
# client whose requests an in-memory requests adapter responds to.
InMemoryAdapter = Any


def _tracker(tmp_path: Path) -> tuple[Tracker, Counters, list[str]]:
    counters = Counters()
    lines: list[str] = []
    writer = DeadLetterWriter(tmp_path / "failed.jsonl")
    return Tracker(counters, writer, lines.append), counters, lines


def _client(
    make_client: MakeClient, tracker: Tracker, **options: Any
) -> Client:
    client = make_client(
        on_error=tracker.on_error, on_success=tracker.on_success, **options
    )
    tracker.attach(client)
    return client


def _flush(client: Client, tracker: Tracker) -> None:
    assert client.flush(timeout=10).pending == 0
    stats = client.stats()
    assert tracker.wait_for_outcomes(stats.delivered + stats.failed, 10)


def _send(
    tracker: Tracker, source: str, original: Any, call: Callable[[], bool]
) -> Entry:
    entry = Entry(source, original)
    assert tracker.call(entry, call)
    tracker.end(entry)
    return entry


def _dead_letters(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "failed.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_segment_chunks_count_once(
    make_client: MakeClient, adapter: InMemoryAdapter, tmp_path: Path
) -> None:
    """A segment call queues three records and counts as one delivery."""
    tracker, counters, _ = _tracker(tmp_path)
    client = _client(make_client, tracker)
    ids = [str(number) for number in range(2500)]
    _send(tracker, "in:1", {}, lambda: client.add_to_segment(3, ids))
    _flush(client, tracker)
    assert len(adapter.requests) == 3
    assert counters.delivered == 1
    assert counters.failed_total == 0


def test_partial_failure_names_the_source(
    make_client: MakeClient, adapter: InMemoryAdapter, tmp_path: Path
) -> None:
    """A 207 error at one index fails that input record only."""

    def reject_second(
        request: Any,
    ) -> tuple[int, dict[str, str], bytes]:
        error = {
            "batch_index": 1,
            "reason": "invalid",
            "field": "x",
            "message": "no",
        }
        return 207, {}, json.dumps({"errors": [error]}).encode()

    adapter.handler = reject_second
    tracker, counters, lines = _tracker(tmp_path)
    client = _client(make_client, tracker)
    for number in range(3):
        _send(
            tracker,
            f"in:{number + 1}",
            {"n": number},
            lambda number=number: client.identify(f"p{number}"),
        )
    _flush(client, tracker)
    assert counters.delivered == 2
    assert dict(counters.failed) == {"rejected": 1}
    [entry] = _dead_letters(tmp_path)
    assert entry["record"] == {"n": 1}
    assert entry["source"] == "in:2"
    assert entry["error"] == "rejected"
    assert "no" in entry["detail"]
    assert len(lines) == 1
    assert lines[0].startswith("in:2: rejected: ")


def test_unsettled_records_fail_once(
    make_client: MakeClient, adapter: InMemoryAdapter, tmp_path: Path
) -> None:
    """Unsettled records are dead-lettered; later outcomes are ignored."""
    tracker, counters, _ = _tracker(tmp_path)
    client = _client(make_client, tracker, flush_interval=60)
    for number in range(5):
        _send(
            tracker,
            f"in:{number + 1}",
            {"n": number},
            lambda number=number: client.identify(f"p{number}"),
        )
    assert tracker.fail_unsettled("interrupted", "stopped") == 5
    _flush(client, tracker)
    assert len(adapter.requests) == 1
    assert counters.delivered == 0
    assert dict(counters.failed) == {"interrupted": 5}
    assert [entry["source"] for entry in _dead_letters(tmp_path)] == [
        f"in:{number}" for number in range(1, 6)
    ]


def test_fail_counts_an_entry_once(tmp_path: Path) -> None:
    """Failing an entry twice writes and counts it once."""
    tracker, counters, lines = _tracker(tmp_path)
    entry = Entry("in:1", "raw")
    tracker.fail(entry, "invalid_json", "bad")
    tracker.fail(entry, "invalid_json", "bad")
    tracker.end(entry)
    assert counters.failed_total == 1
    assert counters.delivered == 0
    assert lines == ["in:1: bad"]


def test_dry_run_encodes_without_queueing(
    make_client: MakeClient, adapter: InMemoryAdapter, tmp_path: Path
) -> None:
    """In a dry run, small records count as valid and huge ones fail."""
    tracker, counters, _ = _tracker(tmp_path)
    client = make_client()
    tracker.attach(client, dry_run=True)
    _send(tracker, "in:1", {}, lambda: client.identify("1", plan="pro"))
    _send(tracker, "in:2", {}, lambda: client.identify("2", bio="x" * 40_000))
    _flush(client, tracker)
    assert adapter.requests == []
    assert counters.delivered == 1
    assert dict(counters.failed) == {"too_large": 1}
