"""The listening socket and one thread per accepted connection."""

from __future__ import annotations

import contextlib
import itertools
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("cio_pipeline.server")

# Seconds that stop(), refuse and accept again wait for threads to finish.
JOIN_TIMEOUT = 5.0
TLS_HANDSHAKE_TIMEOUT = 10.0
BACKLOG = 128

ServeConnection = Callable[[socket.socket, Any], None]


class Listener:
    """Accepts connections on a port and serves each in its own thread.

    While paused the port is closed, so connecting fails with "connection
    refused"; resuming opens the same port again.
    """

    def __init__(
        self,
        host: str,
        port: int,
        serve: ServeConnection,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self._serve = serve
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._want_open = True
        self._stopped = False
        # Each connection's thread and socket; wrapping a socket for TLS
        # replaces the socket object, so entries are keyed by thread.
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._names = itertools.count(1)
        self._wake_read, self._wake_write = socket.socketpair()
        self._socket: socket.socket | None = self._open(port)
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, name="cio-local-track-api-accept", daemon=True
        )

    def _open(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        return socket.create_server(
            (self.host, port), family=family, backlog=BACKLOG
        )

    def start(self) -> None:
        """Start accepting connections in a background thread."""
        self._thread.start()

    def pause(self) -> None:
        """Close the port and every open connection."""
        self._settle(want_open=False)
        self.close_connections()

    def resume(self) -> None:
        """Open the port again."""
        self._settle(want_open=True)

    def _settle(self, want_open: bool) -> None:
        with self._lock:
            self._want_open = want_open
            self._wake()
            self._settled.wait_for(
                lambda: (
                    (self._socket is not None) == want_open or self._stopped
                ),
                JOIN_TIMEOUT,
            )

    def stop(self) -> None:
        """Stop accepting, close every connection and join the threads."""
        with self._lock:
            self._stopped = True
            self._wake()

        if self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT)

        self.close_connections()
        deadline = time.monotonic() + JOIN_TIMEOUT
        with self._lock:
            threads = list(self._connections)

        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

        self._wake_read.close()
        self._wake_write.close()

    def close_connections(self) -> None:
        """Shut down every open connection; their threads then end."""
        with self._lock:
            connections = list(self._connections.values())

        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_read, selectors.EVENT_READ)
            try:
                self._loop(selector)
            finally:
                with self._lock:
                    self._close_socket(selector)
                    self._settled.notify_all()

    def _loop(self, selector: selectors.BaseSelector) -> None:
        registered = None
        while True:
            with self._lock:
                if self._stopped:
                    return

                self._reconcile(selector)
                listening = self._socket

            if listening is not registered and listening is not None:
                selector.register(listening, selectors.EVENT_READ)

            registered = listening
            for key, _ in selector.select(timeout=None):
                if key.fileobj is self._wake_read:
                    self._wake_read.recv(4096)
                elif key.fileobj is listening:
                    self._accept(listening)

    def _reconcile(self, selector: selectors.BaseSelector) -> None:
        if self._want_open and self._socket is None:
            self._socket = self._open(self.port)
        elif not self._want_open and self._socket is not None:
            self._close_socket(selector)

        self._settled.notify_all()

    def _close_socket(self, selector: selectors.BaseSelector) -> None:
        if self._socket is None:
            return

        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(self._socket)

        self._socket.close()
        self._socket = None

    def _accept(self, listening: socket.socket) -> None:
        try:
            conn, address = listening.accept()
        except OSError:
            return

        thread = threading.Thread(
            target=self._serve_connection,
            args=(conn, address),
            name=f"cio-local-track-api-conn-{next(self._names)}",
            daemon=True,
        )
        with self._lock:
            self._connections[thread] = conn

        thread.start()

    def _serve_connection(self, conn: socket.socket, address: Any) -> None:
        thread = threading.current_thread()
        try:
            conn = self._wrap(conn)
            with self._lock:
                self._connections[thread] = conn

            self._serve(conn, address)
        except OSError as error:
            logger.debug("connection from %s ended: %s", address, error)
        finally:
            with self._lock:
                self._connections.pop(thread, None)

            with contextlib.suppress(OSError):
                conn.close()

    def _wrap(self, conn: socket.socket) -> socket.socket:
        """Return the socket to serve, after the TLS handshake if any.

        Raises:
            OSError: when the handshake fails (ssl.SSLError included).
        """
        if self._ssl_context is None:
            return conn

        conn.settimeout(TLS_HANDSHAKE_TIMEOUT)
        return self._ssl_context.wrap_socket(conn, server_side=True)
