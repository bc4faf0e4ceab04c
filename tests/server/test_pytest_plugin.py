"""The pytest plugin, enabled the way a user's test suite enables it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFTEST = 'pytest_plugins = ["cio_pipeline.pytest_plugin"]\n'

USER_TESTS = """
import pytest


def test_client_reaches_server(cio_client, cio_server):
    cio_client.identify("u1", plan="pro")
    cio_client.track("u1", "signup", {"source": "ad"})
    cio_client.flush(timeout=5)
    assert cio_server.person("u1")["attributes"] == {"plan": "pro"}
    assert [e["name"] for e in cio_server.events("u1")] == ["signup"]


def test_each_test_gets_a_fresh_server(cio_server):
    assert cio_server.people() == []


@pytest.mark.cio_server(mode="count", api_key="other-key")
def test_server_marker(cio_client, cio_server):
    assert cio_server.mode == "count"
    assert cio_server.api_key == "other-key"
    cio_client.identify("u2", a=1)
    cio_client.flush(timeout=5)
    assert cio_server.counters()["operations_accepted"] == 1


@pytest.mark.cio_client(sync=True)
def test_client_marker(cio_client, cio_server):
    cio_client.identify("u3", a=1)
    assert cio_server.person("u3") is not None
"""


def test_plugin_in_user_suite(tmp_path: Path) -> None:
    """A suite enabling the plugin gets a server and a client per test."""
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_user.py").write_text(USER_TESTS)

    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "4 passed" in completed.stdout
