"""Customer.io's own Python client, pointed at the local server.

The official client builds https:// URLs only, so the server runs with a
throwaway certificate that the client's session trusts. Each operation
the client has is sent on its own and its effect on the state checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cio_pipeline._server import LocalTrackAPI

from .conftest import API_KEY, SITE_ID

customerio = pytest.importorskip("customerio")


@pytest.fixture
def tls_server(certificate: tuple[str, str]) -> Iterator[LocalTrackAPI]:
    """A server speaking HTTPS with the throwaway certificate."""
    cert, key = certificate
    with LocalTrackAPI(SITE_ID, API_KEY, certfile=cert, keyfile=key) as srv:
        yield srv


@pytest.fixture
def cio(
    tls_server: LocalTrackAPI, certificate: tuple[str, str]
) -> Iterator[object]:
    """customerio.CustomerIO pointed at the local server."""
    client = customerio.CustomerIO(
        SITE_ID, API_KEY, host="127.0.0.1", port=tls_server.port, retries=0
    )
    _trust(client, certificate[0])
    yield client
    client.close()


def _trust(client: object, cert: str) -> None:
    # Without trust_env, CA bundle variables in the environment cannot
    # override the session's verify setting, and no proxy is used.
    client.http.trust_env = False  # type: ignore[attr-defined]
    client.http.verify = cert  # type: ignore[attr-defined]


def _ok(response: object) -> None:
    assert response.status_code == 200  # type: ignore[attr-defined]


def test_official_identify(cio: object, tls_server: LocalTrackAPI) -> None:
    """identify(id, **attributes) creates the person."""
    created = datetime(2024, 1, 2, tzinfo=UTC)
    _ok(cio.identify("u1", email="u1@x.io", plan="pro", created_at=created))

    person = tls_server.person("u1")
    assert person is not None
    assert person["email"] == "u1@x.io"
    assert person["attributes"]["plan"] == "pro"
    assert person["created_at"] == int(created.timestamp())


def test_official_track(cio: object, tls_server: LocalTrackAPI) -> None:
    """track() stores the event with its data, id and timestamp."""
    _ok(
        cio.track(
            "u1",
            "purchase",
            {"price": 10},
            id="01J0000000000000000000000Q",
            timestamp=1700000000,
        )
    )

    [event] = tls_server.events("u1")
    assert event["name"] == "purchase"
    assert event["data"] == {"price": 10}
    assert event["id"] == "01J0000000000000000000000Q"
    assert event["timestamp"] == 1700000000


def test_official_track_anonymous(
    cio: object, tls_server: LocalTrackAPI
) -> None:
    """track_anonymous() stores anonymous and invite events."""
    _ok(cio.track_anonymous("anon-1", "visit", {"page": "/"}))
    _ok(cio.track_anonymous(None, "invite", {"recipient": "new@x.io"}))

    events = tls_server.anonymous_events()
    assert [(e["anonymous_id"], e["name"]) for e in events] == [
        ("anon-1", "visit"),
        (None, "invite"),
    ]


def test_official_pageview(cio: object, tls_server: LocalTrackAPI) -> None:
    """pageview() stores a page event."""
    _ok(cio.pageview("u1", "/pricing", referrer="/home"))

    [event] = tls_server.events("u1")
    assert event["type"] == "page"
    assert event["name"] == "/pricing"
    assert event["data"] == {"referrer": "/home"}


def test_official_backfill(cio: object, tls_server: LocalTrackAPI) -> None:
    """backfill() stores an event at the given time."""
    _ok(cio.backfill("u1", "signup", 1600000000, plan="free"))

    [event] = tls_server.events("u1")
    assert event["timestamp"] == 1600000000
    assert event["data"] == {"plan": "free"}


def test_official_delete(cio: object, tls_server: LocalTrackAPI) -> None:
    """delete() removes the person."""
    cio.identify("u1", a=1)
    _ok(cio.delete("u1"))

    assert tls_server.person("u1") is None


def test_official_devices(cio: object, tls_server: LocalTrackAPI) -> None:
    """add_device() and delete_device() change the person's devices."""
    _ok(cio.add_device("u1", "tok-1", "ios", last_used=1700000000))

    [device] = tls_server.devices("u1")
    assert device["token"] == "tok-1"
    assert device["platform"] == "ios"
    assert device["last_used"] == 1700000000

    _ok(cio.delete_device("u1", "tok-1"))
    assert tls_server.devices("u1") == []


def test_official_suppress(cio: object, tls_server: LocalTrackAPI) -> None:
    """suppress() and unsuppress() change the suppression list."""
    cio.identify("u1", a=1)
    _ok(cio.suppress("u1"))

    assert tls_server.person("u1") is None
    assert {"id": "u1"} in tls_server.suppressed()

    _ok(cio.unsuppress("u1"))
    assert tls_server.suppressed() == []


def test_official_merge(cio: object, tls_server: LocalTrackAPI) -> None:
    """merge_customers() folds the secondary into the primary."""
    cio.identify("p1", email="p1@x.io")
    cio.identify("s1", b=2)
    _ok(cio.merge_customers("email", "p1@x.io", "id", "s1"))

    assert tls_server.person("s1") is None
    primary = tls_server.person("p1")
    assert primary is not None
    assert primary["attributes"]["b"] == 2


def test_official_batch(cio: object, tls_server: LocalTrackAPI) -> None:
    """batch() sends v2 operations that are all applied."""
    _ok(
        cio.batch(
            [
                {
                    "type": "person",
                    "action": "identify",
                    "identifiers": {"id": "u1"},
                    "attributes": {"plan": "pro"},
                },
                {
                    "type": "person",
                    "action": "event",
                    "identifiers": {"id": "u1"},
                    "name": "login",
                },
            ]
        )
    )

    person = tls_server.person("u1")
    assert person is not None
    assert person["attributes"] == {"plan": "pro"}
    assert [e["name"] for e in tls_server.events("u1")] == ["login"]


def test_official_requests_logged(
    cio: object, tls_server: LocalTrackAPI
) -> None:
    """The client's requests reach the server with its User-Agent."""
    cio.identify("u1", a=1)

    [entry] = tls_server.requests()
    assert entry["method"] == "PUT"
    assert entry["path"] == "/api/v1/customers/u1"
    assert entry["headers"]["user-agent"].startswith("Customer.io Python")


def test_official_wrong_key_raises(
    tls_server: LocalTrackAPI, certificate: tuple[str, str]
) -> None:
    """With a wrong key the client gets 401 and raises."""
    client = customerio.CustomerIO(
        SITE_ID, "wrong", host="127.0.0.1", port=tls_server.port, retries=0
    )
    _trust(client, certificate[0])

    with pytest.raises(customerio.CustomerIOException, match="401"):
        client.identify("u1", a=1)

    client.close()
    assert tls_server.people() == []
