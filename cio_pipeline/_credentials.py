"""The synchronous credential check: GET /api/v1/accounts/region."""

from __future__ import annotations

import json
from typing import Any

from ._delivery import server_message
from ._errors import CredentialsError, RegionMismatchError, TrackAPIError
from ._transport import TransientError, Transport


def check_credentials(
    transport: Transport, expected_region: str | None
) -> dict[str, Any]:
    """Return the region look-up's response body, or raise with the fix.

    ``expected_region`` is the region the client sends to, or None when
    it sends to a URL of the caller's, where any region is fine.
    """
    try:
        response = transport.request("GET", "/api/v1/accounts/region", None)
    except TransientError as error:
        raise TrackAPIError(f"checking credentials failed: {error}") from None
    if response.status == 401:
        raise CredentialsError(
            "the Track API rejected the site id and API key (HTTP 401): "
            "copy both from the workspace's Track API key settings"
        )
    if response.status != 200:
        raise TrackAPIError(
            f"checking credentials failed with HTTP {response.status}: "
            f"{server_message(response.body)}"
        )
    try:
        answer = json.loads(response.body)
    except ValueError:
        raise TrackAPIError(
            "checking credentials failed: the response is not JSON"
        ) from None
    if not isinstance(answer, dict):
        raise TrackAPIError(
            "checking credentials failed: the response is not a JSON object"
        )
    region = answer.get("region")
    if expected_region is not None and region != expected_region:
        raise RegionMismatchError(
            f"the workspace is in region {region!r} but the client sends "
            f"to region {expected_region!r}: pass region={region!r}"
        )
    return answer
