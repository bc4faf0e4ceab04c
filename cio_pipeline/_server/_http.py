"""HTTP/1.1 on one connection: read requests in full, write responses.

Connections stay open between requests (keep-alive) unless the client asks
otherwise or the dispatcher drops the connection to emulate a fault.
"""

from __future__ import annotations

import logging
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ._dispatch import Dispatcher
from ._limits import MAX_REQUEST_BYTES
from ._messages import JSON_TYPE, Request, Response

logger = logging.getLogger("cio_pipeline.server")

# A body up to this size is read and discarded before a 413 response, so the
# connection stays usable; a larger one gets 413 and the connection closes.
MAX_DRAIN_BYTES = 16 * MAX_REQUEST_BYTES

# Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 300.0

_REASONS = {status.value: status.phrase for status in HTTPStatus}


class Handler(BaseHTTPRequestHandler):
    """Serves every request on one connection through a Dispatcher."""

    protocol_version = "HTTP/1.1"
    server_version = "cio-pipeline-local"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT

    def __init__(
        self, conn: socket.socket, address: Any, dispatcher: Dispatcher
    ) -> None:
        self.dispatcher = dispatcher
        super().__init__(conn, address, None)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        """Serve a GET request."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST request."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT request."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE request."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH request; no Track API path accepts one."""
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return

        url = urlsplit(self.path)
        request = Request(
            self.command,
            url.path,
            dict(parse_qsl(url.query)),
            {name.lower(): value for name, value in self.headers.items()},
            body,
        )
        # A bug in a handler becomes a 500 and a log line, so that the
        # connection thread survives it.
        try:
            response = self.dispatcher.handle(request)
        except Exception:
            logger.exception("failed to handle %s %s", self.command, url.path)
            response = Response(500, b'{"meta":{"error":"server error"}}')

        if response is None:
            self.close_connection = True
            return

        self._write(response)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()

        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1

        if length < 0:
            self.close_connection = True
            self._write(Response(400, b'{"meta":{"error":"bad length"}}'))
            return None

        if length > MAX_DRAIN_BYTES:
            self.close_connection = True
            self._write(self.dispatcher.answer_oversized(self.path, length))
            return None

        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None

        return body

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                self.close_connection = True
                return None

            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailer fields carry nothing this server uses

                return b"".join(parts)

            total += size
            if total > MAX_DRAIN_BYTES:
                self.close_connection = True
                self._write(self.dispatcher.answer_oversized(self.path, total))
                return None

            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, response: Response) -> None:
        status = response.status
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
        ]
        if status != 204:
            lines.append(f"Content-Type: {JSON_TYPE}")
            lines.append(f"Content-Length: {len(response.body)}")

        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")

        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = response.body if status != 204 else b""
        self.wfile.write(head + body)

    def log_message(self, format: str, *args: Any) -> None:
        """Send the base class's messages to the module logger."""
        logger.debug(format, *args)
