"""Delivery through the flush thread, with an in-memory transport."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cio_pipeline import Client, Reason, Record
from tests.conftest import InMemoryAdapter, SentRequest

Failures = list[tuple[Record, Reason]]


def collect_failures() -> tuple[Failures, Callable[[Record, Reason], None]]:
    failures: Failures = []

    def on_error(record: Record, reason: Reason) -> None:
        failures.append((record, reason))

    return failures, on_error


def answer(status: int, body: Any = None, **headers: str) -> Any:
    encoded = json.dumps({} if body is None else body).encode()
    return status, headers, encoded


def test_track_delivers_in_batches(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client(max_batch_bytes=20_000)
    for number in range(3000):
        assert client.track(f"user-{number % 7}", "tick", {"n": number})
    result = client.flush(timeout=10)
    # Records the thread sent before flush() are not in its result.
    assert result.pending == 0
    assert client.stats().delivered == 3000
    assert result.pending == 0
    sizes = [len(request.body) for request in adapter.requests]
    assert len(sizes) > 10
    assert max(sizes) <= 20_000
    numbers = [op["attributes"]["n"] for op in adapter.operations()]
    assert numbers == list(range(3000))


def test_batch_size_is_decided_by_bytes(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client()
    for number in range(5000):
        client.track("user-1", "tick", {"n": number})
    client.flush(timeout=10)
    counts = [len(request.operations) for request in adapter.requests]
    assert max(counts) > 1000


def test_oversized_operation_fails_alone(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "small")
    client.track("user-1", "big", {"blob": "x" * 40_000})
    client.track("user-1", "small")
    result = client.flush(timeout=5)
    assert (result.delivered, result.failed) == (2, 1)
    assert [reason for _, reason in failures] == ["too_large"]
    assert failures[0][0].name == "big"  # type: ignore[union-attr]
    assert [op["name"] for op in adapter.operations()] == ["small", "small"]


def test_unencodable_value_fails_alone(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "ok")
    client.track("user-1", "bad", {"value": object()})
    result = client.flush(timeout=5)
    assert (result.delivered, result.failed) == (1, 1)
    assert failures[0][1] == "unencodable"
    assert "object" in failures[0][1].detail


def test_partial_answer_fails_listed_operations(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    errors = [{"batch_index": 1, "reason": "invalid", "field": "name"}]
    adapter.handler = lambda request: answer(207, {"errors": errors})
    failures, on_error = collect_failures()
    delivered: list[Record] = []
    client = make_client(on_error=on_error, on_success=delivered.extend)
    for name in ("a", "b", "c"):
        client.track("user-1", name)
    result = client.flush(timeout=5)
    assert (result.delivered, result.failed) == (2, 1)
    assert [record.name for record in delivered] == ["a", "c"]  # type: ignore[union-attr]
    assert failures[0][1] == "rejected"
    assert "invalid name" in failures[0][1].detail
    assert len(adapter.requests) == 1


def test_413_splits_until_the_bad_operation_fails(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    def reject_poison(request: SentRequest) -> Any:
        if b"poison" in request.body:
            return answer(413)
        return answer(200)

    adapter.handler = reject_poison
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    for number in range(8):
        name = "poison" if number == 5 else f"ok-{number}"
        client.track("user-1", name)
    result = client.flush(timeout=5)
    assert (result.delivered, result.failed) == (7, 1)
    assert failures[0][1] == "too_large"
    delivered = [
        op["name"] for op in adapter.operations() if op["name"] != "poison"
    ]
    assert delivered.count("ok-0") >= 1
    accepted = {
        op["name"]
        for request in adapter.requests
        if b"poison" not in request.body
        for op in request.operations
    }
    assert accepted == {f"ok-{n}" for n in range(8) if n != 5}


def test_unauthorized_fails_without_retry_and_logs_once(
    make_client: Callable[..., Client],
    adapter: InMemoryAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter.handler = lambda request: answer(401, {"meta": {"error": "no"}})
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    for _ in range(3):
        client.track("user-1", "x")
        client.flush(timeout=5)
    assert len(adapter.requests) == 3
    assert [reason for _, reason in failures] == ["unauthorized"] * 3
    assert client.stats().retried == 0
    credential_errors = [
        record for record in caplog.records if "HTTP 401" in record.message
    ]
    assert len(credential_errors) == 1


def test_bad_request_fails_without_retry(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(
        400, {"errors": [{"message": "bad"}]}
    )
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "x")
    assert client.flush(timeout=5).failed == 1
    assert failures[0][1] == "rejected"
    assert len(adapter.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_status_is_retried(
    make_client: Callable[..., Client], adapter: InMemoryAdapter, status: int
) -> None:
    statuses = [status, status, 200]
    adapter.handler = lambda request: answer(
        statuses.pop(0), **{"Retry-After": "0"}
    )
    client = make_client()
    client.track("user-1", "x")
    result = client.flush(timeout=10)
    assert result.delivered == 1
    assert len(adapter.requests) == 3
    assert client.stats().retried == 2


def test_retries_stop_after_max_retries(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(503, **{"Retry-After": "0"})
    failures, on_error = collect_failures()
    client = make_client(max_retries=2, on_error=on_error)
    client.track("user-1", "x")
    result = client.flush(timeout=10)
    assert result.failed == 1
    assert len(adapter.requests) == 3
    assert failures[0][1] == "retries_exhausted"
    assert "HTTP 503" in failures[0][1].detail


def test_retry_after_is_obeyed(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    moments: list[float] = []

    def throttle_once(request: SentRequest) -> Any:
        moments.append(time.monotonic())
        if len(moments) == 1:
            return answer(429, **{"Retry-After": "0.4"})
        return answer(200)

    adapter.handler = throttle_once
    client = make_client()
    client.track("user-1", "x")
    assert client.flush(timeout=5).delivered == 1
    assert moments[1] - moments[0] >= 0.35


def test_retry_after_is_clamped_to_time_left(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(429, **{"Retry-After": "3600"})
    client = make_client(max_retry_time=0.3)
    client.track("user-1", "x")
    started = time.monotonic()
    result = client.flush(timeout=10)
    assert result.failed == 1
    assert time.monotonic() - started < 3


def test_flush_returns_on_time_during_retries(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(503)
    client = make_client(max_retry_time=60, max_retries=100)
    for _ in range(10):
        client.track("user-1", "x")
    started = time.monotonic()
    result = client.flush(timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 2
    assert result.pending == 10
    started = time.monotonic()
    result = client.shutdown(timeout=0.5)
    assert time.monotonic() - started < 2
    assert result.pending == 10
    assert client.stats().pending == 10


def test_records_keep_call_order_with_v1(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client()
    client.identify("user-1", plan="pro")
    client.add_to_segment(3, ["user-1"])
    client.track("user-1", "after")
    client.flush(timeout=5)
    paths = [request.path for request in adapter.requests]
    assert paths == [
        "/api/v2/batch",
        "/api/v1/segments/3/add_customers",
        "/api/v2/batch",
    ]


def test_callbacks_that_raise_do_not_stop_delivery(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("callback bug")

    client = make_client(on_success=explode, on_error=explode)
    client.track("user-1", "x", {"bad": object()})
    client.track("user-1", "y")
    assert client.flush(timeout=5).delivered == 1
    client.track("user-1", "z")
    assert client.flush(timeout=5).delivered == 1


def test_flush_inside_callback_returns_at_once(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    results = []
    holder: list[Client] = []

    def on_success(records: list[Record]) -> None:
        results.append(holder[0].flush(timeout=30))

    client = make_client(on_success=on_success)
    holder.append(client)
    client.track("user-1", "x")
    started = time.monotonic()
    assert client.flush(timeout=10).delivered == 1
    assert time.monotonic() - started < 5
    assert len(results) == 1


def test_calls_after_shutdown_are_dropped(
    make_client: Callable[..., Client],
    adapter: InMemoryAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "before")
    assert client.shutdown(timeout=5).delivered == 1
    thread_count = threading.active_count()
    assert not client.track("user-1", "after")
    assert not client.identify("user-1")
    assert client.stats().dropped == {"shutdown": 2}
    assert threading.active_count() == thread_count
    assert [reason for _, reason in failures] == ["shutdown", "shutdown"]
    warnings = [r for r in caplog.records if "after shutdown" in r.message]
    assert len(warnings) == 1
    assert client.shutdown(timeout=1).pending == 0


def test_full_queue_drops_newest(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    release = threading.Event()
    adapter.handler = lambda request: (release.wait(10), answer(200))[1]
    failures, on_error = collect_failures()
    client = make_client(max_queue_size=5, on_error=on_error)
    client.track("user-1", "first")
    deadline = time.monotonic() + 5
    while not adapter.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    accepted = [client.track("user-1", f"n{n}") for n in range(8)]
    assert accepted == [True] * 5 + [False] * 3
    release.set()
    client.flush(timeout=5)
    stats = client.stats()
    assert stats.dropped == {"queue_full": 3}
    assert stats.delivered == 6
    assert [reason for _, reason in failures] == ["queue_full"] * 3


def test_full_queue_drops_oldest(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    release = threading.Event()
    adapter.handler = lambda request: (release.wait(10), answer(200))[1]
    failures, on_error = collect_failures()
    client = make_client(
        max_queue_size=3, on_full="drop_oldest", on_error=on_error
    )
    client.track("user-1", "first")
    deadline = time.monotonic() + 5
    while not adapter.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    for number in range(5):
        assert client.track("user-1", f"n{number}")
    release.set()
    client.flush(timeout=5)
    names = [op["name"] for op in adapter.operations()]
    assert names == ["first", "n2", "n3", "n4"]
    assert client.stats().dropped == {"evicted": 2}
    assert [record.name for record, _ in failures] == ["n0", "n1"]  # type: ignore[union-attr]
    stats = client.stats()
    assert stats.enqueued == stats.delivered + stats.dropped["evicted"]


def test_full_queue_blocks_until_timeout(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    release = threading.Event()
    adapter.handler = lambda request: (release.wait(10), answer(200))[1]
    client = make_client(max_queue_size=2, on_full="block", block_timeout=0.2)
    client.track("user-1", "first")
    deadline = time.monotonic() + 5
    while not adapter.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.track("user-1", "a")
    assert client.track("user-1", "b")
    started = time.monotonic()
    assert not client.track("user-1", "c")
    assert time.monotonic() - started >= 0.15
    assert client.stats().dropped == {"block_timeout": 1}
    release.set()
    assert client.track("user-1", "d")
    client.flush(timeout=5)
    names = [op["name"] for op in adapter.operations()]
    assert names == ["first", "a", "b", "d"]


def test_disabled_client_sends_nothing(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client(enabled=False)
    assert client.track("user-1", "x")
    assert client.flush(timeout=1).pending == 0
    assert adapter.requests == []
    assert client.stats().dropped == {"disabled": 1}


def test_sync_client_sends_before_returning(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client(sync=True)
    client.track("user-1", "x")
    assert len(adapter.requests) == 1
    assert client.stats().delivered == 1
    assert client._worker._thread is None


def test_stats_add_up(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    errors = [{"batch_index": 0, "reason": "invalid"}]
    adapter.handler = lambda request: answer(207, {"errors": errors})
    client = make_client()
    for number in range(10):
        client.track("user-1", f"n{number}")
        client.flush(timeout=5)
    stats = client.stats()
    assert stats.enqueued == 10
    assert stats.failed == 10
    assert stats.delivered == 0
    assert stats.pending == 0
    assert stats.batches_sent == 10
    assert stats.bytes_sent == sum(len(r.body) for r in adapter.requests)


def test_error_in_sending_fails_records_and_thread_survives(
    make_client: Callable[..., Client],
    adapter: InMemoryAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def crash_once(request: SentRequest) -> Any:
        calls.append(request)
        if len(calls) == 1:
            raise KeyError("adapter bug")
        return answer(200)

    adapter.handler = crash_once
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "x")
    assert client.flush(timeout=5).failed == 1
    assert failures[0][1] == "internal_error"
    client.track("user-1", "y")
    assert client.flush(timeout=5).delivered == 1
    assert any(r.levelno == logging.ERROR for r in caplog.records)


@pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnhandledThreadExceptionWarning"
)
def test_dead_thread_is_restarted(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    def kill_thread(records: list[Record]) -> None:
        raise SystemExit

    client = make_client(on_success=kill_thread)
    client.track("user-1", "x")
    client.flush(timeout=5)
    thread = client._worker._thread
    assert thread is not None
    thread.join(5)
    assert not thread.is_alive()
    client.track("user-1", "y")
    assert client.flush(timeout=5).delivered == 1
    assert client._worker._thread is not thread


def test_rate_limit_spaces_requests(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client(rate_limit=20)
    for number in range(30):
        client.track_anonymous(f"anon-{number}", "visit")
    started = time.monotonic()
    assert client.flush(timeout=10).delivered == 30
    # 20 go out at once, then one every 50 ms.
    assert time.monotonic() - started >= 0.4


def test_payloads_logged_only_on_request(
    make_client: Callable[..., Client],
    adapter: InMemoryAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="cio_pipeline")
    quiet = make_client()
    quiet.track("user-1", "marker-quiet-5521")
    quiet.flush(timeout=5)
    assert "marker-quiet-5521" not in caplog.text
    assert "HTTP 200" in caplog.text
    loud = make_client(log_payloads=True)
    loud.track("user-1", "marker-loud-5522")
    loud.flush(timeout=5)
    assert "marker-loud-5522" in caplog.text


@pytest.mark.parametrize("status", [403, 404, 409, 422])
def test_other_client_errors_fail_without_retry(
    make_client: Callable[..., Client], adapter: InMemoryAdapter, status: int
) -> None:
    adapter.handler = lambda request: answer(status, {"meta": {"error": "no"}})
    failures, on_error = collect_failures()
    client = make_client(on_error=on_error)
    client.track("user-1", "x")
    assert client.flush(timeout=5).failed == 1
    assert failures[0][1] == f"http_{status}"
    assert f"HTTP {status}: no" in failures[0][1].detail
    assert len(adapter.requests) == 1


def test_shutdown_twice_returns_at_once(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    client = make_client()
    client.track("user-1", "x")
    assert client.shutdown(timeout=5).delivered == 1
    started = time.monotonic()
    assert client.shutdown(timeout=5) == client.shutdown()
    assert time.monotonic() - started < 1


def test_flush_returns_after_callbacks_ran(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    seen: list[Record] = []

    def slow_success(records: list[Record]) -> None:
        time.sleep(0.2)
        seen.extend(records)

    client = make_client(on_success=slow_success)
    client.track("user-1", "x")
    assert client.flush(timeout=5).delivered == 1
    assert len(seen) == 1


def test_intercept_sees_each_queued_record(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    seen: list[Record] = []
    client = make_client()
    client._worker.set_intercept(lambda record: seen.append(record) or True)
    client.track("user-1", "kept")
    client.identify("user-1")
    assert [type(record).__name__ for record in seen] == ["Event", "Identify"]
    client._worker.set_intercept(lambda record: False)
    assert client.track("user-1", "held_back")
    client.flush(timeout=5)
    assert [op["action"] for op in adapter.operations()] == [
        "event",
        "identify",
    ]


def test_calls_after_timed_out_shutdown_return_at_once(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(503)
    client = make_client(max_retry_time=60, max_retries=100)
    for _ in range(10):
        client.track("user-1", "x")
    assert client.shutdown(timeout=0.3).pending == 10
    started = time.monotonic()
    assert client.shutdown().pending == 10
    assert client.flush().pending == 10
    assert time.monotonic() - started < 1


def test_shutdown_in_other_thread_ends_unbounded_flush(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    adapter.handler = lambda request: answer(503)
    client = make_client(max_retry_time=60, max_retries=100)
    for _ in range(10):
        client.track("user-1", "x")
    results = []
    flusher = threading.Thread(target=lambda: results.append(client.flush()))
    flusher.start()
    time.sleep(0.1)
    client.shutdown(timeout=0.3)
    flusher.join(5)
    assert not flusher.is_alive()
    assert results[0].pending == 10


def test_shutdown_from_callback_delivers_the_rest(
    make_client: Callable[..., Client],
    adapter: InMemoryAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder: list[Client] = []

    def stop_on_first(records: list[Record]) -> None:
        holder[0].shutdown(timeout=5)

    client = make_client(on_success=stop_on_first, max_batch_bytes=2000)
    holder.append(client)
    for number in range(100):
        client.track("user-1", "x", {"n": number})
    deadline = time.monotonic() + 5
    while client.stats().pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.stats().delivered == 100
    assert not client.track("user-1", "late")
    assert "timed out" not in caplog.text


def test_shutdown_reports_unsent_records(
    make_client: Callable[..., Client], adapter: InMemoryAdapter
) -> None:
    release = threading.Event()

    def first_hangs(request: SentRequest) -> Any:
        release.wait(0.6)
        return answer(503)

    adapter.handler = first_hangs
    failures, on_error = collect_failures()
    client = make_client(
        on_error=on_error, max_batch_bytes=3000, max_retry_time=60
    )
    for number in range(100):
        client.track("user-1", "x", {"n": number})
    result = client.shutdown(timeout=0.3)
    assert result.pending == 100
    release.set()
    deadline = time.monotonic() + 5
    while len(failures) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    reasons = [reason for _, reason in failures]
    assert reasons == ["shutdown_timeout"] * 100
    names = sorted(record.data["n"] for record, _ in failures)  # type: ignore[union-attr]
    assert names == list(range(100))
    stats = client.stats()
    assert stats.pending == 100
    assert stats.failed == 0
