"""The path of one request: faults, limits, routing, auth, handler."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import math
import threading
import time
from email.utils import formatdate
from typing import NamedTuple
from urllib.parse import urlsplit

from . import _faults
from ._batch import count_operations
from ._checks import TOO_LARGE, Problem
from ._faults import FaultAction, Faults
from ._limits import MAX_REQUEST_BYTES
from ._local_api import LocalAPI
from ._messages import OK, Request, Response, v1_error, v2_errors
from ._request_log import RequestLog
from ._routes import match
from ._state import Store
from ._v1 import Call, Settings

logger = logging.getLogger("cio_pipeline.server")

MODES = ("full", "count")
LOCAL_PREFIX = "/_local/"

_URL_SAFE = bytes.maketrans(b"-_", b"+/")


class Credentials(NamedTuple):
    """The site id and API key that requests must present."""

    site_id: str
    api_key: str


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """Return (user, password) from a Basic `Authorization` header.

    Both the standard and the URL-safe base64 alphabets are accepted,
    because Customer.io's Go client sends the URL-safe one.
    """
    if not header or header[:6].lower() != "basic ":
        return None

    try:
        raw = header[6:].strip().encode("ascii").translate(_URL_SAFE)
        decoded = base64.b64decode(raw, validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error):
        return None

    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


class Dispatcher:
    """The request dispatcher that every connection thread shares."""

    def __init__(
        self,
        *,
        store: Store,
        faults: Faults,
        log: RequestLog,
        credentials: Credentials,
        settings: Settings,
        mode: str,
        stopping: threading.Event,
    ) -> None:
        self.store = store
        self.faults = faults
        self.log = log
        self.credentials = credentials
        self.settings = settings
        self.mode = mode
        self.stopping = stopping
        self.local = LocalAPI(store, faults, log)

    def handle(self, request: Request) -> Response | None:
        """Return the response, or None to close the connection without one."""
        if request.path.startswith(LOCAL_PREFIX):
            return self.local.handle(request)

        received_at = time.time()
        with self.store.lock:
            self.store.count("requests")
            self.store.count("bytes_received", len(request.body))
            self.store.changed.notify_all()

        fault = self.faults.choose(request.path)
        if self.faults.latency > 0:
            self.stopping.wait(self.faults.latency)

        response = self._respond(request, fault, received_at)
        status = response.status if response is not None else None
        with self.store.lock:
            key = str(status) if status is not None else "none"
            self.store.responses[key] = self.store.responses.get(key, 0) + 1

        fault_kind = fault.kind if fault else None
        self.log.add(request, status, fault_kind, received_at)
        logger.debug(
            "%s %s: status %s, fault %s, %.1f ms",
            request.method,
            request.path,
            status,
            fault_kind,
            (time.time() - received_at) * 1000,
        )
        return response

    def _respond(
        self, request: Request, fault: FaultAction | None, received_at: float
    ) -> Response | None:
        if fault is None:
            return self.answer(request, received_at)

        with self.store.lock:
            self.store.count("faults_injected")

        if fault.kind == _faults.STATUS:
            return fault_response(fault, received_at)

        if fault.kind == _faults.HANG:
            self.faults.wait_for_release(self.stopping)
            return None

        if fault.kind == _faults.CLOSE_AFTER_APPLY:
            self.answer(request, received_at)

        return None

    def answer(self, request: Request, received_at: float) -> Response:
        """Return the response that the Track API would send."""
        found = match(request.method, request.path)
        if found.route is None:
            return _routing_error(found.status, found.allowed)

        if len(request.body) > MAX_REQUEST_BYTES:
            return _too_large(len(request.body), found.route.is_batch)

        if found.route.needs_auth and not self._authorized(request):
            with self.store.lock:
                self.store.count("unauthorized")

            return v1_error("Unauthorized request", 401)

        if self.mode == "count" and request.method != "GET":
            return self._count(request, found.route.is_batch)

        call = Call(
            request, found.params, self.store, self.settings, int(received_at)
        )
        return found.route.handler(call)

    def answer_oversized(self, target: str, size: int) -> Response:
        """Answer 413 to a request whose body is too large to read."""
        found = match("POST", urlsplit(target).path)
        with self.store.lock:
            self.store.count("requests")
            self.store.responses["413"] = (
                self.store.responses.get("413", 0) + 1
            )

        return _too_large(
            size, found.route is not None and found.route.is_batch
        )

    def _authorized(self, request: Request) -> bool:
        pair = parse_basic_auth(request.headers.get("authorization"))
        if pair is None:
            return False

        expected = self.credentials
        return hmac.compare_digest(
            pair[0], expected.site_id
        ) & hmac.compare_digest(pair[1], expected.api_key)

    def _count(self, request: Request, is_batch: bool) -> Response:
        """Count the operations of a request that changes data."""
        operations = count_operations(request.body) if is_batch else 1
        with self.store.lock:
            self.store.count("operations_accepted", operations)
            if is_batch:
                self.store.count("batch_requests")

        return OK


def fault_response(fault: FaultAction, received_at: float) -> Response:
    """Return the injected error answer, with Retry-After if configured."""
    body = b'{"meta":{"error":"injected fault"}}'
    if fault.retry_after is None:
        return Response(fault.status, body)

    if fault.retry_after_format == "date":
        value = formatdate(received_at + fault.retry_after, usegmt=True)
    else:
        value = str(math.ceil(fault.retry_after))

    return Response(fault.status, body, (("Retry-After", value),))


def _routing_error(status: int, allowed: tuple[str, ...]) -> Response:
    if status == 405:
        return Response(
            405,
            b'{"meta":{"error":"method not allowed"}}',
            (("Allow", ", ".join(allowed)),),
        )

    return v1_error("not found", 404)


def _too_large(size: int, is_batch: bool) -> Response:
    message = (
        f"request body is {size} bytes; the limit is {MAX_REQUEST_BYTES} bytes"
    )
    if is_batch:
        return v2_errors(413, [Problem(TOO_LARGE, "", message)])

    return v1_error(message, 413)
