"""LocalTrackAPI: a local server that behaves like the Track API."""

from __future__ import annotations

import copy
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ._dispatch import MODES, Credentials, Dispatcher
from ._events import ANONYMOUS_ID, event_view
from ._faults import Faults
from ._http import Handler
from ._listener import Listener
from ._queries import (
    counters_view,
    find_person,
    objects_view,
    person_view,
    segments_view,
    snapshot,
)
from ._request_log import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, RequestLog
from ._state import Store
from ._v1 import REGION_URLS, Settings

logger = logging.getLogger("cio_pipeline.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_SITE_ID = "site"
DEFAULT_API_KEY = "key"


class LocalTrackAPI:
    """A local HTTP server that accepts and stores Track API requests.

    Start it as a context manager (`with LocalTrackAPI() as server:`) or
    with `start()` and `stop()`. Point a client at `server.url`.

    Args:
        site_id: the site id that Basic auth must present.
        api_key: the Track API key that Basic auth must present.
        host: the address to bind; 127.0.0.1 by default.
        port: the port to bind; 0 picks a free one.
        region: "us" or "eu", as returned by /api/v1/accounts/region.
        environment_id: the workspace id that the region look-up returns.
        mode: "full" validates and stores every operation; "count" only
            checks credentials and counts operations, for benchmarks.
        seed: seeds the random choice of share-based faults.
        latency: seconds added before every answer.
        faults: fault settings applied at start, in the form that
            `Faults.configure` accepts.
        certfile: a PEM certificate chain; with `keyfile` the server
            speaks HTTPS only.
        keyfile: the PEM private key for `certfile`.
        request_log_size: how many requests the log keeps.
        request_log_bytes: how many body bytes the log keeps at most.

    Raises:
        ValueError: on an invalid option.
    """

    def __init__(
        self,
        site_id: str = DEFAULT_SITE_ID,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        region: str = "us",
        environment_id: int = 1,
        mode: str = "full",
        seed: int | None = None,
        latency: float = 0.0,
        faults: dict[str, Any] | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        request_log_size: int = DEFAULT_MAX_ENTRIES,
        request_log_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        _check_options(
            site_id=site_id,
            api_key=api_key,
            port=port,
            region=region,
            mode=mode,
            certfile=certfile,
            keyfile=keyfile,
        )
        self.site_id = site_id
        self.api_key = api_key
        self.host = host
        self._requested_port = port
        self.mode = mode
        self.region = region
        self._ssl_context = _ssl_context(certfile, keyfile)
        self._store = Store()
        self._log = RequestLog(request_log_size, request_log_bytes)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._listener: Listener | None = None
        self.faults = Faults(seed, on_refuse=self._on_refuse)
        self.faults.latency = latency
        if faults:
            self.faults.configure(faults)

        self._dispatcher = Dispatcher(
            store=self._store,
            faults=self.faults,
            log=self._log,
            credentials=Credentials(site_id, api_key),
            settings=Settings(region, environment_id),
            mode=mode,
            stopping=self._stopping,
        )

    def __repr__(self) -> str:
        where = self.url if self._listener is not None else "not started"
        return f"<LocalTrackAPI {where} site_id={self.site_id!r} {self.mode}>"

    # Lifecycle

    def start(self) -> LocalTrackAPI:
        """Bind the port and start serving in background threads.

        Returns:
            The server itself, so that `server = LocalTrackAPI().start()`.

        Raises:
            RuntimeError: if the server was already started.
            OSError: if the port cannot be bound.
        """
        if self._listener is not None:
            raise RuntimeError("this LocalTrackAPI was already started")

        self._listener = Listener(
            self.host, self._requested_port, self._serve, self._ssl_context
        )
        self._listener.start()
        if self.faults.refusing:
            self._listener.pause()

        logger.debug("local Track API listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving: release hung requests and close every connection.

        Returns within a few seconds even while requests hang; calling it
        again does nothing.
        """
        if self._listener is None or self._stopping.is_set():
            return

        self._stopping.set()
        self.faults.release()
        self._listener.stop()
        self._stopped.set()
        logger.debug("local Track API on %s stopped", self.url)

    def serve_forever(self) -> None:
        """Serve until `stop()` is called or KeyboardInterrupt arrives."""
        if self._listener is None:
            self.start()

        try:
            while not self._stopped.wait(1.0):
                pass  # waking each second lets Ctrl+C through on every OS
        except KeyboardInterrupt:
            logger.debug("interrupted; stopping the local Track API")
        finally:
            self.stop()

    def __enter__(self) -> LocalTrackAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; raises RuntimeError before `start()`."""
        if self._listener is None:
            raise RuntimeError("start the server before reading its port")

        return self._listener.port

    @property
    def url(self) -> str:
        """The base URL, such as http://127.0.0.1:54321 (no trailing /)."""
        scheme = "https" if self._ssl_context else "http"
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = f"[{host}]"

        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server was started and has not stopped."""
        return self._listener is not None and not self._stopping.is_set()

    def _serve(self, conn: socket.socket, address: Any) -> None:
        Handler(conn, address, self._dispatcher)

    def _on_refuse(self, refusing: bool) -> None:
        if self._listener is None:
            return

        if refusing:
            self._listener.pause()
        else:
            self._listener.resume()

    # State

    def person(
        self,
        id: str | None = None,
        *,
        email: str | None = None,
        cio_id: str | None = None,
        phone: str | None = None,
    ) -> dict[str, Any] | None:
        """Return a copy of one profile, or None if there is none.

        Pass exactly one identifier. The copy contains cio_id, id, email,
        phone, created_at, attributes, devices, relationships, segments
        and event_count.
        """
        with self._store.lock:
            found = find_person(self._store, id, email, cio_id, phone)
            return None if found is None else person_view(found)

    def people(self) -> list[dict[str, Any]]:
        """Return copies of every profile, oldest first."""
        with self._store.lock:
            return [person_view(person) for person in self._store.people]

    def events(
        self,
        id: str | None = None,
        *,
        email: str | None = None,
        cio_id: str | None = None,
        phone: str | None = None,
    ) -> list[dict[str, Any]]:
        """Return copies of a person's events (empty if no such person).

        Each event has name, type ("event", "page" or "screen"), data,
        timestamp (Unix seconds) and id (None when sent without one).
        """
        with self._store.lock:
            found = find_person(self._store, id, email, cio_id, phone)
            events = [] if found is None else found.events
            return [event_view(event) for event in events]

    def anonymous_events(
        self, anonymous_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Return anonymous and invite events not yet merged into a person.

        Args:
            anonymous_id: only events with this anonymous_id; None for all.
                Invite events have an anonymous_id of None.
        """
        with self._store.lock:
            return [
                event_view(event, anonymous=True)
                for event in self._store.anonymous_events
                if anonymous_id is None or event[ANONYMOUS_ID] == anonymous_id
            ]

    def devices(
        self,
        id: str | None = None,
        *,
        email: str | None = None,
        cio_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Return a person's devices with token, platform and attributes."""
        found = self.person(id, email=email, cio_id=cio_id)
        return [] if found is None else list(found["devices"])

    def suppressed(self) -> list[dict[str, str]]:
        """Return suppressed identifiers as {kind: value} pairs."""
        with self._store.lock:
            return self._store.people.suppressed_list()

    def segment_members(self, segment_id: int) -> list[str]:
        """Return the cio_ids of a manual segment's members, sorted."""
        return segments_view(self._store).get(str(segment_id), [])

    def merges(self) -> list[dict[str, Any]]:
        """Return every merge received: primary, secondary, applied."""
        with self._store.lock:
            return copy.deepcopy(self._store.merges)

    def metrics(self) -> list[dict[str, Any]]:
        """Return delivery metrics from v1 metrics, push events and v2."""
        with self._store.lock:
            return copy.deepcopy(self._store.metrics)

    def objects(self) -> list[dict[str, Any]]:
        """Return stored objects with attributes and relationships."""
        return objects_view(self._store)

    def counters(self) -> dict[str, Any]:
        """Return the counters (see the docs for each name)."""
        return counters_view(self._store)

    def requests(self) -> list[dict[str, Any]]:
        """Return the logged requests, oldest first.

        Each has method, path, query, headers (lower-case names, the
        Authorization value redacted), body (bytes), status (None when the
        connection closed without a response), fault and received_at.
        """
        return self._log.entries()

    def snapshot(self) -> dict[str, Any]:
        """Return the whole state, as GET /_local/state does."""
        return snapshot(self._store)

    def reset(self) -> None:
        """Forget all state, counters and logged requests; keep faults."""
        self._dispatcher.local.reset()

    def wait_until(
        self,
        predicate: Callable[[LocalTrackAPI], bool],
        timeout: float = 5.0,
    ) -> bool:
        """Wait until `predicate(server)` is true after a state change.

        Returns:
            Whether the predicate became true before `timeout` seconds.
        """
        with self._store.changed:
            return self._store.changed.wait_for(
                lambda: predicate(self), timeout
            )


def _check_options(
    *,
    site_id: str,
    api_key: str,
    port: int,
    region: str,
    mode: str,
    certfile: str | None,
    keyfile: str | None,
) -> None:
    if not site_id or not api_key:
        raise ValueError("site_id and api_key must be non-empty strings")

    if not 0 <= port <= 65535:
        raise ValueError(f"invalid port {port}: use 0 to 65535")

    if region not in REGION_URLS:
        raise ValueError(f"invalid region {region!r}: use 'us' or 'eu'")

    if mode not in MODES:
        raise ValueError(f"invalid mode {mode!r}: use 'full' or 'count'")

    if (certfile is None) != (keyfile is None):
        raise ValueError("pass both certfile and keyfile, or neither")


def _ssl_context(
    certfile: str | None, keyfile: str | None
) -> ssl.SSLContext | None:
    if certfile is None:
        return None

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context
