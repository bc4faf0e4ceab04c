"""One adapter per benchmarked library, all pointed at the counting sink.

Each adapter exposes ``call(customer_id, name, properties)``: the library's
own tracking method, bound once, or the thinnest wrapper its signature
allows, so the caller-cost figures time the library and not the harness.
Settings that differ from a library's defaults are listed in ``SETTINGS``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from _floor import FloorPipeline

# Called with (event count, reason) whenever a library reports lost events
# to the application.
LostReporter = Callable[[int, str], None]
Call = Callable[[str, str, dict[str, Any]], object]

SETTINGS = {
    "cio_pipeline": "max_queue_size=200000, defaults otherwise",
    "cio_pipeline-pure": "same, with orjson blocked before import",
    "segment": "max_queue_size=200000, defaults (100 events a batch)",
    "posthog": "max_queue_size=200000, defaults (flush_at=100)",
    "cdp": "max_queue_size=200000, defaults (100 events a batch)",
    "customerio": "retries=3 (default) mounted for http, one request a call",
    "floor": "deque + one thread + orjson + http.client, 2000 a batch",
}

LIBRARIES = tuple(SETTINGS)


class Adapter:
    """Common interface over one library's client."""

    call: Call
    supports_budget = False
    queued = True

    def drain(self, timeout: float) -> None:
        """Ask the library to send what it queued, against a healthy sink."""
        self.flush()

    def flush(self) -> object:
        """Call the library's flush with its default arguments."""
        raise NotImplementedError

    def flush_budget(self, seconds: float) -> object:
        """Call flush with an explicit time budget, where supported."""
        raise NotImplementedError

    def shutdown(self) -> object:
        """Call the library's shutdown with its default arguments."""
        raise NotImplementedError


class OursAdapter(Adapter):
    """cio_pipeline.Client."""

    supports_budget = True

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        from cio_pipeline import Client

        def on_error(record: object, reason: str) -> None:
            lost(1, str(reason))

        self.client = Client(
            "bench-site",
            "bench-key",
            url=url,
            max_queue_size=queue_size,
            on_error=on_error,
        )
        self.call = self.client.track

    def drain(self, timeout: float) -> None:
        """Flush with a budget so a slow sink cannot hang the warm-up."""
        self.client.flush(timeout=timeout)

    def flush(self) -> object:
        """Call ``flush()``."""
        return _describe(self.client.flush())

    def flush_budget(self, seconds: float) -> object:
        """Call ``flush(timeout=seconds)``."""
        return _describe(self.client.flush(timeout=seconds))

    def shutdown(self) -> object:
        """Call ``shutdown()``."""
        return _describe(self.client.shutdown())


class SegmentAdapter(Adapter):
    """segment.analytics.Client; the CDP client shares its interface."""

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        from segment.analytics.client import Client

        self.client = Client(
            write_key="bench-key",
            host=url,
            max_queue_size=queue_size,
            on_error=_batch_reporter(lost),
        )
        # track(user_id, event, properties) matches the call order.
        self.call = self.client.track

    def flush(self) -> object:
        """Call ``flush()``: waits until the queue is processed."""
        return self.client.flush()

    def shutdown(self) -> object:
        """Call ``shutdown()``: flush, then stop the consumer."""
        return self.client.shutdown()


class CdpAdapter(SegmentAdapter):
    """customerio.analytics.Client (Customer.io's CDP batching client)."""

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        from customerio.analytics.client import Client

        self.client = Client(
            write_key="bench-key",
            host=url,
            max_queue_size=queue_size,
            on_error=_batch_reporter(lost),
        )
        self.call = self.client.track


class PosthogAdapter(Adapter):
    """posthog.Client."""

    supports_budget = True

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        from posthog import Client

        self.client = Client(
            "phc_bench",
            host=url,
            max_queue_size=queue_size,
            on_error=_batch_reporter(lost),
        )
        capture = self.client.capture

        def call(customer_id: str, name: str, properties: Any) -> object:
            return capture(
                name, distinct_id=customer_id, properties=properties
            )

        self.call = call

    def drain(self, timeout: float) -> None:
        """Flush with a budget."""
        self.client.flush(timeout_seconds=timeout)

    def flush(self) -> object:
        """Call ``flush()``; its default budget is 10 seconds."""
        return self.client.flush()

    def flush_budget(self, seconds: float) -> object:
        """Call ``flush(timeout_seconds=seconds)``."""
        return self.client.flush(timeout_seconds=seconds)

    def shutdown(self) -> object:
        """Call ``shutdown()``."""
        return self.client.shutdown()


class SyncAdapter(Adapter):
    """customerio.CustomerIO, the synchronous Track API v1 client."""

    queued = False

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        from customerio import CustomerIO, CustomerIOException

        self.client = CustomerIO("bench-site", "bench-key")
        # The client builds https:// URLs only. Point it at the plain-HTTP
        # sink and give http:// the same retrying keep-alive adapter.
        self.client.base_url = url.rstrip("/") + "/api/v1"
        session = self.client.http
        session.mount("http://", session.get_adapter("https://localhost"))
        track = self.client.track

        def call(customer_id: str, name: str, properties: Any) -> object:
            try:
                return track(customer_id, name, properties)
            except CustomerIOException:
                lost(1, "raised")
                return None

        self.call = call

    def drain(self, timeout: float) -> None:
        """Do nothing: each call returned after its response."""

    def flush(self) -> object:
        """Close the session; the client has no queue to flush."""
        self.client.close()
        return None

    def shutdown(self) -> object:
        """Close the session."""
        self.client.close()
        return None


class FloorAdapter(Adapter):
    """Reference pipeline: the least work a batching client can do."""

    supports_budget = True

    def __init__(self, url: str, queue_size: int, lost: LostReporter) -> None:
        self.pipeline = FloorPipeline(url, lost)
        self.call = self.pipeline.track

    def drain(self, timeout: float) -> None:
        """Wait for the pipeline to send what is queued."""
        self.pipeline.flush(timeout)

    def flush(self) -> object:
        """Flush with a 2-second budget, the pipeline's default."""
        return self.pipeline.flush(2.0)

    def flush_budget(self, seconds: float) -> object:
        """Flush within ``seconds``."""
        return self.pipeline.flush(seconds)

    def shutdown(self) -> object:
        """Flush for up to 2 seconds and report what remains as lost."""
        return self.pipeline.shutdown(2.0)


def make_adapter(
    library: str, url: str, queue_size: int, lost: LostReporter
) -> Adapter:
    """Build the adapter for ``library`` (a key of ``SETTINGS``)."""
    if library == "cio_pipeline-pure":
        # Blocks the optional fast encoder so the pure-Python path runs.
        sys.modules["orjson"] = None  # type: ignore[assignment]
        library = "cio_pipeline"
    classes: dict[str, Callable[[str, int, LostReporter], Adapter]] = {
        "cio_pipeline": OursAdapter,
        "segment": SegmentAdapter,
        "posthog": PosthogAdapter,
        "cdp": CdpAdapter,
        "customerio": SyncAdapter,
        "floor": FloorAdapter,
    }
    return classes[library](url, queue_size, lost)


def _batch_reporter(
    lost: LostReporter,
) -> Callable[[Exception, list[Any]], None]:
    def on_error(error: Exception, batch: list[Any]) -> None:
        lost(len(batch), type(error).__name__)

    return on_error


def _describe(result: object) -> object:
    import attrs

    if attrs.has(type(result)):
        return attrs.asdict(result)  # type: ignore[arg-type]
    return repr(result)


def thread_names() -> list[str]:
    """Return the names of the live threads, for the report."""
    return sorted(thread.name for thread in threading.enumerate())
