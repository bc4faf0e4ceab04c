"""The Track API paths the server answers, and how a path finds its handler.

Paths come from Customer.io's OpenAPI spec of the Track API: every path a
client sends data to, plus the region look-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import unquote

from . import _batch, _v1, _v1_workspace
from ._messages import Response

Handler = Callable[[_v1.Call], Response]

# Path segments; "*" matches one percent-decoded segment.
_V1 = ("api", "v1")
_CUSTOMER = (*_V1, "customers", "*")
_SEGMENT = (*_V1, "segments", "*")


class Route(NamedTuple):
    """One method and path pattern with its handler."""

    method: str
    pattern: tuple[str, ...]
    handler: Handler
    # The spec lists no credentials for metrics, push metrics and
    # unsubscribe links; every other path needs Basic auth.
    needs_auth: bool = True
    is_batch: bool = False


ROUTES = (
    Route("GET", (*_V1, "accounts", "region"), _v1_workspace.region),
    Route("PUT", _CUSTOMER, _v1.identify),
    Route("DELETE", _CUSTOMER, _v1.delete),
    Route("PUT", (*_CUSTOMER, "devices"), _v1.add_device),
    Route("DELETE", (*_CUSTOMER, "devices", "*"), _v1.delete_device),
    Route("POST", (*_CUSTOMER, "suppress"), _v1.suppress),
    Route("POST", (*_CUSTOMER, "unsuppress"), _v1.unsuppress),
    Route("POST", (*_CUSTOMER, "events"), _v1.track),
    Route("POST", (*_V1, "events"), _v1.track_anonymous),
    Route("POST", (*_V1, "merge_customers"), _v1.merge_customers),
    Route("POST", (*_V1, "metrics"), _v1_workspace.metrics, False),
    Route("POST", (*_V1, "push", "events"), _v1_workspace.push_events, False),
    Route("POST", (*_SEGMENT, "add_customers"), _v1_workspace.add_to_segment),
    Route(
        "POST",
        (*_SEGMENT, "remove_customers"),
        _v1_workspace.remove_from_segment,
    ),
    Route("POST", (*_V1, "forms", "*", "submit"), _v1_workspace.submit_form),
    Route("POST", ("unsubscribe", "*"), _v1_workspace.unsubscribe, False),
    Route("POST", ("api", "v2", "entity"), _batch.entity),
    Route("POST", ("api", "v2", "batch"), _batch.batch, is_batch=True),
)


class Match(NamedTuple):
    """The outcome of routing: a route and its parameters, or a status."""

    route: Route | None
    params: tuple[str, ...]
    status: int
    allowed: tuple[str, ...] = ()


def match(method: str, path: str) -> Match:
    """Find the route for a request; status 404 or 405 when none fits."""
    segments = [unquote(part) for part in path.strip("/").split("/")]
    allowed = []
    for route in ROUTES:
        params = _params(route.pattern, segments)
        if params is None:
            continue

        if route.method == method:
            return Match(route, params, 200)

        allowed.append(route.method)

    if allowed:
        return Match(None, (), 405, tuple(allowed))

    return Match(None, (), 404)


def _params(
    pattern: tuple[str, ...], segments: list[str]
) -> tuple[str, ...] | None:
    if len(pattern) != len(segments):
        return None

    params = []
    for expected, segment in zip(pattern, segments, strict=True):
        if expected == "*":
            params.append(segment)
        elif expected != segment:
            return None

    return tuple(params)
