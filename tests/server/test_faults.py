"""Faults on demand: errors, latency, hangs and dropped connections."""

from __future__ import annotations

import socket
import threading
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID, Track, person_op

EVENT = person_op("event", name="buy", id="01J0000000000000000000000A")


def _statuses(server: LocalTrackAPI, count: int) -> list[int]:
    track = Track(server)
    statuses = [
        track.request("GET", "/api/v1/accounts/region").status_code
        for _ in range(count)
    ]
    track.close()
    return statuses


def test_fail_share_is_seeded(server: LocalTrackAPI) -> None:
    """The same seed fails the same requests on every run."""
    runs = []
    for _ in range(2):
        with LocalTrackAPI(SITE_ID, API_KEY, seed=42) as seeded:
            seeded.faults.fail(503, share=0.5)
            runs.append(_statuses(seeded, 30))

    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_failed_request_not_applied(
    server: LocalTrackAPI, track: Track
) -> None:
    """A request failed by an injected error changes nothing."""
    server.faults.fail(500)

    response = track.batch(EVENT)

    assert response.status_code == 500
    assert server.events("u1") == []
    assert server.counters()["faults_injected"] == 1
    assert server.requests()[-1]["fault"] == "status"


def test_fail_count_limits_rule(server: LocalTrackAPI) -> None:
    """A rule with a count stops after that many requests."""
    server.faults.fail(502, count=2)

    assert _statuses(server, 4) == [502, 502, 200, 200]


def test_retry_after_seconds(server: LocalTrackAPI, track: Track) -> None:
    """429 carries Retry-After as whole seconds."""
    server.faults.fail(429, retry_after=2.5)

    response = track.batch(EVENT)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


def test_retry_after_http_date(server: LocalTrackAPI, track: Track) -> None:
    """Retry-After can be an HTTP date that far in the future."""
    server.faults.fail(503, retry_after=30, retry_after_format="date")
    before = time.time()

    response = track.batch(EVENT)

    when = parsedate_to_datetime(response.headers["Retry-After"])
    assert response.status_code == 503
    assert before + 28 <= when.timestamp() <= time.time() + 31


def test_script_for_batch_path(server: LocalTrackAPI, track: Track) -> None:
    """A script fails the next three batch requests only."""
    server.faults.script([503, 503, (429, 1)], path="/api/v2/batch")

    region = track.request("GET", "/api/v1/accounts/region")
    statuses = [track.batch(EVENT).status_code for _ in range(4)]

    assert region.status_code == 200
    assert statuses == [503, 503, 429, 200]
    assert len(server.events("u1")) == 1


def test_script_pass_answers_normally(server: LocalTrackAPI) -> None:
    """None and "pass" in a script let a request through."""
    server.faults.script([None, 500, "pass", {"status": 504}])

    assert _statuses(server, 5) == [200, 500, 200, 504, 200]


def test_latency(server: LocalTrackAPI, track: Track) -> None:
    """Latency delays each response by at least the given seconds."""
    server.faults.set_latency(0.2)
    started = time.monotonic()

    response = track.batch(EVENT)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_hang_until_cleared(server: LocalTrackAPI, track: Track) -> None:
    """A hung request gets no response; clear() lets later ones through."""
    server.faults.hang()

    with pytest.raises(requests.ReadTimeout):
        track.batch(EVENT, timeout=0.3)

    server.faults.clear()
    assert track.batch(EVENT).status_code == 200
    assert len(server.events("u1")) == 1


def test_stop_returns_while_hanging() -> None:
    """stop() returns promptly although a request hangs."""
    server = LocalTrackAPI(SITE_ID, API_KEY).start()
    server.faults.hang()
    errors: list[Exception] = []

    def send() -> None:
        try:
            Track(server).batch(EVENT, timeout=10)
        except requests.RequestException as error:
            errors.append(error)

    thread = threading.Thread(target=send)
    thread.start()
    assert server.wait_until(lambda s: s.counters()["requests"] == 1)
    started = time.monotonic()

    server.stop()

    assert time.monotonic() - started < 3
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(errors[0], requests.ConnectionError)


def test_refuse_and_accept_again(server: LocalTrackAPI, track: Track) -> None:
    """refuse() closes the port; clear() opens the same port again."""
    assert track.batch(EVENT).status_code == 200
    port = server.port
    server.faults.refuse()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()

    with pytest.raises(requests.ConnectionError):
        track.batch(EVENT)

    server.faults.clear()
    assert server.port == port
    assert track.batch(EVENT).status_code == 200


def test_close_before_apply(server: LocalTrackAPI, track: Track) -> None:
    """The connection closes without an answer and nothing is applied."""
    server.faults.close_before_apply(count=1)

    with pytest.raises(requests.ConnectionError):
        track.batch(EVENT)

    assert server.events("u1") == []
    entry = server.requests()[-1]
    assert entry["status"] is None
    assert entry["fault"] == "close_before_apply"
    assert track.batch(EVENT).status_code == 200


def test_close_after_apply_then_resend(
    server: LocalTrackAPI, track: Track
) -> None:
    """Applied, no answer; the resent copy is dropped by event id."""
    server.faults.close_after_apply(count=1)

    with pytest.raises(requests.ConnectionError):
        track.batch(EVENT)

    assert len(server.events("u1")) == 1
    assert track.batch(EVENT).status_code == 200
    assert len(server.events("u1")) == 1
    assert server.counters()["duplicate_events"] == 1


def test_close_share_is_seeded() -> None:
    """Share-based connection faults follow the seed."""
    outcomes = []
    for _ in range(2):
        with LocalTrackAPI(SITE_ID, API_KEY, seed=3) as seeded:
            seeded.faults.close_before_apply(share=0.5)
            track = Track(seeded)
            run = []
            for _ in range(20):
                try:
                    run.append(track.batch(EVENT).status_code)
                except requests.ConnectionError:
                    run.append(0)

            track.close()
            outcomes.append(run)

    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {0, 200}


def test_local_paths_never_faulted(server: LocalTrackAPI) -> None:
    """Faults leave the /_local/ endpoints alone."""
    server.faults.fail(500)

    response = requests.get(server.url + "/_local/counters", timeout=5)

    assert response.status_code == 200


def test_faults_from_constructor() -> None:
    """Faults and latency can be set when the server is built."""
    settings = {"fail": [{"status": 503, "count": 1}], "latency": 0.01}
    with LocalTrackAPI(SITE_ID, API_KEY, faults=settings) as server:
        assert server.faults.latency == 0.01
        assert _statuses(server, 2) == [503, 200]


@pytest.mark.parametrize(
    "call",
    [
        lambda f: f.fail(99),
        lambda f: f.fail(503, share=1.5),
        lambda f: f.fail(503, retry_after=-1),
        lambda f: f.fail(503, retry_after_format="minutes"),
        lambda f: f.fail(503, count=0),
        lambda f: f.script(["explode"]),
        lambda f: f.set_latency(-1),
        lambda f: f.configure({"flood": True}),
    ],
)
def test_invalid_fault_settings(server: LocalTrackAPI, call: object) -> None:
    """Invalid fault settings raise ValueError and add nothing."""
    with pytest.raises(ValueError):  # noqa: PT011 - messages vary by case
        call(server.faults)  # type: ignore[operator]

    assert server.faults.describe()["rules"] == []
