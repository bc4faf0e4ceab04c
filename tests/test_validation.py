"""Call-site checks: misuse raises ValidationError naming the argument."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from cio_pipeline import Client, ValidationError


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.mark.parametrize(
    ("customer_id", "message"),
    [
        (None, "customer_id is required"),
        ("", "customer_id must not be blank"),
        ("   ", "customer_id must not be blank"),
        (True, "must be a str or int"),
        (1.5, "must be a str or int, got float"),
        (-3, "must not be negative"),
        ("x" * 151, "151 bytes in UTF-8"),
        ("é" * 76, "152 bytes in UTF-8"),
    ],
)
def test_track_rejects_bad_customer_id(
    client: Client, customer_id: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        client.track(customer_id, "signed_up")


def test_validation_error_is_value_error() -> None:
    assert issubclass(ValidationError, ValueError)


def test_ids_at_the_limit_pass(client: Client) -> None:
    assert client.track("x" * 150, "signed_up")
    assert client.track("é" * 75, "signed_up")
    assert client.track(0, "signed_up")
    assert client.identify(12345, plan="pro")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name must not be blank"),
        (" ", "name must not be blank"),
        (None, "name must be a str"),
        ("n" * 101, "101 bytes"),
    ],
)
def test_track_rejects_bad_event_name(
    client: Client, name: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        client.track("user-1", name)


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        (1_700_000_000_000, "looks like milliseconds"),
        ("2024-01-01", "must be a datetime or Unix seconds"),
        (-1, "at or after 1970"),
        (float("nan"), "at or after 1970"),
        (True, "must be a datetime or Unix seconds"),
    ],
)
def test_track_rejects_bad_timestamp(
    client: Client, timestamp: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        client.track("user-1", "signed_up", timestamp=timestamp)


def test_track_accepts_datetime_and_seconds(client: Client) -> None:
    assert client.track("u", "e", timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    assert client.track("u", "e", timestamp=1_700_000_000)
    assert client.track("u", "e", timestamp=1_700_000_000.5)


def test_track_rejects_data_that_is_not_a_dict(client: Client) -> None:
    with pytest.raises(ValidationError, match="data must be a dict"):
        client.track("user-1", "signed_up", data=[1, 2])  # type: ignore[arg-type]


def test_add_device_rejects_unknown_platform(client: Client) -> None:
    with pytest.raises(ValidationError, match="'ios', 'android'"):
        client.add_device("user-1", "token-1", "windows")


def test_merge_rejects_unknown_id_type(client: Client) -> None:
    with pytest.raises(ValidationError, match="primary_id_type"):
        client.merge_customers("phone", "1", "id", "2")


def test_identify_rejects_too_many_attributes(client: Client) -> None:
    attributes = {f"a{number}": number for number in range(301)}
    with pytest.raises(ValidationError, match="at most 300"):
        client.identify("user-1", **attributes)


def test_identify_rejects_long_attribute_name(client: Client) -> None:
    with pytest.raises(ValidationError, match="attribute name"):
        client.identify("user-1", **{"a" * 151: 1})


def test_backfill_requires_timestamp(client: Client) -> None:
    with pytest.raises(ValidationError, match="timestamp is required"):
        client.backfill("user-1", "imported", None)


def test_track_anonymous_needs_id_or_recipient(client: Client) -> None:
    with pytest.raises(ValidationError, match="recipient"):
        client.track_anonymous(None, "invited", {"x": 1})
    assert client.track_anonymous(None, "invited", {"recipient": "a@b.co"})
    assert client.track_anonymous("anon-1", "viewed")


def test_segment_calls_check_arguments(client: Client) -> None:
    with pytest.raises(ValidationError, match="segment_id"):
        client.add_to_segment(0, ["a"])
    with pytest.raises(ValidationError, match="must not be empty"):
        client.add_to_segment(3, [])
    with pytest.raises(ValidationError, match="list of ids"):
        client.add_to_segment(3, "abc")


def test_batch_checks_operation_shape(client: Client) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        client.batch([])
    with pytest.raises(ValidationError, match=r"operations\[0\]\['type'\]"):
        client.batch([{"type": "thing", "action": "identify"}])
    with pytest.raises(ValidationError, match="'action'"):
        client.batch([{"type": "person", "action": "fly"}])
    with pytest.raises(ValidationError, match="identifiers"):
        client.batch([{"type": "person", "action": "delete"}])
    with pytest.raises(ValidationError, match="exactly one"):
        client.batch([{"type": "person", "action": "merge", "primary": {}}])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"region": "ap"}, "region must be 'us' or 'eu'"),
        ({"flush_interval": 0}, "flush_interval must be a positive"),
        ({"max_queue_size": -1}, "max_queue_size must be a positive"),
        ({"max_batch_bytes": 10}, "max_batch_bytes must be an int"),
        ({"on_full": "explode"}, "on_full must be one of"),
        ({"identify_by": "phone"}, "identify_by must be one of"),
        ({"max_retries": -1}, "max_retries must be zero or more"),
    ],
)
def test_client_rejects_bad_options(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Client("site", "key", atexit=False, **options)


def test_client_rejects_credentials_in_url() -> None:
    with pytest.raises(ValidationError, match="must not contain credentials"):
        Client("site", "key", url="http://user:secret@127.0.0.1:1")


def test_client_rejects_blank_credentials() -> None:
    with pytest.raises(ValidationError, match="site_id must not be blank"):
        Client("", "key")
    with pytest.raises(ValidationError, match="api_key must be a str"):
        Client("site", None)  # type: ignore[arg-type]


def test_credentials_never_echoed_in_errors() -> None:
    with pytest.raises(ValidationError) as raised:
        Client("site", b"secret-key-bytes")  # type: ignore[arg-type]
    assert "secret-key-bytes" not in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        Client("site", "secret-key-long" * 100)
    assert "secret-key-long" not in str(raised.value)


def test_int_id_over_limit_is_rejected(client: Client) -> None:
    assert client.identify(10**149)
    with pytest.raises(ValidationError, match="at most 150 bytes"):
        client.identify(10**150)
