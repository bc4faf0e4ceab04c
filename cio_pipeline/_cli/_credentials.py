"""Credentials for ``send``: environment variables or the key in a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

SITE_ID_VARIABLE = "CUSTOMERIO_SITE_ID"
API_KEY_VARIABLE = "CUSTOMERIO_API_KEY"


class UsageError(Exception):
    """The command line cannot run as given; the message gives the reason."""


def resolve_credentials(
    site_id: str | None,
    api_key_file: str | None,
    environ: Mapping[str, str],
) -> tuple[str, str]:
    """Return the Site ID and API key from the options or the environment.

    Options win over environment variables.

    Raises:
        UsageError: one of them is missing, or the key file cannot be read.
    """
    site_id = site_id or environ.get(SITE_ID_VARIABLE, "").strip()
    if not site_id:
        raise UsageError(
            f"no Site ID: set {SITE_ID_VARIABLE} or pass --site-id"
        )
    if api_key_file is not None:
        api_key = _read_key_file(api_key_file)
    else:
        api_key = environ.get(API_KEY_VARIABLE, "").strip()
    if not api_key:
        raise UsageError(
            f"no Track API key: set {API_KEY_VARIABLE} or pass "
            f"--api-key-file FILE"
        )
    return site_id, api_key


def _read_key_file(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise UsageError(
            f"cannot read the API key file {path}: {reason}"
        ) from None
    key = text.strip()
    if not key:
        raise UsageError(f"the API key file {path} is empty")
    return key


def redact(text: str, secret: str) -> str:
    """Return ``text`` with every copy of ``secret`` masked."""
    return text.replace(secret, "***") if secret else text
