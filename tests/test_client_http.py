"""The client against the local Track API server, over real HTTP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time

from cio_pipeline import (
    Client,
    CredentialsError,
    LocalTrackAPI,
    Reason,
    Record,
    RegionMismatchError,
)

SITE_ID = "http-site"
API_KEY = "http-key-93b1d7"


@pytest.fixture
def server() -> Iterator[LocalTrackAPI]:
    with LocalTrackAPI(SITE_ID, API_KEY, seed=7) as running:
        yield running


@pytest.fixture
def make_http_client(
    server: LocalTrackAPI,
) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(**options: Any) -> Client:
        options.setdefault("atexit", False)
        options.setdefault("flush_interval", 0.05)
        options.setdefault("request_timeout", 5.0)
        client = Client(
            options.pop("site_id", SITE_ID),
            options.pop("api_key", API_KEY),
            url=server.url,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=2)


def failures_into(
    found: list[tuple[Record, Reason]],
) -> Callable[[Record, Reason], None]:
    def on_error(record: Record, reason: Reason) -> None:
        found.append((record, reason))

    return on_error


def test_every_operation_is_stored(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    client = make_http_client()
    client.identify("u1", email="u1@example.com", plan="pro", created_at=1000)
    client.track("u1", "purchase", {"amount": 5})
    client.pageview("u1", "/pricing")
    client.screen("u1", "Home")
    client.backfill("u1", "imported", 1_000_000_000)
    client.add_device("u1", "tok-1", "android", push_enabled=False)
    client.identify("u2")
    client.delete_device("u1", "tok-1")
    client.add_device("u1", "tok-2", "ios")
    client.track_anonymous("anon-1", "visited", {"page": "/"})
    client.add_to_segment(4, ["u1", "u2"])
    client.remove_from_segment(4, ["u2"])
    client.track_metric("dlv-1", "opened")
    client.identify("u3")
    client.merge_customers("id", "u2", "id", "u3")
    client.identify("u4")
    client.suppress("u4")
    client.identify("u5")
    client.delete("u5")
    assert client.flush(timeout=10).pending == 0
    assert client.stats().failed == 0
    assert client.stats().delivered == 19

    person = server.person("u1")
    assert person is not None
    assert person["attributes"]["plan"] == "pro"
    assert person["created_at"] == 1000
    names = [event["name"] for event in server.events("u1")]
    assert names == ["purchase", "/pricing", "Home", "imported"]
    assert [device["token"] for device in server.devices("u1")] == ["tok-2"]
    assert [e["name"] for e in server.anonymous_events("anon-1")] == [
        "visited"
    ]
    assert len(server.segment_members(4)) == 1
    assert server.merges()[0]["applied"]
    assert server.person("u3") is None
    assert server.person("u4") is None
    assert {"id": "u4"} in server.suppressed()
    assert server.person("u5") is None
    assert len(server.metrics()) == 1


def test_delivers_many_events_exactly_once(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    client = make_http_client()
    for number in range(20_000):
        client.track(f"user-{number % 50}", "tick", {"n": number})
    result = client.flush(timeout=60)
    # Records the thread sent before flush() are not in its result.
    assert result.pending == 0
    assert client.stats().delivered == 20_000
    counters = server.counters()
    assert counters["events_stored"] == 20_000
    # The byte limit, not an operation count, sizes the batches.
    assert counters["batch_requests"] < 20


def test_rejected_operation_fails_alone(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    found: list[tuple[Record, Reason]] = []
    client = make_http_client(on_error=failures_into(found))
    client.identify("u1", bio="x" * 2000)
    client.batch(
        [
            {
                "type": "person",
                "action": "event",
                "identifiers": {"id": "u1"},
                "name": "bad",
                "timestamp": "yesterday",
            }
        ]
    )
    client.track("u1", "fine")
    result = client.flush(timeout=10)
    assert (result.delivered, result.failed) == (1, 2)
    reasons = [reason for _, reason in found]
    assert reasons == ["too_large", "rejected"]
    assert "1000 bytes" in reasons[0].detail
    assert "timestamp" in reasons[1].detail
    assert [event["name"] for event in server.events("u1")] == ["fine"]


def test_wrong_key_fails_as_unauthorized(
    make_http_client: Callable[..., Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    found: list[tuple[Record, Reason]] = []
    client = make_http_client(api_key="wrong", on_error=failures_into(found))
    for _ in range(3):
        client.track("u1", "x")
        client.flush(timeout=10)
    assert [reason for _, reason in found] == ["unauthorized"] * 3
    assert client.stats().retried == 0
    assert len([r for r in caplog.records if "HTTP 401" in r.message]) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 502},
        {"status": 503},
        {"status": 429, "retry_after": 1},
        {"status": 429, "retry_after": 1, "retry_after_format": "date"},
    ],
)
def test_transient_answers_are_retried(
    make_http_client: Callable[..., Client],
    server: LocalTrackAPI,
    fault: dict[str, Any],
) -> None:
    server.faults.fail(count=2, path="/api/v2/batch", **fault)
    client = make_http_client()
    client.track("u1", "x")
    result = client.flush(timeout=20)
    assert result.delivered == 1
    assert client.stats().retried == 2
    assert len(server.events("u1")) == 1


def test_lost_answer_resend_is_deduplicated(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    server.faults.close_after_apply(count=1, path="/api/v2/batch")
    client = make_http_client()
    for number in range(100):
        client.track("u1", "tick", {"n": number})
    assert client.flush(timeout=20).pending == 0
    assert client.stats().delivered == 100
    assert len(server.events("u1")) == 100
    assert server.counters()["duplicate_events"] == 100


def test_connection_closed_before_apply_is_retried(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    server.faults.close_before_apply(count=1, path="/api/v2/batch")
    client = make_http_client()
    client.track("u1", "x")
    assert client.flush(timeout=20).delivered == 1
    assert client.stats().retried == 1


def test_unanswered_request_times_out_and_is_retried(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    server.faults.script(["hang"], path="/api/v2/batch")
    client = make_http_client(request_timeout=0.5)
    client.track("u1", "x")
    result = client.flush(timeout=20)
    assert result.delivered == 1
    assert client.stats().retried == 1


def test_oversized_request_is_split(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    # A batch limit above the server's 500,000 bytes provokes a 413.
    client = make_http_client(max_batch_bytes=900_000)
    for number in range(4000):
        client.track("u1", "tick", {"n": number, "pad": "p" * 100})
    result = client.flush(timeout=30)
    # Records the thread sent before flush() are not in its result.
    assert result.pending == 0
    assert client.stats().delivered == 4000
    assert server.counters()["responses"].get("413", 0) >= 1
    assert len(server.events("u1")) == 4000


def test_flush_against_dead_api_returns_on_time(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    server.faults.fail(503)
    client = make_http_client()
    for number in range(1000):
        client.track("u1", "x", {"n": number})
    started = time.monotonic()
    result = client.flush(timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < 5
    assert result.delivered == 0
    assert result.failed + result.pending == 1000
    server.faults.clear()


def test_freezegun_stamps_records_not_deadlines(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    client = make_http_client()
    with freeze_time("2024-01-01 00:00:00"):
        client.identify("u1", plan="pro")
        client.track("u1", "frozen")
        result = client.flush(timeout=10)
    assert result.delivered == 2
    (event,) = server.events("u1")
    assert event["timestamp"] == 1704067200


def test_identify_carries_call_time(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    client = make_http_client(sync=True)
    with freeze_time("2024-01-01 00:00:10"):
        client.identify("u1", plan="new")
    with freeze_time("2024-01-01 00:00:05"):
        client.identify("u1", plan="old")
    person = server.person("u1")
    assert person is not None
    assert person["attributes"]["plan"] == "new"
    assert server.counters()["stale_attributes"] >= 1


def test_check_credentials(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    answer = make_http_client().check_credentials()
    assert answer["region"] == "us"
    with pytest.raises(CredentialsError, match="HTTP 401"):
        make_http_client(api_key="wrong").check_credentials()


def test_check_credentials_region_mismatch(
    server: LocalTrackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cio_pipeline._transport.REGION_URLS", {"eu": server.url}
    )
    client = Client(SITE_ID, API_KEY, region="eu", atexit=False)
    monkeypatch.setattr(
        "cio_pipeline._client._REGION_URLS", frozenset({server.url})
    )
    with pytest.raises(RegionMismatchError, match="region='us'"):
        client.check_credentials()
    client.shutdown(1)


def test_secrets_never_logged(
    make_http_client: Callable[..., Client],
    server: LocalTrackAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.faults.fail(503, count=1)
    found: list[tuple[Record, Reason]] = []
    good = make_http_client(on_error=failures_into(found))
    good.track("u1", "payload-marker-7731", {"secret": "payload-marker-7731"})
    good.flush(timeout=10)
    bad = make_http_client(
        api_key="wrong-key-4412", on_error=failures_into(found)
    )
    bad.track("u1", "x")
    bad.flush(timeout=10)
    with pytest.raises(CredentialsError) as raised:
        bad.check_credentials()
    text = "\n".join(record.getMessage() for record in caplog.records)
    text += repr(good) + repr(bad) + repr(bad.config) + str(raised.value)
    text += "".join(reason.describe() for _, reason in found)
    for secret in (API_KEY, "wrong-key-4412", "payload-marker-7731"):
        assert secret not in text
    assert "Basic " not in text
    assert not [r for r in caplog.records if r.name.startswith("backoff")]
    assert any("retried" in record.getMessage() for record in caplog.records)


def test_context_manager_shuts_down(server: LocalTrackAPI) -> None:
    with Client(SITE_ID, API_KEY, url=server.url, atexit=False) as client:
        client.track("u1", "inside")
    assert not client.track("u1", "after")
    assert len(server.events("u1")) == 1


def test_naive_and_aware_datetimes_agree(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    client = make_http_client()
    client.track("u1", "a", timestamp=datetime(2024, 1, 1, 12, 0))
    client.track("u1", "b", timestamp=datetime(2024, 1, 1, 12, 0, tzinfo=UTC))
    client.flush(timeout=10)
    stamps = [event["timestamp"] for event in server.events("u1")]
    assert stamps == [1704110400, 1704110400]


def test_restarted_server_gets_later_batches() -> None:
    # The pooled connection to the first server is dead afterwards.
    with LocalTrackAPI(SITE_ID, API_KEY) as first:
        port = first.port
        client = Client(SITE_ID, API_KEY, url=first.url, atexit=False)
        client.track("u1", "before")
        assert client.flush(timeout=10).delivered == 1
    with LocalTrackAPI(SITE_ID, API_KEY, port=port) as second:
        client.track("u1", "after")
        assert client.flush(timeout=20).delivered == 1
        assert [e["name"] for e in second.events("u1")] == ["after"]
    client.shutdown(1)


def test_disabled_client_and_identify_by(
    make_http_client: Callable[..., Client], server: LocalTrackAPI
) -> None:
    disabled = make_http_client(enabled=False)
    assert disabled.identify("u1", plan="off")
    assert disabled.flush(timeout=5).pending == 0
    assert server.counters()["requests"] == 0
    by_id = make_http_client(identify_by="id", sync=True)
    by_id.identify("ann@example.com", plan="pro")
    assert server.person("ann@example.com") is not None
    assert server.person(email="ann@example.com") is None
