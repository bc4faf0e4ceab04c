"""Fixtures for the local Track API server's tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from cio_pipeline._server import LocalTrackAPI

SITE_ID = "server-site"
API_KEY = "server-key-81c2"


class Track:
    """A requests session with Basic auth, addressing one server."""

    def __init__(self, server: LocalTrackAPI) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.auth = (SITE_ID, API_KEY)

    def request(
        self, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> requests.Response:
        """Send a request; `body` is sent as JSON unless it is bytes."""
        if isinstance(body, bytes):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body

        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.server.url + path, **kwargs)

    def batch(self, *ops: Any, timeout: float = 10) -> requests.Response:
        """POST /api/v2/batch with these operations."""
        body = {"batch": list(ops)}
        return self.request("POST", "/api/v2/batch", body, timeout=timeout)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def person_op(
    action: str, person: str = "u1", **fields: Any
) -> dict[str, Any]:
    """Build a v2 person operation addressed by the id `person`."""
    return {
        "type": "person",
        "action": action,
        "identifiers": {"id": person},
        **fields,
    }


@pytest.fixture
def server() -> Iterator[LocalTrackAPI]:
    """A running server in full mode with the test credentials."""
    with LocalTrackAPI(SITE_ID, API_KEY, seed=7) as running:
        yield running


@pytest.fixture
def track(server: LocalTrackAPI) -> Iterator[Track]:
    """An authenticated session pointed at `server`."""
    client = Track(server)
    yield client
    client.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throwaway self-signed certificate for 127.0.0.1: (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a certificate")

    directory = tmp_path_factory.mktemp("tls")
    cert = str(directory / "cert.pem")
    key = str(directory / "key.pem")
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes"]
    command += ["-keyout", key, "-out", cert, "-days", "1"]
    command += ["-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return cert, key
