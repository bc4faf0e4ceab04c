"""The public ``Client``: validate a call, queue a record, return."""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any

import requests

from . import _lifecycle
from ._client_operations import OperationsMixin
from ._config import (
    DEFAULT_BLOCK_TIMEOUT,
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_QUEUE_SIZE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_RATE_LIMIT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    Config,
)
from ._credentials import check_credentials
from ._encoder import Encoder, JsonDefault
from ._errors import ValidationError
from ._records import (
    Event,
    Identify,
)
from ._results import FlushResult, Stats
from ._transport import Transport, base_url
from ._validation import (
    MAX_EVENT_NAME_BYTES,
    MAX_ID_BYTES,
    check_attributes,
    check_data,
    check_identifier,
    check_secret,
    check_text,
    check_timestamp,
)
from ._worker import WAKE_SIZE, OnError, OnSuccess, Worker

_new = tuple.__new__
_now = time.time

# Strings this short are within the byte limits whatever they contain,
# since a code point takes at most 4 bytes of UTF-8.
_SHORT_ID = MAX_ID_BYTES // 4
_SHORT_NAME = MAX_EVENT_NAME_BYTES // 4


class Client(OperationsMixin):
    """A batching Customer.io Track API client.

    Each operation checks its arguments, queues a record and returns
    True, or False when the record was dropped (the queue was full or
    the client was shut down). A background thread sends the queue in
    batches to ``/api/v2/batch``, and to v1 endpoints for the few
    operations that v2 has no form for. Delivery problems never raise
    here: they reach ``on_error``, the logs and ``stats()``.

    Args:
        site_id: The workspace's Track API site id.
        api_key: The workspace's Track API key.
        region: ``"us"`` or ``"eu"``, the region of the workspace.
        url: A base URL that replaces the region's, such as a local
            server's ``http://127.0.0.1:8123``.
        flush_interval: Seconds between sends while the queue is small.
        max_queue_size: Records held before ``on_full`` applies.
        max_batch_bytes: Largest request body, in bytes.
        request_timeout: Seconds to connect, and to wait for an answer.
        max_retries: Retries of one request after the first try.
        max_retry_time: Seconds one batch may spend on retries.
        shutdown_timeout: Seconds the exit hook may take, shared by all
            clients.
        on_full: ``"drop_newest"``, ``"drop_oldest"`` or ``"block"``.
        block_timeout: Seconds a call waits for room with ``"block"``.
        rate_limit: Requests a second at most; None for no limit.
        on_error: ``on_error(record, reason)`` for every failed or
            dropped record, called on the flush thread.
        on_success: ``on_success(records)`` for every delivered batch.
        session: A ``requests.Session`` to send with, for proxies or
            certificates.
        enabled: False to check and count calls but send nothing.
        sync: True to send each record before its call returns.
        atexit: False to leave this client out of the exit flush.
        json_default: Converts values the encoder has no type for, like
            ``json.dumps(default=...)``.
        identify_by: How to read a person id: ``"auto"`` reads
            ``cio_...`` as a cio_id and a value with ``@`` as an email;
            ``"id"``, ``"email"`` or ``"cio_id"`` fix the type.
        log_payloads: True to log request bodies at DEBUG on the
            ``cio_pipeline`` loggers; they hold your users' data.

    Raises:
        ValidationError: A setting is invalid.
    """

    def __init__(
        self,
        site_id: str,
        api_key: str,
        *,
        region: str = "us",
        url: str | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        on_full: str = "drop_newest",
        block_timeout: float = DEFAULT_BLOCK_TIMEOUT,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        on_error: OnError | None = None,
        on_success: OnSuccess | None = None,
        session: requests.Session | None = None,
        enabled: bool = True,
        sync: bool = False,
        atexit: bool = True,
        json_default: JsonDefault | None = None,
        identify_by: str = "auto",
        log_payloads: bool = False,
    ) -> None:
        self._config = Config(
            site_id=check_secret(site_id, "site_id"),
            api_key=check_secret(api_key, "api_key"),
            url=base_url(region, url),
            flush_interval=flush_interval,
            max_queue_size=max_queue_size,
            max_batch_bytes=max_batch_bytes,
            request_timeout=request_timeout,
            max_retries=max_retries,
            max_retry_time=max_retry_time,
            shutdown_timeout=shutdown_timeout,
            on_full=on_full,
            block_timeout=block_timeout,
            rate_limit=rate_limit,
            enabled=enabled,
            sync=sync,
            atexit=atexit,
            identify_by=identify_by,
            log_payloads=log_payloads,
        )
        self._region = region
        self._transport = Transport(
            self._config.url,
            self._config.site_id,
            self._config.api_key,
            request_timeout,
            session,
        )
        self._worker = Worker(
            self._config,
            self._transport,
            Encoder(json_default),
            on_error,
            on_success,
        )
        self._enqueue = self._worker.enqueue
        _lifecycle.register(self._worker)
        finalizer = weakref.finalize(self, self._worker.release)
        # At exit the exit hook flushes; the finalizer must not close the
        # worker before it runs.
        finalizer.atexit = False

    def __repr__(self) -> str:
        return (
            f"Client(site_id={self._config.site_id!r}, "
            f"url={self._config.url!r})"
        )

    @property
    def config(self) -> Config:
        """The client's settings (the API key masked in ``repr``)."""
        return self._config

    # People -------------------------------------------------------------

    def identify(self, id: str | int, **attributes: Any) -> bool:
        """Create or update the person ``id`` with ``attributes``.

        ``created_at`` and other datetimes are sent as Unix seconds.
        """
        if type(id) is not str or not 0 < len(id) <= _SHORT_ID or id.isspace():
            id = check_identifier(id, "id")
        check_attributes(attributes, "attributes")
        return self._enqueue(_new(Identify, (id, attributes, _now())))

    # Events -------------------------------------------------------------

    def track(
        self,
        customer_id: str | int,
        name: str,
        data: Mapping[str, Any] | None = None,
        id: str | None = None,
        timestamp: int | float | Any = None,
    ) -> bool:
        """Record the event ``name`` for a person.

        Args:
            customer_id: The person's id, email or ``cio_`` id.
            name: The event name, at most 100 bytes.
            data: Event data; a shallow copy is queued.
            id: A ULID to de-duplicate by; one is made when None.
            timestamp: When it happened, as a datetime or Unix seconds;
                the time of the call when None.
        """
        if (
            type(customer_id) is not str
            or not 0 < len(customer_id) <= _SHORT_ID
            or customer_id.isspace()
        ):
            customer_id = check_identifier(customer_id, "customer_id")
        if (
            type(name) is not str
            or not 0 < len(name) <= _SHORT_NAME
            or name.isspace()
        ):
            name = check_text(name, "name", MAX_EVENT_NAME_BYTES)
        if type(data) is dict:
            data = data.copy()
        elif data is not None:
            data = check_data(data, "data")
        if id is not None:
            id = check_text(id, "id", MAX_ID_BYTES)
        if timestamp is not None:
            timestamp = check_timestamp(timestamp, "timestamp")
        record = _new(
            Event, (customer_id, name, data, id, timestamp, "event", _now())
        )
        # Worker.enqueue's fast path, inlined: this is the hottest call.
        worker = self._worker
        if worker._fast:
            queue = worker._queue
            if len(queue) < worker._max_queue_size:
                queue.append(record)
                if len(queue) >= WAKE_SIZE and not worker._wake_requested:
                    worker.request_wake()
                return True
        return worker.enqueue(record)

    def backfill(
        self,
        customer_id: str | int,
        name: str,
        timestamp: int | float | Any,
        **data: Any,
    ) -> bool:
        """Record a past event; ``timestamp`` is required."""
        if timestamp is None:
            raise ValidationError(
                "timestamp is required for backfill: pass a datetime or "
                "Unix seconds"
            )
        return self.track(customer_id, name, data, timestamp=timestamp)

    def pageview(self, customer_id: str | int, page: str, **data: Any) -> bool:
        """Record a page view; ``page`` is the URL or path.

        A ``timestamp`` keyword (datetime or Unix seconds) sets when it
        happened instead of going into the data.
        """
        return self._view(customer_id, page, data, "page", "page")

    def screen(self, customer_id: str | int, name: str, **data: Any) -> bool:
        """Record a mobile screen view; ``timestamp`` as for pageview."""
        return self._view(customer_id, name, data, "screen", "name")

    def _view(
        self,
        customer_id: str | int,
        name: str,
        data: dict[str, Any],
        action: str,
        argument: str,
    ) -> bool:
        customer_id = check_identifier(customer_id, "customer_id")
        name = check_text(name, argument, MAX_EVENT_NAME_BYTES)
        timestamp = data.pop("timestamp", None)
        if timestamp is not None:
            timestamp = check_timestamp(timestamp, "timestamp")
        record = Event(
            customer_id, name, data, None, timestamp, action, _now()
        )
        return self._enqueue(record)

    # Lifecycle ----------------------------------------------------------

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Send what was queued before the call and wait for the outcome.

        Args:
            timeout: Seconds to wait at most; None waits until every
                record is settled, which the retry limits bound.

        Returns:
            Counts for the records that were queued or in flight at the
            call: delivered, failed, dropped and still pending when it
            returned. Records settled before the call are in
            ``stats()`` only.
        """
        return self._worker.flush(timeout)

    def shutdown(self, timeout: float | None = None) -> FlushResult:
        """Stop accepting records, flush within ``timeout``, stop the thread.

        Later calls return False and send nothing. Calling it again
        returns at once.
        """
        return self._worker.shutdown(timeout)

    def stats(self) -> Stats:
        """Return a snapshot of the delivery counters."""
        return self._worker.stats()

    def check_credentials(self) -> dict[str, Any]:
        """Check the site id, API key and region with the Track API.

        Sends ``GET /api/v1/accounts/region`` on the calling thread.

        Returns:
            The response body, with the workspace's ``region`` and ``url``.

        Raises:
            CredentialsError: The Track API rejected the credentials.
            RegionMismatchError: The workspace is in the other region.
            TrackAPIError: The request failed.
        """
        region = self._region if self._config.url in _REGION_URLS else None
        return check_credentials(self._transport, region)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(self._config.shutdown_timeout)


_REGION_URLS = frozenset(
    ("https://track.customer.io", "https://track-eu.customer.io")
)
