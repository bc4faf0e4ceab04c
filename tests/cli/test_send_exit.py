"""Tests of ``send``'s exit statuses, signals and secret handling."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from cio_pipeline._server import LocalTrackAPI

from .conftest import (
    API_KEY,
    COMMAND,
    RUN_TIMEOUT,
    environment,
    read_lines,
    run_cli,
    write_lines,
)

PERSON = {"type": "identify", "id": "1", "attributes": {"plan": "pro"}}


@pytest.mark.parametrize(
    "args",
    [
        ["send", "--no-such-option"],
        ["send", "--csv", "places"],
        ["send", "--flush-timeout", "-1"],
        ["send", "missing.jsonl"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    """Bad options and missing files exit with 2 before sending."""
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "error" in result.stderr


def test_missing_site_id_names_the_variable() -> None:
    """Without a Site ID the message names the variable and the option."""
    env = environment()
    del env["CUSTOMERIO_SITE_ID"]
    result = run_cli("send", "--url", "http://127.0.0.1:9", env=env)
    assert result.returncode == 2
    assert "CUSTOMERIO_SITE_ID" in result.stderr
    assert "--site-id" in result.stderr


def test_missing_api_key_names_the_variable() -> None:
    """Without a key the message names the variable and --api-key-file."""
    env = environment()
    del env["CUSTOMERIO_API_KEY"]
    result = run_cli("send", "--url", "http://127.0.0.1:9", env=env)
    assert result.returncode == 2
    assert "CUSTOMERIO_API_KEY" in result.stderr
    assert "--api-key-file" in result.stderr


def test_no_option_takes_the_key() -> None:
    """--api-key does not exist for send: the key would show in ps."""
    result = run_cli("send", "--api-key", API_KEY)
    assert result.returncode == 2
    assert API_KEY not in result.stderr


def test_dead_letter_file_must_not_be_an_input(tmp_path: Path) -> None:
    """--failed naming an input file is a usage error."""
    path = write_lines(tmp_path / "in.jsonl", [PERSON])
    result = run_cli("send", "--failed", str(path), str(path))
    assert result.returncode == 2
    assert "--failed" in result.stderr
    assert len(read_lines(path)) == 1


def test_rejected_credentials_exit_2_without_the_key(
    server: LocalTrackAPI,
) -> None:
    """A wrong key stops send before reading; the key is never shown."""
    wrong_key = "wrong-key-3b9d1f"
    env = environment(CUSTOMERIO_API_KEY=wrong_key)
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--json",
        stdin=json.dumps(PERSON),
        env=env,
    )
    assert result.returncode == 2
    assert "CUSTOMERIO_API_KEY" in result.stderr
    assert wrong_key not in result.stderr + result.stdout
    assert server.people() == []


def test_unreachable_server_exits_2(tmp_path: Path) -> None:
    """A failed credentials check is an error before anything is read."""
    result = run_cli(
        "send", "--url", "http://127.0.0.1:9", stdin=json.dumps(PERSON)
    )
    assert result.returncode == 2
    assert "--no-check" in result.stderr


def test_key_absent_from_all_output(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """The API key appears nowhere in output, logs or the dead letters."""
    failed = tmp_path / "failed.jsonl"
    path = write_lines(tmp_path / "in.jsonl", [PERSON, "oops"])
    server.faults.fail(500, path="/api/v2/batch", count=1)
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--json",
        "--failed",
        str(failed),
        str(path),
    )
    assert result.returncode == 1
    assert "cio-pipeline send: warning: " in result.stderr
    assert API_KEY not in result.stdout
    assert API_KEY not in result.stderr
    assert API_KEY not in failed.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_signal_with_records_queued(
    server: LocalTrackAPI, tmp_path: Path, signum: int, status: int
) -> None:
    """A signal stops reading; queued records are dead-lettered."""
    server.faults.hang(path="/api/v2/batch")
    failed = tmp_path / "failed.jsonl"

    process = subprocess.Popen(
        [
            *COMMAND,
            "send",
            "--url",
            server.url,
            "--json",
            "--failed",
            str(failed),
            "--flush-timeout",
            "0.5",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert process.stdin is not None
        for number in range(30):
            record = {
                "type": "track",
                "customer_id": "1",
                "name": f"e{number}",
            }
            process.stdin.write(json.dumps(record) + "\n")
        process.stdin.flush()

        # The region look-up, then the first batch: it hangs, so every
        # record read is queued or in flight while stdin stays open.
        assert server.wait_until(
            lambda s: s.counters()["requests"] >= 2, timeout=RUN_TIMEOUT
        )

        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        process.kill()
        process.wait(timeout=RUN_TIMEOUT)

    assert process.returncode == status, stderr
    summary = json.loads(stdout)
    assert summary["read"] == 30
    assert summary["failed_by_reason"] == {"interrupted": 30}
    assert summary["stopped_by"] == signal.Signals(signum).name
    assert "<stdin>:30" in stderr

    entries = read_lines(failed)
    assert [entry["source"] for entry in sorted(entries, key=_line)] == [
        f"<stdin>:{number}" for number in range(1, 31)
    ]
    assert {entry["error"] for entry in entries} == {"interrupted"}
    # Each event carries the id it was sent with, so a resend after a
    # request that did arrive cannot count it twice.
    assert all(len(entry["record"]["id"]) == 26 for entry in entries)


def _line(entry: dict[str, str]) -> int:
    return int(entry["source"].rsplit(":", 1)[1])
