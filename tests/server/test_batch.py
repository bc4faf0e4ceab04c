"""The v2 paths: /api/v2/batch with every action, and /api/v2/entity."""

from __future__ import annotations

import json

from cio_pipeline._server import LocalTrackAPI

from .conftest import Track, person_op

OBJECT = {"object_type_id": "1", "object_id": "acme"}


def test_batch_every_person_action(
    server: LocalTrackAPI, track: Track
) -> None:
    """One batch with each person action applies them all in order."""
    relation = [{"identifiers": OBJECT, "relationship_attributes": {"r": 1}}]
    device = {"token": "t1", "platform": "android", "attributes": {"a": "b"}}
    ops = [
        person_op("identify", attributes={"plan": "pro"}, timestamp=100),
        person_op("event", name="buy", id="E1", attributes={"n": 1}),
        person_op("page", name="/home"),
        person_op("screen", name="Cart"),
        person_op("add_relationships", cio_relationships=relation),
        person_op("add_device", device=device),
        person_op("identify", "u2", attributes={"x": 1}),
        person_op("delete_device", "u2", device={"token": "none"}),
        person_op("delete", "u2"),
        person_op("identify", "u3", attributes={"y": 1}),
        {
            "type": "person",
            "action": "merge",
            "primary": {"id": "u1"},
            "secondary": {"id": "u3"},
        },
        person_op("suppress", "u4"),
        person_op("unsuppress", "u4"),
        person_op("delete_relationships", cio_relationships=relation),
    ]

    response = track.batch(*ops)

    assert response.status_code == 200
    assert response.json() == {}
    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"plan": "pro", "y": 1}
    assert person["devices"][0]["token"] == "t1"
    assert person["relationships"] == []
    assert [e["type"] for e in server.events("u1")] == [
        "event",
        "page",
        "screen",
    ]
    assert server.person("u2") is None
    assert server.person("u3") is None
    assert server.suppressed() == []
    counters = server.counters()
    assert counters["operations_accepted"] == len(ops)
    assert counters["batch_requests"] == 1


def test_batch_identify_by_email_phone_cio_id(
    server: LocalTrackAPI, track: Track
) -> None:
    """v2 identifiers can be email, phone or cio_id (no cio_ prefix)."""
    track.batch(
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"email": "e@x.io"},
            "attributes": {"a": 1},
        },
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"phone": "+15550001"},
            "attributes": {"b": 1},
        },
    )
    person = server.person(email="e@x.io")
    assert person is not None
    assert server.person(phone="+15550001") is not None

    track.batch(
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"cio_id": person["cio_id"]},
            "attributes": {"id": "u5"},
        }
    )
    assert server.person("u5") is not None


def test_batch_anonymous_event(server: LocalTrackAPI, track: Track) -> None:
    """An anonymous_id identifier stores an anonymous event."""
    response = track.batch(
        {
            "type": "person",
            "action": "page",
            "identifiers": {"anonymous_id": "a1"},
            "name": "/landing",
            "timestamp": 1700000000,
        }
    )

    assert response.status_code == 200
    events = server.anonymous_events("a1")
    assert events == [
        {
            "name": "/landing",
            "type": "page",
            "data": {},
            "timestamp": 1700000000,
            "id": None,
            "anonymous_id": "a1",
        }
    ]


def test_batch_identify_older_timestamp(
    server: LocalTrackAPI, track: Track
) -> None:
    """A resent older identify does not undo a newer one."""
    newer = person_op("identify", attributes={"plan": "pro"}, timestamp=200)
    older = person_op("identify", attributes={"plan": "free"}, timestamp=100)
    track.batch(newer)
    track.batch(older)

    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"plan": "pro"}


def test_batch_event_deduplicated(server: LocalTrackAPI, track: Track) -> None:
    """Events with an id seen before are dropped and counted."""
    event = person_op("event", name="buy", id="01J00000000000000000000000")
    track.batch(event, event)
    track.batch(event)

    assert len(server.events("u1")) == 1
    counters = server.counters()
    assert counters["events_stored"] == 1
    assert counters["duplicate_events"] == 2


def test_batch_events_without_id_kept(
    server: LocalTrackAPI, track: Track
) -> None:
    """Events without an id are never de-duplicated."""
    event = person_op("event", name="buy")
    track.batch(event, event)

    assert len(server.events("u1")) == 2


def test_batch_partial_failure(server: LocalTrackAPI, track: Track) -> None:
    """Invalid operations are listed by batch_index; the rest apply."""
    ops = [
        person_op("identify", attributes={"ok": 1}),
        {"type": "person", "action": "identify", "identifiers": {}},
        person_op("event"),
        {"type": "robot", "action": "identify"},
        person_op("add_device", device={"token": "t", "platform": "palm"}),
        person_op("event", "u2", name="fine"),
        "not an object",
    ]

    response = track.batch(*ops)

    assert response.status_code == 207
    errors = response.json()["errors"]
    assert [e["batch_index"] for e in errors] == [1, 2, 3, 4, 6]
    assert [e["field"] for e in errors[:4]] == [
        "identifiers",
        "name",
        "type",
        "device.platform",
    ]
    for error in errors:
        assert set(error) == {"batch_index", "reason", "field", "message"}
        assert error["message"]

    assert server.person("u1") is not None
    assert len(server.events("u2")) == 1
    assert server.counters()["operations_rejected"] == 5


def test_batch_identifier_rules(track: Track) -> None:
    """Exactly one known identifier; anonymous_id only on events."""
    cases = [
        {"id": "a", "email": "a@x.io"},
        {"user_id": "a"},
        {"id": ""},
        {"id": 5},
        {"anonymous_id": "a"},
    ]
    ops = [
        {"type": "person", "action": "identify", "identifiers": identifiers}
        for identifiers in cases
    ]

    response = track.batch(*ops)

    assert response.status_code == 207
    errors = response.json()["errors"]
    assert [e["batch_index"] for e in errors] == [0, 1, 2, 3, 4]
    assert all(e["reason"] == "invalid" for e in errors)


def test_batch_object_and_delivery_ops(
    server: LocalTrackAPI, track: Track
) -> None:
    """Object and delivery operations are accepted and stored."""
    ops = [
        {
            "type": "object",
            "action": "identify",
            "identifiers": OBJECT,
            "attributes": {"name": "Acme"},
            "cio_relationships": [{"identifiers": {"id": "u1"}}],
        },
        {
            "type": "object",
            "action": "identify_anonymous",
            "identifiers": {"object_type_id": "1", "object_id": "beta"},
            "cio_relationships": [{"identifiers": {"anonymous_id": "a1"}}],
        },
        {
            "type": "object",
            "action": "delete",
            "identifiers": {"object_type_id": "1", "object_id": "beta"},
        },
        {
            "type": "delivery",
            "action": "event",
            "identifiers": {"id": "dlv1"},
            "name": "opened",
            "attributes": {"device_token": "tok"},
        },
    ]

    response = track.batch(*ops)

    assert response.status_code == 200
    objects = server.objects()
    assert len(objects) == 1
    assert objects[0]["attributes"] == {"name": "Acme"}
    assert objects[0]["relationships"][0]["identifiers"] == {"id": "u1"}
    metric = server.metrics()[0]
    assert metric["delivery_id"] == "dlv1"
    assert metric["metric"] == "opened"
    assert metric["source"] == "v2"


def test_batch_invalid_delivery(track: Track) -> None:
    """A delivery op needs a known metric name and a device_token."""
    base = {"type": "delivery", "action": "event", "identifiers": {"id": "d"}}
    response = track.batch(
        dict(base, name="bounced", attributes={"device_token": "t"}),
        dict(base, name="opened", attributes={}),
    )

    assert response.status_code == 207
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["name", "attributes.device_token"]


def test_batch_malformed_body(track: Track) -> None:
    """A body that is not a batch object gets 400 with errors."""
    for body in (b"{oops", b'{"batch": 5}', b"[]", b'{"other": []}'):
        response = track.request("POST", "/api/v2/batch", body)

        assert response.status_code == 400, body
        error = response.json()["errors"][0]
        assert set(error) == {"reason", "field", "message"}


def test_batch_layouts_decoded_alike(
    server: LocalTrackAPI, track: Track
) -> None:
    """Whitespace, extra keys and non-ASCII text decode the same way."""
    op = person_op("identify", attributes={"city": "Zürich"})
    bodies = [
        json.dumps({"batch": [op, op]}, indent=2).encode(),
        json.dumps({"meta": 1, "batch": [op]}).encode(),
        json.dumps({"batch": []}).encode(),
        json.dumps({"batch": [op]}, ensure_ascii=False).encode(),
    ]
    for body in bodies:
        response = track.request("POST", "/api/v2/batch", body)
        assert response.status_code == 200, body

    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"city": "Zürich"}
    assert server.counters()["operations_accepted"] == 4


def test_entity(server: LocalTrackAPI, track: Track) -> None:
    """/api/v2/entity applies one operation sent as the whole body."""
    op = person_op("identify", attributes={"a": 1})

    response = track.request("POST", "/api/v2/entity", op)

    assert response.status_code == 200
    assert server.person("u1") is not None
    assert server.counters()["entity_requests"] == 1


def test_entity_invalid(server: LocalTrackAPI, track: Track) -> None:
    """An invalid entity gets 400 with an errors list."""
    response = track.request("POST", "/api/v2/entity", person_op("event"))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"
    assert server.people() == []
