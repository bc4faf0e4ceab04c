"""Size limits of the Track API, as Customer.io's OpenAPI spec states them.

All sizes are in bytes of UTF-8 text.
"""

from __future__ import annotations

import json
from typing import Any

# A whole request: the v2 batch limit is 500 KB. The spec names no cap for
# v1 requests, so the server applies the same one to every path.
MAX_REQUEST_BYTES = 500_000

# One v2 operation, inside a batch or as the whole body of /api/v2/entity.
MAX_OPERATION_BYTES = 32_000

MAX_ID_BYTES = 150
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000
MAX_SEGMENT_IDS = 1000

_compact = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=True
).encode


def text_bytes(text: str) -> int:
    """Return the UTF-8 length of `text` without encoding ASCII text."""
    if text.isascii():
        return len(text)

    return len(text.encode("utf-8", "surrogatepass"))


def json_bytes(value: Any) -> int:
    """Return the length of `value` encoded as compact UTF-8 JSON."""
    if isinstance(value, str):
        return text_bytes(value) + 2

    return text_bytes(_compact(value))
