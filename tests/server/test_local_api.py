"""The /_local/ JSON endpoints and counting mode."""

from __future__ import annotations

import json

import requests

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID, Track, person_op


def test_state_endpoint(server: LocalTrackAPI, track: Track) -> None:
    """GET /_local/state returns people with events, and the rest."""
    track.batch(
        person_op("identify", attributes={"a": 1}),
        person_op("event", name="buy", id="E1"),
        person_op("suppress", "u9"),
    )

    state = requests.get(server.url + "/_local/state", timeout=5).json()

    [person] = state["people"]
    assert person["id"] == "u1"
    assert person["events"][0]["name"] == "buy"
    assert state["suppressed"] == [{"id": "u9"}]
    assert state["counters"]["operations_accepted"] == 3
    assert state["counters"]["responses"] == {"200": 1}
    assert state == json.loads(json.dumps(server.snapshot()))


def test_counters_and_requests_endpoints(
    server: LocalTrackAPI, track: Track
) -> None:
    """Counters and the request log are served as JSON."""
    track.batch(person_op("identify"))

    counters = requests.get(server.url + "/_local/counters", timeout=5)
    logged = requests.get(server.url + "/_local/requests", timeout=5)

    assert counters.json()["batch_requests"] == 1
    [entry] = logged.json()
    assert json.loads(entry["body"])["batch"][0]["action"] == "identify"
    assert entry["headers"]["authorization"] == "[redacted]"


def test_reset_endpoint(server: LocalTrackAPI, track: Track) -> None:
    """POST /_local/reset clears state, counters and log."""
    track.batch(person_op("identify"))

    response = requests.post(server.url + "/_local/reset", timeout=5)

    assert response.status_code == 200
    assert server.people() == []


def test_faults_endpoint(server: LocalTrackAPI, track: Track) -> None:
    """Faults can be set, read and cleared over HTTP."""
    url = server.url + "/_local/faults"
    spec = {"script": [{"responses": [503], "path": "/api/v2/batch"}]}

    assert requests.post(url, json=spec, timeout=5).status_code == 200
    assert requests.get(url, timeout=5).json()["scripts"][0]["path"]
    assert track.batch(person_op("identify")).status_code == 503

    server.faults.fail(500)
    assert requests.delete(url, timeout=5).status_code == 200
    assert track.batch(person_op("identify")).status_code == 200


def test_faults_endpoint_rejects_bad_settings(server: LocalTrackAPI) -> None:
    """Unknown or invalid fault settings get 400."""
    url = server.url + "/_local/faults"
    for body in ({"flood": 1}, {"fail": [{"status": 1}]}, [1]):
        response = requests.post(url, json=body, timeout=5)
        assert response.status_code == 400, body
        assert response.json()["meta"]["error"]


def test_unknown_local_path(server: LocalTrackAPI) -> None:
    """Unknown /_local/ paths get 404."""
    response = requests.get(server.url + "/_local/nothing", timeout=5)

    assert response.status_code == 404


def test_count_mode_counts_without_state() -> None:
    """Counting mode counts operations and stores nothing."""
    with LocalTrackAPI(SITE_ID, API_KEY, mode="count") as server:
        track = Track(server)
        ops = [person_op("event", name="e")] * 5 + [{"type": "bogus"}]
        assert track.batch(*ops).status_code == 200
        assert (
            track.request("PUT", "/api/v1/customers/u1", {}).status_code == 200
        )
        track.session.auth = ("x", "y")
        assert track.batch(*ops).status_code == 401
        track.close()

        counters = server.counters()
        assert counters["operations_accepted"] == 7
        assert counters["batch_requests"] == 1
        assert server.people() == []
