"""Client settings, their defaults and their checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ._errors import ValidationError
from ._validation import IDENTIFY_BY

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_QUEUE_SIZE = 100_000
# The Track API takes at most 500,000 bytes a request and 32,000 bytes
# an operation in /api/v2/batch.
DEFAULT_MAX_BATCH_BYTES = 500_000
MAX_OPERATION_BYTES = 32_000
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 6
DEFAULT_MAX_RETRY_TIME = 30.0
DEFAULT_SHUTDOWN_TIMEOUT = 3.0
DEFAULT_BLOCK_TIMEOUT = 1.0
# Customer.io's fair-use limit for the Track API: 100 requests a second.
DEFAULT_RATE_LIMIT = 100.0
ON_FULL_POLICIES = ("drop_newest", "drop_oldest", "block")

# {"batch":[ and ]} around the comma-separated operations.
BATCH_WRAPPER_BYTES = len(b'{"batch":[]}')


def _positive(
    instance: object, attribute: attrs.Attribute[Any], value: float
) -> None:
    if isinstance(value, bool) or not value > 0:
        raise ValidationError(
            f"{attribute.name} must be a positive number, got {value!r}"
        )


def _not_negative(
    instance: object, attribute: attrs.Attribute[Any], value: float
) -> None:
    if isinstance(value, bool) or not value >= 0:
        raise ValidationError(
            f"{attribute.name} must be zero or more, got {value!r}"
        )


def _one_of(
    choices: Sequence[str],
) -> Callable[[object, attrs.Attribute[Any], str], None]:
    def check(
        instance: object, attribute: attrs.Attribute[Any], value: str
    ) -> None:
        if value not in choices:
            listed = ", ".join(repr(choice) for choice in choices)
            raise ValidationError(
                f"{attribute.name} must be one of {listed}, got {value!r}"
            )

    return check


def _batch_bytes(
    instance: object, attribute: attrs.Attribute[Any], value: int
) -> None:
    minimum = BATCH_WRAPPER_BYTES + 100
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
    ):
        raise ValidationError(
            f"max_batch_bytes must be an int of at least {minimum}, "
            f"got {value!r}"
        )


@attrs.frozen(kw_only=True)
class Config:
    """Every setting of a client; ``repr`` masks the API key."""

    site_id: str
    api_key: str = attrs.field(repr=lambda _: "'***'")
    url: str
    flush_interval: float = attrs.field(
        default=DEFAULT_FLUSH_INTERVAL, validator=_positive
    )
    max_queue_size: int = attrs.field(
        default=DEFAULT_MAX_QUEUE_SIZE, validator=_positive
    )
    max_batch_bytes: int = attrs.field(
        default=DEFAULT_MAX_BATCH_BYTES, validator=_batch_bytes
    )
    request_timeout: float = attrs.field(
        default=DEFAULT_REQUEST_TIMEOUT, validator=_positive
    )
    max_retries: int = attrs.field(
        default=DEFAULT_MAX_RETRIES, validator=_not_negative
    )
    max_retry_time: float = attrs.field(
        default=DEFAULT_MAX_RETRY_TIME, validator=_not_negative
    )
    shutdown_timeout: float = attrs.field(
        default=DEFAULT_SHUTDOWN_TIMEOUT, validator=_not_negative
    )
    on_full: str = attrs.field(
        default="drop_newest", validator=_one_of(ON_FULL_POLICIES)
    )
    block_timeout: float = attrs.field(
        default=DEFAULT_BLOCK_TIMEOUT, validator=_not_negative
    )
    rate_limit: float | None = DEFAULT_RATE_LIMIT
    enabled: bool = True
    sync: bool = False
    atexit: bool = True
    identify_by: str = attrs.field(
        default="auto", validator=_one_of(IDENTIFY_BY)
    )
    log_payloads: bool = False

    @property
    def max_operation_bytes(self) -> int:
        """The largest operation that fits in a batch on its own."""
        return min(
            MAX_OPERATION_BYTES, self.max_batch_bytes - BATCH_WRAPPER_BYTES
        )
