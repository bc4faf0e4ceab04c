"""Tests of ``cio-pipeline serve`` as a subprocess."""

from __future__ import annotations

import signal
import subprocess

import pytest
import requests

from .conftest import COMMAND, RUN_TIMEOUT, environment


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_url_and_stops_on_signal(signum: int) -> None:
    """The first stdout line is the URL; a signal stops it with exit 0."""
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--site-id", "S", "--api-key", "K"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(
            f"{url}/api/v1/accounts/region", auth=("S", "K"), timeout=10
        )
        assert answer.status_code == 200
        assert answer.json()["region"] == "us"
        refused = requests.get(
            f"{url}/api/v1/accounts/region", auth=("S", "x"), timeout=10
        )
        assert refused.status_code == 401
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        process.kill()
        process.wait(timeout=RUN_TIMEOUT)
    assert process.returncode == 0, stderr
    assert stdout == ""
    assert "stopped" in stderr


def test_serve_requires_credentials() -> None:
    """serve without --site-id or --api-key is a usage error."""
    result = subprocess.run(
        [*COMMAND, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "--site-id" in result.stderr


def test_serve_port_in_use_exits_1() -> None:
    """A port that cannot be bound is reported with exit status 1."""
    first = subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--site-id", "S", "--api-key", "K"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().rsplit(":", 1)[1]
        second = subprocess.run(
            [
                *COMMAND,
                "serve",
                "--port",
                port,
                "--site-id",
                "S",
                "--api-key",
                "K",
            ],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    finally:
        first.terminate()
        first.wait(timeout=RUN_TIMEOUT)
    assert second.returncode == 1
    assert f"127.0.0.1:{port}" in second.stderr
