"""Minimal HTTP/1.1 server protocol for the counting sink.

It parses request heads and bodies (``Content-Length`` or chunked) with
keep-alive, and hands each request to a callback. It exists because
``http.server`` costs several times more CPU per request, and the sink must
stay far from saturation while a client sends 150,000 events a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

# Limits that turn a malformed request into a closed connection instead of
# unbounded buffering.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    503: "Unavailable",
}


class Request(NamedTuple):
    """One parsed request."""

    method: str
    target: str
    body: bytes
    wire_bytes: int


class Response(NamedTuple):
    """One response: status code and JSON body."""

    status: int
    body: bytes


class HttpConnection(asyncio.Protocol):
    """Protocol instance for one client connection."""

    def __init__(
        self, handler: Callable[[Request, HttpConnection], None]
    ) -> None:
        self.handler = handler
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head: tuple[str, str, int, bool] | None = None
        self.head_bytes = 0
        self.chunks: bytearray | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Store the transport."""
        if isinstance(transport, asyncio.Transport):
            self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the transport so late responses are discarded."""
        self.transport = None

    def data_received(self, data: bytes) -> None:
        """Parse as many complete requests as the buffer holds."""
        self.buffer += data
        while self.transport is not None:
            request = self.next_request()
            if request is None:
                break
            self.handler(request, self)

    def next_request(self) -> Request | None:
        """Return the next complete request, or None when more is needed."""
        if self.head is None and not self.parse_head():
            return None

        method, target, length, chunked = self.head or ("", "", 0, False)
        if chunked:
            body = self.parse_chunked()
            if body is None:
                return None
            wire = self.head_bytes + body[1]
            self.head = None
            return Request(method, target, body[0], wire)

        if len(self.buffer) < length:
            return None
        body_bytes = bytes(self.buffer[:length])
        del self.buffer[:length]
        self.head = None
        return Request(method, target, body_bytes, self.head_bytes + length)

    def parse_head(self) -> bool:
        """Parse the request line and headers once they are complete."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self.close()
            return False

        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        self.head_bytes = end + 4
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            self.close()
            return False

        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
        if length > MAX_BODY_BYTES:
            self.close()
            return False
        self.head = (method, target, length, chunked)
        return True

    def parse_chunked(self) -> tuple[bytes, int] | None:
        """Decode a chunked body; return (body, wire bytes) when complete."""
        buffer = self.buffer
        position = 0
        body = bytearray()
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            start = line_end + 2
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                consumed = trailer_end + 4
                break
            if len(buffer) < start + size + 2:
                return None
            body += buffer[start : start + size]
            position = start + size + 2
        del buffer[:consumed]
        return bytes(body), consumed

    def respond(self, response: Response | asyncio.Task[Response]) -> None:
        """Send a response now, or when its task finishes."""
        if isinstance(response, asyncio.Task):
            response.add_done_callback(
                lambda task: self.respond(task.result())
            )
            return
        if self.transport is None:
            return

        reason = _REASONS.get(response.status, "Unknown")
        head = (
            f"HTTP/1.1 {response.status} {reason}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(response.body)}\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + response.body)

    def close(self) -> None:
        """Close the connection after a malformed request."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None
