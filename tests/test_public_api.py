"""The public surface: exports, defaults and reprs."""

from __future__ import annotations

import inspect

import cio_pipeline
from cio_pipeline import Client


def test_all_is_sorted_and_importable() -> None:
    names = cio_pipeline.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(cio_pipeline, name), name


def test_client_options_are_keyword_only() -> None:
    parameters = inspect.signature(Client).parameters
    positional = [
        name
        for name, parameter in parameters.items()
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    assert positional == ["site_id", "api_key"]
    expected = {
        "region": "us",
        "url": None,
        "flush_interval": 1.0,
        "max_queue_size": 100_000,
        "max_batch_bytes": 500_000,
        "request_timeout": 10.0,
        "max_retries": 6,
        "max_retry_time": 30.0,
        "shutdown_timeout": 3.0,
        "on_full": "drop_newest",
        "block_timeout": 1.0,
        "rate_limit": 100.0,
        "on_error": None,
        "on_success": None,
        "session": None,
        "enabled": True,
        "sync": False,
        "atexit": True,
        "json_default": None,
        "identify_by": "auto",
        "log_payloads": False,
    }
    for name, default in expected.items():
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default == default, name


def test_operations_keep_official_argument_names() -> None:
    expected = {
        "identify": ["id", "attributes"],
        "delete": ["customer_id"],
        "track": ["customer_id", "name", "data", "id", "timestamp"],
        "backfill": ["customer_id", "name", "timestamp", "data"],
        "pageview": ["customer_id", "page", "data"],
        "screen": ["customer_id", "name", "data"],
        "track_anonymous": ["anonymous_id", "name", "data", "id", "timestamp"],
        "add_device": ["customer_id", "device_id", "platform", "data"],
        "delete_device": ["customer_id", "device_id"],
        "suppress": ["customer_id"],
        "unsuppress": ["customer_id"],
        "merge_customers": [
            "primary_id_type",
            "primary_id",
            "secondary_id_type",
            "secondary_id",
        ],
        "add_to_segment": ["segment_id", "customer_ids", "id_type"],
        "remove_from_segment": ["segment_id", "customer_ids", "id_type"],
        "track_metric": ["delivery_id", "metric", "fields"],
        "batch": ["operations"],
    }
    for method, arguments in expected.items():
        parameters = list(
            inspect.signature(getattr(Client, method)).parameters
        )
        assert parameters[1:] == arguments, method


def test_repr_masks_api_key() -> None:
    client = Client("site-1", "key-secret-991", atexit=False)
    assert "key-secret-991" not in repr(client)
    assert "key-secret-991" not in repr(client.config)
    assert "site-1" in repr(client)
    client.shutdown(1)
