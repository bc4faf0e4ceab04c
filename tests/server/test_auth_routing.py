"""Basic auth, unknown paths and methods."""

from __future__ import annotations

import base64

import pytest
import requests

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID, Track


@pytest.mark.parametrize(
    "auth",
    [None, (SITE_ID, "wrong"), ("other", API_KEY), (SITE_ID, "")],
)
def test_bad_credentials_get_401(
    server: LocalTrackAPI, auth: tuple[str, str] | None
) -> None:
    """Missing or wrong credentials get 401 and change nothing."""
    response = requests.put(
        server.url + "/api/v1/customers/u1",
        json={"a": 1},
        auth=auth,
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json()["meta"]["error"]
    assert server.people() == []
    assert server.counters()["unauthorized"] == 1


def test_malformed_auth_header_gets_401(server: LocalTrackAPI) -> None:
    """A header that is not valid Basic auth gets 401."""
    for header in ("Bearer abc", "Basic !!!", "Basic " + "bm9jb2xvbg=="):
        response = requests.get(
            server.url + "/api/v1/accounts/region",
            headers={"Authorization": header},
            timeout=5,
        )
        assert response.status_code == 401, header


def test_url_safe_base64_accepted(server: LocalTrackAPI) -> None:
    """Credentials in the URL-safe base64 alphabet are accepted."""
    secret = f"{SITE_ID}:{API_KEY}>>?".encode()
    with LocalTrackAPI(SITE_ID, API_KEY + ">>?") as special:
        token = base64.urlsafe_b64encode(secret).decode()
        assert "-" in token or "_" in token
        response = requests.get(
            special.url + "/api/v1/accounts/region",
            headers={"Authorization": "Basic " + token},
            timeout=5,
        )

    assert response.status_code == 200


def test_metrics_need_no_auth(server: LocalTrackAPI) -> None:
    """The spec lists no credentials for metrics and unsubscribe."""
    body = {"delivery_id": "d1", "metric": "clicked"}
    response = requests.post(
        server.url + "/api/v1/metrics", json=body, timeout=5
    )

    assert response.status_code == 200
    assert server.metrics()[0]["delivery_id"] == "d1"


def test_unknown_path_gets_404(track: Track) -> None:
    """Paths the Track API does not have get 404."""
    for path in ("/", "/api/v1/people/u1", "/api/v3/batch", "/push/events"):
        response = track.request("POST", path, {})
        assert response.status_code == 404, path


def test_wrong_method_gets_405(track: Track) -> None:
    """A known path with another method gets 405 and an Allow header."""
    response = track.request("GET", "/api/v2/batch")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
