"""Starting and stopping, keep-alive, request framing and TLS."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time

import pytest
import requests

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID, Track, person_op

AUTH = "Basic c2VydmVyLXNpdGU6c2VydmVyLWtleS04MWMy"


def test_url_and_free_port() -> None:
    """Port 0 binds a free port on 127.0.0.1; url has no trailing slash."""
    with LocalTrackAPI() as first, LocalTrackAPI() as second:
        assert first.port != second.port
        assert first.url == f"http://127.0.0.1:{first.port}"
        assert first.running

    assert not first.running


def test_start_twice_raises() -> None:
    """A server object starts once."""
    with LocalTrackAPI() as server, pytest.raises(RuntimeError):
        server.start()


def test_port_before_start_raises() -> None:
    """The port is unknown until the server starts."""
    with pytest.raises(RuntimeError):
        _ = LocalTrackAPI().port


def test_stop_is_idempotent() -> None:
    """stop() may be called again, and before start()."""
    LocalTrackAPI().stop()
    server = LocalTrackAPI().start()
    server.stop()
    server.stop()


@pytest.mark.parametrize(
    "options",
    [
        {"site_id": ""},
        {"port": 70000},
        {"region": "apac"},
        {"mode": "fast"},
        {"certfile": "cert.pem"},
        {"latency": -1.0},
    ],
)
def test_invalid_options(options: dict[str, object]) -> None:
    """Invalid constructor options raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - messages vary by case
        LocalTrackAPI(**options)  # type: ignore[arg-type]


def test_serve_forever_returns_on_stop() -> None:
    """serve_forever() blocks until another thread calls stop()."""
    server = LocalTrackAPI()
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.running and time.monotonic() < deadline:
        time.sleep(0.01)  # polling with a deadline: start is not evented

    assert server.running
    server.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_stop_closes_idle_keep_alive(server: LocalTrackAPI) -> None:
    """stop() does not wait for clients' idle pooled connections."""
    track = Track(server)
    track.batch(person_op("identify"))
    started = time.monotonic()

    server.stop()

    assert time.monotonic() - started < 2
    track.close()


def test_keep_alive_serves_many_requests(server: LocalTrackAPI) -> None:
    """One connection carries several requests and keeps the framing."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    sockets = set()
    for index in range(3):
        body = json.dumps({"n": index})
        conn.request("PUT", f"/api/v1/customers/u{index}", body, headers)
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"{}"
        assert response.getheader("Content-Length") == "2"
        sockets.add(id(conn.sock))

    conn.close()
    assert len(sockets) == 1
    assert len(server.people()) == 3


def test_connection_close_honoured(server: LocalTrackAPI) -> None:
    """A request with Connection: close gets it in the response."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(
        "GET",
        "/api/v1/accounts/region",
        headers={"Authorization": AUTH, "Connection": "close"},
    )
    response = conn.getresponse()

    assert response.getheader("Connection") == "close"
    conn.close()


def test_chunked_body(server: LocalTrackAPI) -> None:
    """Bodies sent with chunked transfer encoding are read in full."""
    body = json.dumps({"batch": [person_op("identify")]}).encode()
    chunks = iter([body[:10], body[10:]])

    response = requests.post(
        server.url + "/api/v2/batch",
        data=chunks,
        auth=(SITE_ID, API_KEY),
        timeout=5,
    )

    assert response.status_code == 200
    assert server.person("u1") is not None


def test_request_log(server: LocalTrackAPI, track: Track) -> None:
    """The log keeps method, path, query, body; hides the credentials."""
    track.request(
        "POST", "/api/v1/segments/3/add_customers?id_type=id", {"ids": ["a"]}
    )

    [entry] = server.requests()
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/segments/3/add_customers"
    assert entry["query"] == {"id_type": "id"}
    assert entry["headers"]["authorization"] == "[redacted]"
    assert json.loads(entry["body"]) == {"ids": ["a"]}
    assert entry["status"] == 200


def test_request_log_bounded() -> None:
    """The log drops the oldest entries past its size."""
    with LocalTrackAPI(SITE_ID, API_KEY, request_log_size=3) as server:
        track = Track(server)
        for index in range(5):
            track.request("PUT", f"/api/v1/customers/u{index}", {})

        track.close()
        paths = [entry["path"] for entry in server.requests()]

    assert paths == [f"/api/v1/customers/u{index}" for index in (2, 3, 4)]


def test_reset_forgets_state(server: LocalTrackAPI, track: Track) -> None:
    """reset() clears people, counters and the log."""
    track.batch(person_op("identify"))
    server.reset()

    assert server.people() == []
    assert server.counters()["requests"] == 0
    assert server.requests() == []


def test_wait_until_times_out(server: LocalTrackAPI) -> None:
    """wait_until returns False when nothing happens in time."""
    assert not server.wait_until(lambda s: bool(s.people()), timeout=0.05)


def test_tls(certificate: tuple[str, str]) -> None:
    """With a certificate the server speaks HTTPS."""
    cert, key = certificate
    with LocalTrackAPI(SITE_ID, API_KEY, certfile=cert, keyfile=key) as server:
        assert server.url.startswith("https://127.0.0.1:")
        response = requests.get(
            server.url + "/api/v1/accounts/region",
            auth=(SITE_ID, API_KEY),
            verify=cert,
            timeout=5,
        )
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url.replace("https", "http"), timeout=5)

    assert response.status_code == 200
    assert ssl.OPENSSL_VERSION
