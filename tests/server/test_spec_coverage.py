"""Every path and v2 action of Customer.io's spec is served.

data/track_api_spec.json contains the methods, paths and v2 batch action
names extracted from the OpenAPI spec of the Track API, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cio_pipeline._server._routes import ROUTES

from .conftest import Track

SPEC = json.loads(
    (Path(__file__).parent / "data" / "track_api_spec.json").read_text()
)
PARAMS = {
    "{identifier}": "u1",
    "{device_id}": "tok",
    "{delivery_id}": "d1",
    "{form_id}": "f1",
    "{segment_id}": "1",
}


def _concrete(path: str) -> str:
    for name, value in PARAMS.items():
        path = path.replace(name, value)

    return path


@pytest.mark.parametrize(("method", "path"), SPEC["paths"])
def test_spec_path_served(track: Track, method: str, path: str) -> None:
    """Each spec path is routed: never 404 or 405."""
    response = track.request(method, _concrete(path), {})

    assert response.status_code not in (404, 405)


def test_no_paths_beyond_spec() -> None:
    """The server serves no path that the spec lacks."""
    spec = {(method, path.strip("/")) for method, path in SPEC["paths"]}
    for route in ROUTES:
        pattern = "/".join(route.pattern)
        assert any(
            method == route.method
            and len(path.split("/")) == len(route.pattern)
            and all(
                part == expected or (part.startswith("{") and expected == "*")
                for part, expected in zip(
                    path.split("/"), route.pattern, strict=True
                )
            )
            for method, path in spec
        ), pattern


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        (kind, action)
        for kind, actions in SPEC["batch_actions"].items()
        for action in actions
    ],
)
def test_spec_action_known(track: Track, kind: str, action: str) -> None:
    """Each v2 type and action is recognised; only its fields are missing."""
    response = track.batch({"type": kind, "action": action})

    assert response.status_code == 207
    [error] = response.json()["errors"]
    assert error["field"] not in ("type", "action")
