"""Handlers for the v1 paths that do not address one person.

Manual segments, delivery metrics, the region look-up, form submissions
and unsubscribe links.
"""

from __future__ import annotations

from typing import Any

from ._checks import is_int
from ._limits import MAX_SEGMENT_IDS
from ._messages import OK, Response, json_response, v1_errors
from ._v1 import METRICS, REGION_URLS, SEGMENT_ID_TYPES, Call, read_body

PUSH_METRICS = frozenset({"opened", "converted", "delivered"})


def region(call: Call) -> Response:
    """GET /api/v1/accounts/region."""
    settings = call.settings
    return json_response(
        200,
        {
            "url": REGION_URLS[settings.region],
            "region": settings.region,
            "environment_id": settings.environment_id,
        },
    )


def _segment_change(call: Call, add: bool) -> Response:
    try:
        segment_id = int(call.params[0])
    except ValueError:
        return v1_errors(f"segment id {call.params[0]!r} is not an integer")

    id_type = call.request.query.get("id_type", "id")
    if id_type not in SEGMENT_ID_TYPES:
        return v1_errors(
            f"id_type {id_type!r} is not valid; use id, email or cio_id"
        )

    body, error = read_body(call)
    if error or body is None:
        return error or OK

    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        return v1_errors("ids must be a non-empty array of strings")

    if len(ids) > MAX_SEGMENT_IDS:
        return v1_errors(
            f"ids has {len(ids)} entries; at most {MAX_SEGMENT_IDS} "
            "are allowed per request"
        )

    if not all(isinstance(value, str) for value in ids):
        return v1_errors("ids must contain only strings")

    with call.store.lock:
        call.store.change_segment(segment_id, id_type, ids, add)
        call.store.count("operations_accepted")
        call.store.changed.notify_all()

    return OK


def add_to_segment(call: Call) -> Response:
    """POST /api/v1/segments/{segment_id}/add_customers."""
    return _segment_change(call, add=True)


def remove_from_segment(call: Call) -> Response:
    """POST /api/v1/segments/{segment_id}/remove_customers."""
    return _segment_change(call, add=False)


def _check_metric(body: dict[str, Any], names: frozenset[str]) -> str | None:
    for name in ("delivery_id", "recipient", "reason", "href", "device_id"):
        value = body.get(name)
        if value is not None and not isinstance(value, str | int):
            return f"{name} must be a string"

    if "timestamp" in body and not is_int(body["timestamp"]):
        return "timestamp must be an integer"

    metric = body.get("metric", body.get("event"))
    if metric is not None and metric not in names:
        expected = ", ".join(sorted(names))
        return f"metric {metric!r} is not valid; expected one of: {expected}"

    return None


def metrics(call: Call) -> Response:
    """POST /api/v1/metrics."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    message = _check_metric(body, METRICS)
    if message is None and not body.get("delivery_id"):
        message = "delivery_id is required"

    if message is None and "metric" not in body:
        message = "metric is required"

    if message:
        return v1_errors(message)

    return _store_metric(call, "v1", body)


def push_events(call: Call) -> Response:
    """POST /api/v1/push/events, the deprecated form of /api/v1/metrics."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    message = _check_metric(body, PUSH_METRICS)
    if message:
        return v1_errors(message)

    return _store_metric(call, "push", body)


def _store_metric(call: Call, source: str, body: dict[str, Any]) -> Response:
    with call.store.lock:
        call.store.add_metric(source, body, call.now)
        call.store.count("operations_accepted")
        call.store.changed.notify_all()

    return OK


def submit_form(call: Call) -> Response:
    """POST /api/v1/forms/{form_id}/submit; responds 204 like the API."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    data = body.get("data")
    if not isinstance(data, dict) or not (data.get("email") or data.get("id")):
        return v1_errors("data must be an object with an email or an id")

    with call.store.lock:
        call.store.forms.append({"form_id": call.params[0], "data": data})
        call.store.count("operations_accepted")
        call.store.changed.notify_all()

    return Response(204, b"")


def unsubscribe(call: Call) -> Response:
    """POST /unsubscribe/{delivery_id}, which needs no credentials."""
    body, error = read_body(call)
    if error or body is None:
        return error or OK

    if not isinstance(body.get("unsubscribe", True), bool):
        return v1_errors("unsubscribe must be a boolean")

    entry = {"delivery_id": call.params[0], "unsubscribe": body}
    entry["unsubscribe"] = body.get("unsubscribe", True)
    with call.store.lock:
        call.store.unsubscribes.append(entry)
        call.store.count("operations_accepted")
        call.store.changed.notify_all()

    return OK
