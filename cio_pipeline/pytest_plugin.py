"""Pytest fixtures: a local Track API server and a client pointed at it.

Enable them in your conftest.py::

    pytest_plugins = ["cio_pipeline.pytest_plugin"]

Then a test can send through `cio_client` and look at what the server
stored::

    def test_signup(cio_client, cio_server):
        cio_client.identify("u1", plan="pro")
        cio_client.flush(timeout=5)
        assert cio_server.person("u1")["attributes"]["plan"] == "pro"

Each test gets its own server and client. Options go through markers:
`@pytest.mark.cio_server(mode="count", latency=0.1)` passes keyword
arguments to LocalTrackAPI, and `@pytest.mark.cio_client(sync=True)` to
Client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._client import Client
from ._server import LocalTrackAPI

SITE_ID = "test-site"
API_KEY = "test-api-key"

# Seconds that the client fixture waits for queued records at teardown.
SHUTDOWN_TIMEOUT = 5.0


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers that configure the fixtures."""
    config.addinivalue_line(
        "markers",
        "cio_server(**options): keyword arguments for the cio_server "
        "fixture's LocalTrackAPI",
    )
    config.addinivalue_line(
        "markers",
        "cio_client(**options): keyword arguments for the cio_client "
        "fixture's Client",
    )


def _marker_options(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker(name)
    return {} if marker is None else dict(marker.kwargs)


@pytest.fixture
def cio_server(request: pytest.FixtureRequest) -> Iterator[LocalTrackAPI]:
    """Start a LocalTrackAPI for one test, with test credentials.

    Its site id and API key are `cio_pipeline.pytest_plugin.SITE_ID` and
    `API_KEY` unless the cio_server marker sets others.
    """
    options: dict[str, Any] = {"site_id": SITE_ID, "api_key": API_KEY}
    options.update(_marker_options(request, "cio_server"))
    with LocalTrackAPI(**options) as server:
        yield server


@pytest.fixture
def cio_client(
    request: pytest.FixtureRequest, cio_server: LocalTrackAPI
) -> Iterator[Client]:
    """Create a cio_pipeline.Client that sends to `cio_server`.

    The client is shut down after the test, so records still queued are
    delivered first (within 5 seconds).
    """
    options: dict[str, Any] = {"url": cio_server.url, "atexit": False}
    options.update(_marker_options(request, "cio_client"))
    client = Client(cio_server.site_id, cio_server.api_key, **options)
    try:
        yield client
    finally:
        client.shutdown(timeout=SHUTDOWN_TIMEOUT)
