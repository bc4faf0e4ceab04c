"""What each operation puts on the wire, checked against the spec."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from cio_pipeline import Client
from cio_pipeline._operations import path_segment
from tests.conftest import InMemoryAdapter
from tests.schema import accepting_variants, check_operation, check_request

ULID_LENGTH = 26
CALL_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client(sync=True)


def only_operation(adapter: InMemoryAdapter) -> dict[str, Any]:
    operations = adapter.operations()
    assert len(operations) == 1
    check_request("/api/v2/batch", "post", {"batch": operations})
    return operations[0]


def test_identify_operation(client: Client, adapter: InMemoryAdapter) -> None:
    client.identify("user-1", email="a@example.com", created_at=CALL_TIME)
    operation = only_operation(adapter)
    check_operation("identify_person", operation)
    assert operation["identifiers"] == {"id": "user-1"}
    assert operation["attributes"] == {
        "email": "a@example.com",
        "created_at": 1714979289,
    }
    assert isinstance(operation["timestamp"], int)


@pytest.mark.parametrize(
    ("customer_id", "identifiers"),
    [
        ("user-1", {"id": "user-1"}),
        (42, {"id": "42"}),
        ("a@example.com", {"email": "a@example.com"}),
        ("cio_03000001", {"cio_id": "03000001"}),
    ],
)
def test_identifiers_guessed_from_value(
    client: Client,
    adapter: InMemoryAdapter,
    customer_id: Any,
    identifiers: dict[str, str],
) -> None:
    client.delete(customer_id)
    operation = only_operation(adapter)
    check_operation("person_delete", operation)
    assert operation["identifiers"] == identifiers


def test_identify_by_overrides_guess(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client(sync=True, identify_by="id")
    client.identify("a@example.com")
    assert only_operation(adapter)["identifiers"] == {"id": "a@example.com"}


def test_track_operation(client: Client, adapter: InMemoryAdapter) -> None:
    client.track("user-1", "purchase", {"price": 9.5}, timestamp=CALL_TIME)
    operation = only_operation(adapter)
    check_operation("person_event", operation)
    assert operation["action"] == "event"
    assert operation["name"] == "purchase"
    assert operation["attributes"] == {"price": 9.5}
    assert operation["timestamp"] == 1714979289
    assert len(operation["id"]) == ULID_LENGTH


def test_track_keeps_caller_event_id(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.track("user-1", "purchase", id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert only_operation(adapter)["id"] == "01HZZZZZZZZZZZZZZZZZZZZZZZ"


def test_event_ids_are_unique(
    client: Client, adapter: InMemoryAdapter
) -> None:
    for _ in range(50):
        client.track("user-1", "tick")
    ids = [operation["id"] for operation in adapter.operations()]
    assert len(set(ids)) == 50


def test_pageview_and_screen(client: Client, adapter: InMemoryAdapter) -> None:
    client.pageview("user-1", "/pricing", referrer="ad")
    client.screen("user-1", "Settings")
    page, screen = adapter.operations()
    check_operation("person_page", page)
    check_operation("person_screen", screen)
    assert (page["action"], page["name"]) == ("page", "/pricing")
    assert page["attributes"] == {"referrer": "ad"}
    assert (screen["action"], screen["name"]) == ("screen", "Settings")
    assert "attributes" not in screen


def test_backfill_sets_timestamp(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.backfill("user-1", "imported", 1_000_000_000, source="csv")
    operation = only_operation(adapter)
    assert operation["timestamp"] == 1_000_000_000
    assert operation["attributes"] == {"source": "csv"}


def test_add_device_operation(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.add_device(
        "user-1",
        "token-1",
        "ios",
        last_used=CALL_TIME,
        push_enabled=True,
        app_version=3,
    )
    operation = only_operation(adapter)
    check_operation("person_add_device", operation)
    assert operation["device"] == {
        "token": "token-1",
        "platform": "ios",
        "last_used": 1714979289,
        "attributes": {"push_enabled": "true", "app_version": "3"},
    }


def test_delete_device_operation(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.delete_device("user-1", "token-1")
    operation = only_operation(adapter)
    check_operation("person_delete_device", operation)
    assert operation["device"] == {"token": "token-1"}


def test_suppress_and_unsuppress(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.suppress("user-1")
    client.unsuppress("user-1")
    suppress, unsuppress = adapter.operations()
    check_operation("person_suppress", suppress)
    check_operation("person_unsuppress", unsuppress)


def test_merge_operation(client: Client, adapter: InMemoryAdapter) -> None:
    client.merge_customers("email", "a@example.com", "cio_id", "cio_abc")
    operation = only_operation(adapter)
    check_operation("person_merge", operation)
    assert operation["primary"] == {"email": "a@example.com"}
    assert operation["secondary"] == {"cio_id": "abc"}


def test_batch_passes_operations_through(
    client: Client, adapter: InMemoryAdapter
) -> None:
    operation = {
        "type": "object",
        "action": "identify",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "attributes": {"name": "Acme"},
    }
    client.batch([operation])
    sent = only_operation(adapter)
    check_operation("object_identify", sent)
    assert sent == operation


def test_anonymous_event_goes_to_v1(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.track_anonymous("anon-1", "viewed", {"page": "/"})
    (request,) = adapter.requests
    assert (request.method, request.path) == ("POST", "/api/v1/events")
    body = request.json()
    check_request("/api/v1/events", "post", body)
    assert body["anonymous_id"] == "anon-1"
    assert body["data"] == {"page": "/"}
    assert len(body["id"]) == ULID_LENGTH


def test_invite_event_has_no_anonymous_id(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.track_anonymous(None, "invited", {"recipient": "a@example.com"})
    body = adapter.requests[0].json()
    check_request("/api/v1/events", "post", body)
    assert "anonymous_id" not in body


def test_segment_calls_split_at_1000_ids(
    client: Client, adapter: InMemoryAdapter
) -> None:
    client.add_to_segment(7, [str(number) for number in range(2500)])
    client.remove_from_segment(7, [1, 2], id_type="id")
    paths = [request.url.split(":1")[-1] for request in adapter.requests]
    assert paths == [
        "/api/v1/segments/7/add_customers",
        "/api/v1/segments/7/add_customers",
        "/api/v1/segments/7/add_customers",
        "/api/v1/segments/7/remove_customers?id_type=id",
    ]
    sizes = [len(request.json()["ids"]) for request in adapter.requests]
    assert sizes == [1000, 1000, 500, 2]
    assert adapter.requests[3].json() == {"ids": ["1", "2"]}


def test_metric_goes_to_v1(client: Client, adapter: InMemoryAdapter) -> None:
    client.track_metric(
        "dlv-1", "clicked", href="https://x.test", timestamp=CALL_TIME
    )
    (request,) = adapter.requests
    assert request.path == "/api/v1/metrics"
    body = request.json()
    assert "Email" in accepting_variants("/api/v1/metrics", "post", body)
    assert body == {
        "delivery_id": "dlv-1",
        "metric": "clicked",
        "href": "https://x.test",
        "timestamp": 1714979289,
    }


def test_request_headers(client: Client, adapter: InMemoryAdapter) -> None:
    client.track("user-1", "x")
    headers = adapter.requests[0].headers
    assert (
        headers["Authorization"]
        == "Basic dGVzdC1zaXRlOnRlc3Qta2V5LTVmMWUwYw=="
    )
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("cio-pipeline/")


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("1/", "1%2F"),
        ("1 ", "1%20"),
        ("50%", "50%25"),
        ("a@b.co", "a%40b.co"),
        ("é", "%C3%A9"),
        (42, "42"),
    ],
)
def test_path_segment_is_encoded_once(value: object, segment: str) -> None:
    assert path_segment(value) == segment


def test_plain_http_warns_for_remote_hosts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    Client("s", "k", url="http://127.0.0.1:1", atexit=False).shutdown(1)
    assert "plain http" not in caplog.text
    Client("s", "k", url="http://track.example:1", atexit=False).shutdown(1)
    assert "plain http to track.example" in caplog.text
