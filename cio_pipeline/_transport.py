"""HTTP to the Track API: the one module that uses ``requests``."""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import logging
import platform
import time
from typing import NamedTuple
from urllib.parse import urlsplit

import requests
import requests.adapters

from ._errors import ValidationError
from ._version import __version__

logger = logging.getLogger(__name__)

REGION_URLS = {
    "us": "https://track.customer.io",
    "eu": "https://track-eu.customer.io",
}

USER_AGENT = (
    f"cio-pipeline/{__version__} (python {platform.python_version()}; "
    f"requests {requests.__version__})"
)


class Response(NamedTuple):
    """The parts of an HTTP response that delivery decisions need."""

    status: int
    body: bytes
    retry_after: float | None


class TransientError(Exception):
    """A request failed before a response arrived; sending again may work."""


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the wait a ``Retry-After`` header requests, in seconds.

    The header contains either seconds or an HTTP date; anything else,
    and a date in the past, gives None or 0.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now)


def base_url(region: str, url: str | None) -> str:
    """Return the base URL for ``region``, or ``url`` when given."""
    if url is None:
        if region not in REGION_URLS:
            raise ValidationError(
                f"region must be 'us' or 'eu', got {region!r}"
            )
        return REGION_URLS[region]
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "url must not contain credentials: pass site_id and api_key "
            "to the Client instead"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"url must be an http:// or https:// URL such as "
            f"'http://127.0.0.1:8123', got {url!r}"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        logger.warning(
            "sending credentials over plain http to %s: use https",
            parts.hostname,
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """Return True for ``localhost`` and loopback IP addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport:
    """Send requests through one pooled ``requests.Session``."""

    def __init__(
        self,
        url: str,
        site_id: str,
        api_key: str,
        timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        self._url = url
        self._timeout = (timeout, timeout)
        token = base64.b64encode(f"{site_id}:{api_key}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {token}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._own_session = session is None
        self._session = session if session is not None else _new_session()

    def __repr__(self) -> str:
        return f"Transport(url={self._url!r})"

    def request(self, method: str, path: str, body: bytes | None) -> Response:
        """Send one request; raise ``TransientError`` if no response came."""
        try:
            response = self._session.request(
                method,
                self._url + path,
                data=body,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as error:
            raise TransientError(_describe(error)) from None
        retry_after = None
        if response.status_code in (429, 503) or "Retry-After" in (
            response.headers
        ):
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), time.time()
            )
        return Response(response.status_code, response.content, retry_after)

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def reset_after_fork(self) -> None:
        """Drop the connections that a forked child shares with its parent."""
        if self._own_session:
            self._session = _new_session()
        else:
            # Closing clears the pools; the session opens new connections.
            self._session.close()


def _new_session() -> requests.Session:
    session = requests.Session()
    # Retries are the worker's; urllib3 must not add its own.
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=2, pool_maxsize=4, max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _describe(error: Exception) -> str:
    """Name a transport error without the URL's query or any header."""
    if isinstance(error, requests.Timeout):
        return f"timed out ({type(error).__name__})"
    cause = error.__context__ or error
    while cause.__context__ is not None and cause is not cause.__context__:
        cause = cause.__context__
    return f"connection failed ({type(cause).__name__}: {cause})"
