"""Finer points of the state: look-ups, merges, objects, robustness."""

from __future__ import annotations

import threading

import pytest
import requests

from cio_pipeline._server import LocalTrackAPI, _routes

from .conftest import API_KEY, SITE_ID, Track, person_op

OBJECT = {"object_type_id": "1", "object_id": "acme"}


def test_person_lookup_needs_one_identifier(server: LocalTrackAPI) -> None:
    """person() raises unless exactly one identifier is given."""
    with pytest.raises(ValueError, match="exactly one"):
        server.person("u1", email="a@x.io")

    with pytest.raises(ValueError, match="exactly one"):
        server.person()


def test_wait_until_sees_change(server: LocalTrackAPI, track: Track) -> None:
    """wait_until returns True once another thread changed the state."""
    sender = threading.Thread(
        target=track.batch, args=(person_op("identify"),)
    )
    sender.start()

    assert server.wait_until(lambda s: s.person("u1") is not None)
    sender.join(5)


def test_merge_moves_segments_and_devices(
    server: LocalTrackAPI, track: Track
) -> None:
    """Merging by email and cio_id moves memberships and devices."""
    track.request("PUT", "/api/v1/customers/p1", {"email": "p@x.io"})
    track.request("PUT", "/api/v1/customers/s1", {})
    track.request("POST", "/api/v1/segments/5/add_customers", {"ids": ["s1"]})
    device = {"token": "t9", "platform": "ios"}
    track.batch(person_op("add_device", "s1", device=device))
    secondary = server.person("s1")
    assert secondary is not None

    track.batch(
        {
            "type": "person",
            "action": "merge",
            "primary": {"email": "P@x.io"},
            "secondary": {"cio_id": secondary["cio_id"]},
        }
    )

    primary = server.person("p1")
    assert primary is not None
    assert server.segment_members(5) == [primary["cio_id"]]
    assert [d["token"] for d in primary["devices"]] == ["t9"]


def test_delete_leaves_segments(server: LocalTrackAPI, track: Track) -> None:
    """A deleted person is no longer a segment member."""
    track.request("PUT", "/api/v1/customers/u1", {})
    track.request("POST", "/api/v1/segments/2/add_customers", {"ids": ["u1"]})

    track.batch(person_op("delete"))

    assert server.segment_members(2) == []


def test_device_update_merges_attributes(
    server: LocalTrackAPI, track: Track
) -> None:
    """Adding a known token again updates it in place."""
    first = {"token": "t", "platform": "ios", "attributes": {"a": "1"}}
    second = {"token": "t", "platform": "android", "attributes": {"b": "2"}}
    track.batch(person_op("add_device", device=first))
    track.batch(person_op("add_device", device=second))

    [device] = server.devices("u1")
    assert device["platform"] == "android"
    assert device["attributes"] == {"a": "1", "b": "2"}


def test_object_relationships(server: LocalTrackAPI, track: Track) -> None:
    """Object relationships can be added and deleted."""
    related = [{"identifiers": {"id": "u1"}}]
    base = {"type": "object", "identifiers": OBJECT}
    track.batch(dict(base, action="identify", attributes={"n": 1}))
    track.batch(
        dict(base, action="add_relationships", cio_relationships=related)
    )
    assert len(server.objects()[0]["relationships"]) == 1

    track.batch(
        dict(base, action="delete_relationships", cio_relationships=related)
    )
    assert server.objects()[0]["relationships"] == []

    track.batch(dict(base, action="delete"))
    assert server.objects() == []


def test_blocked_identifier_ignores_all_actions(
    server: LocalTrackAPI, track: Track
) -> None:
    """Every person action on a suppressed identifier is ignored."""
    relation = [{"identifiers": OBJECT}]
    track.batch(person_op("suppress"))

    response = track.batch(
        person_op("identify", attributes={"a": 1}),
        person_op("add_device", device={"token": "t", "platform": "ios"}),
        person_op("add_relationships", cio_relationships=relation),
        person_op("page", name="/"),
    )

    assert response.status_code == 200
    assert server.people() == []
    assert server.counters()["suppressed_ignored"] == 4


def test_handler_bug_gets_500(
    server: LocalTrackAPI, track: Track, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception in a handler becomes a 500; the server keeps going."""

    def broken(call: object) -> None:
        raise RuntimeError("boom")

    routes = tuple(
        route._replace(handler=broken) if route.is_batch else route
        for route in _routes.ROUTES
    )
    monkeypatch.setattr(_routes, "ROUTES", routes)

    assert track.batch(person_op("identify")).status_code == 500
    assert track.request("PUT", "/api/v1/customers/u1", {}).status_code == 200


def test_refuse_from_constructor() -> None:
    """A server built with refuse set starts refusing connections."""
    with LocalTrackAPI(SITE_ID, API_KEY, faults={"refuse": True}) as server:
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/_local/counters", timeout=5)

        server.faults.clear()
        response = requests.get(server.url + "/_local/counters", timeout=5)
        assert response.status_code == 200
