"""Tests of the summary of ``send``."""

from __future__ import annotations

import signal

from cio_pipeline._cli._summary import SendSummary


def _summary(**changes: object) -> SendSummary:
    values: dict[str, object] = {
        "read": 10,
        "delivered": 10,
        "failed": {},
        "elapsed": 2.0,
        "dead_letter_file": "failed.jsonl",
        "last_source": "in.jsonl:10",
    }
    values.update(changes)
    return SendSummary(**values)  # type: ignore[arg-type]


def test_summary_exit_statuses() -> None:
    """0 when all arrived, 1 on failures or an early stop, 128 + signal."""
    assert _summary().exit_status == 0
    assert _summary(failed={"rejected": 1}, delivered=9).exit_status == 1
    assert _summary(stop_reason="stalled").exit_status == 1
    assert _summary(stopped_by=signal.SIGINT).exit_status == 130
    assert _summary(stopped_by=signal.SIGTERM).exit_status == 143


def test_summary_text_names_counts_and_file() -> None:
    """The text gives counts, rate, reasons and the dead-letter file."""
    lines = _summary(
        delivered=8, failed={"rejected": 1, "invalid_json": 1}
    ).lines()
    assert lines[0] == (
        "10 records read in 2.0 s (5 records/s): 8 delivered, 2 failed"
    )
    assert lines[1] == "failed by reason: 1 invalid_json, 1 rejected"
    assert lines[2] == "failed records written to failed.jsonl"


def test_summary_text_after_signal_says_where_reading_stopped() -> None:
    """An interrupted run names the last record read."""
    lines = _summary(stopped_by=signal.SIGTERM).lines()
    assert lines[-1].startswith(
        "stopped by SIGTERM: reading ended after in.jsonl:10"
    )


def test_summary_json_fields() -> None:
    """The JSON form carries the counts and the exit status."""
    data = _summary(
        delivered=9, failed={"rejected": 1}, stopped_by=signal.SIGINT
    ).as_json()
    assert data["read"] == 10
    assert data["delivered"] == 9
    assert data["failed"] == 1
    assert data["failed_by_reason"] == {"rejected": 1}
    assert data["stopped_by"] == "SIGINT"
    assert data["exit_status"] == 130
    assert data["records_per_second"] == 5.0
