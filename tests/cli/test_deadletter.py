"""Tests of the dead-letter writer."""

from __future__ import annotations

import json
from pathlib import Path

from cio_pipeline._cli._deadletter import DeadLetterWriter


def test_dead_letter_file_created_on_first_write(tmp_path: Path) -> None:
    """No failure, no file; each failure is one JSON line."""
    path = tmp_path / "failed.jsonl"
    writer = DeadLetterWriter(path)
    assert not path.exists()
    writer.write({"type": "x"}, "unknown_operation", "unknown", "a.jsonl:1")
    writer.write("raw ü", "invalid_json", "bad", "a.jsonl:2")
    writer.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "record": {"type": "x"},
            "error": "unknown_operation",
            "detail": "unknown",
            "source": "a.jsonl:1",
        },
        {
            "record": "raw ü",
            "error": "invalid_json",
            "detail": "bad",
            "source": "a.jsonl:2",
        },
    ]
    assert writer.count == 2


def test_dead_letter_appends_to_existing_file(tmp_path: Path) -> None:
    """An earlier run's lines are kept."""
    path = tmp_path / "failed.jsonl"
    path.write_text('{"record": 1}\n', encoding="utf-8")
    writer = DeadLetterWriter(path)
    writer.write(2, "x", "y", "z:1")
    writer.close()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_dead_letter_without_path_only_counts() -> None:
    """With no path the writer counts failures and writes nothing."""
    writer = DeadLetterWriter(None)
    writer.write(1, "x", "y", "z:1")
    writer.close()
    assert writer.count == 1
