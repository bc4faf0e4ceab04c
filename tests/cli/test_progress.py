"""Tests of the progress display."""

from __future__ import annotations

import io

import pytest

from cio_pipeline._cli import _progress
from cio_pipeline._cli._progress import Counters, Progress


def test_lines_mode_prints_counts() -> None:
    """Plain mode prints one line with read, delivered, failed and rate."""
    counters = Counters(read=1500, delivered=1400)
    counters.add_failed("rejected")
    stream = io.StringIO()
    progress = Progress(counters, stream, "lines", label="send")
    progress.update()
    assert stream.getvalue() == ""
    progress.update(force=True)
    line = stream.getvalue()
    assert line.startswith("send: 1,500 read, 1,400 delivered, 1 failed, ")
    assert line.endswith(" records/s\n")


def test_bar_mode_draws_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar shows records read and the delivered and failed counts."""
    monkeypatch.setattr(_progress, "BAR_INTERVAL", 0.0)
    counters = Counters(read=20, delivered=10)
    stream = io.StringIO()
    progress = Progress(counters, stream, "bar", label="send")
    progress.update(force=True)
    progress.write("a message")
    progress.close()
    output = stream.getvalue()
    assert "send: 20 read, 10 delivered, 0 failed, " in output
    assert "a message\n" in output


def test_off_mode_prints_nothing_but_messages() -> None:
    """With progress off, only explicit messages are printed."""
    stream = io.StringIO()
    progress = Progress(Counters(read=5), stream, "off", label="send")
    progress.update(force=True)
    progress.write("note")
    progress.close()
    assert stream.getvalue() == "note\n"


def test_bar_with_total_counts_settled_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a total, the bar counts delivered and failed records."""
    monkeypatch.setattr(_progress, "BAR_INTERVAL", 0.0)
    counters = Counters(read=90, delivered=40)
    counters.add_failed("rejected")
    stream = io.StringIO()
    progress = Progress(counters, stream, "bar", label="demo", total=100)
    progress.update(force=True)
    progress.close()
    output = stream.getvalue()
    assert "demo: 41/100 delivered or failed, 1 failed, " in output
    assert " 41%|" in output
