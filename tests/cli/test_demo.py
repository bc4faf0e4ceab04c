"""Tests of ``cio-pipeline demo`` and its server check."""

from __future__ import annotations

import time

from cio_pipeline import Client
from cio_pipeline._cli._cdnow import EVENT_NAME, SAMPLE_FILE
from cio_pipeline._cli._demo import DemoData, check_server
from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID, run_cli, summary_of

# The default run must stay quick: it is the first command users run.
DEFAULT_RUN_SECONDS = 20.0


def test_demo_default_run_passes() -> None:
    """The sample arrives in full, identical lines included, and exit is 0."""
    started = time.monotonic()
    result = run_cli("demo", "--json")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["customers"] == 2357
    assert summary["purchases"] == 6919
    assert summary["people_delivered"] == 2357
    assert summary["events_delivered"] == 6919
    assert summary["failed"] == 0
    assert summary["check"]["passed"] is True
    assert summary["check"]["events_stored"] == 6919
    assert "server check passed" in result.stderr
    assert elapsed < DEFAULT_RUN_SECONDS


def test_demo_full_run_passes() -> None:
    """--full sends all 69,659 purchases and the check passes."""
    result = run_cli("demo", "--full", "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["purchases"] == 69659
    assert summary["customers"] == 23570
    assert summary["check"]["purchases_found"] == 69659


def _send_sample(
    server: LocalTrackAPI, data: DemoData, skip_line: int | None = None
) -> None:
    with Client(SITE_ID, API_KEY, url=server.url, atexit=False) as client:
        for customer, created_at in data.first_purchase.items():
            client.identify(customer, created_at=created_at)
        for purchase in data.purchases:
            if purchase.line == skip_line:
                continue
            client.track(
                purchase.customer_id,
                EVENT_NAME,
                {
                    "number_of_cds": purchase.cds,
                    "dollar_value": purchase.dollars,
                },
                timestamp=purchase.timestamp,
            )
        client.flush(timeout=30)


def test_check_passes_for_complete_data(server: LocalTrackAPI) -> None:
    """All people and purchases on the server: the check passes."""
    data = DemoData.load(SAMPLE_FILE)
    _send_sample(server, data)
    check = check_server(server, data)
    assert check.passed
    assert check.purchases_found == 6919


def test_check_fails_when_a_repeated_line_is_missing(
    server: LocalTrackAPI,
) -> None:
    """Dropping one of two identical lines fails the check."""
    data = DemoData.load(SAMPLE_FILE)
    keys = [purchase[:4] for purchase in data.purchases]
    repeated = next(
        purchase
        for index, purchase in enumerate(data.purchases)
        if keys[index] in keys[:index]
    )
    _send_sample(server, data, skip_line=repeated.line)
    check = check_server(server, data)
    assert not check.passed
    assert check.purchases_found == 6918
    assert check.people_found == 2357
