"""Fixtures shared by the client's tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict

from cio_pipeline import Client

SITE_ID = "test-site"
API_KEY = "test-key-5f1e0c"
MEMORY_URL = "http://localhost:1"

Handler = Callable[["SentRequest"], tuple[int, dict[str, str], bytes]]


class SentRequest:
    """One request that reached the in-memory adapter."""

    def __init__(self, request: requests.PreparedRequest) -> None:
        self.method = request.method or ""
        self.path = (request.path_url or "").split("?")[0]
        self.url = request.url or ""
        self.headers = dict(request.headers)
        body = request.body or b""
        self.body = body.encode() if isinstance(body, str) else body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def operations(self) -> list[dict[str, Any]]:
        operations: list[dict[str, Any]] = self.json()["batch"]
        return operations


def accept_all(request: SentRequest) -> tuple[int, dict[str, str], bytes]:
    """Respond to every request like the Track API's success: 200 and {}."""
    return 200, {}, b"{}"


class InMemoryAdapter(requests.adapters.BaseAdapter):
    """A requests transport that responds from a handler, with no sockets."""

    def __init__(self, handler: Handler = accept_all) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[SentRequest] = []
        self._lock = threading.Lock()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        sent = SentRequest(request)
        with self._lock:
            self.requests.append(sent)
        status, headers, body = self.handler(sent)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = body
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass

    def operations(self) -> list[dict[str, Any]]:
        """Return every v2 operation sent, in order."""
        with self._lock:
            sent = list(self.requests)
        return [
            operation
            for request in sent
            if request.path == "/api/v2/batch"
            for operation in request.operations
        ]


@pytest.fixture
def adapter() -> InMemoryAdapter:
    return InMemoryAdapter()


@pytest.fixture
def make_client(
    adapter: InMemoryAdapter,
) -> Iterator[Callable[..., Client]]:
    """Build clients that send through ``adapter``; shut them down after."""
    clients: list[Client] = []

    def make(**options: Any) -> Client:
        session = requests.Session()
        session.mount(MEMORY_URL, adapter)
        options.setdefault("atexit", False)
        options.setdefault("rate_limit", None)
        client = Client(
            SITE_ID, API_KEY, url=MEMORY_URL, session=session, **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=2)
