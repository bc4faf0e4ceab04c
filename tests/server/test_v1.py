"""The v1 paths, one operation per request, and the state they leave."""

from __future__ import annotations

from cio_pipeline._server import LocalTrackAPI

from .conftest import Track


def test_identify_creates_person(server: LocalTrackAPI, track: Track) -> None:
    """PUT /customers/{id} creates a person with attributes and cio_id."""
    response = track.request(
        "PUT",
        "/api/v1/customers/u1",
        {"email": "Ann@Example.com", "plan": "pro", "created_at": 1700000000},
    )

    assert response.status_code == 200
    assert response.json() == {}
    person = server.person("u1")
    assert person is not None
    assert person["email"] == "Ann@Example.com"
    assert person["attributes"] == {"plan": "pro", "created_at": 1700000000}
    assert person["created_at"] == 1700000000
    assert person["cio_id"]
    assert server.person(email="ann@example.com") == person
    assert server.person(cio_id=person["cio_id"]) == person


def test_identify_created_at_defaults_to_now(
    server: LocalTrackAPI, track: Track
) -> None:
    """A person created without created_at gets the time received."""
    track.request("PUT", "/api/v1/customers/u1", {"plan": "free"})

    person = server.person("u1")
    assert person is not None
    assert person["created_at"] > 1_700_000_000


def test_identify_by_email_and_cio_id(
    server: LocalTrackAPI, track: Track
) -> None:
    """A path with @ is an email; a cio_ prefix addresses by cio_id."""
    track.request("PUT", "/api/v1/customers/b%40example.com", {"a": 1})
    person = server.person(email="b@example.com")
    assert person is not None
    assert person["id"] is None

    path = f"/api/v1/customers/cio_{person['cio_id']}"
    track.request("PUT", path, {"id": "u9", "a": 2})

    updated = server.person("u9")
    assert updated is not None
    assert updated["cio_id"] == person["cio_id"]
    assert updated["attributes"] == {"a": 2}


def test_identify_unknown_cio_id_ignored(
    server: LocalTrackAPI, track: Track
) -> None:
    """cio_ids are assigned by the server, so an unknown one creates none."""
    response = track.request("PUT", "/api/v1/customers/cio_ffff", {"a": 1})

    assert response.status_code == 200
    assert server.people() == []
    assert server.counters()["unmatched_operations"] == 1


def test_identify_update_only_does_not_create(
    server: LocalTrackAPI, track: Track
) -> None:
    """_update: true changes an existing person and never creates one."""
    track.request("PUT", "/api/v1/customers/u1", {"_update": True, "a": 1})
    assert server.person("u1") is None

    track.request("PUT", "/api/v1/customers/u1", {"a": 1})
    track.request("PUT", "/api/v1/customers/u1", {"_update": True, "a": 2})
    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"a": 2}


def test_identify_empty_value_removes_attribute(
    server: LocalTrackAPI, track: Track
) -> None:
    """An attribute sent as "" or null is removed from the profile."""
    track.request("PUT", "/api/v1/customers/u1", {"a": 1, "b": 2, "c": 3})
    track.request("PUT", "/api/v1/customers/u1", {"a": "", "b": None})

    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"c": 3}


def test_identify_older_timestamp_keeps_newer(
    server: LocalTrackAPI, track: Track
) -> None:
    """An update with an older _timestamp does not overwrite a newer one."""
    path = "/api/v1/customers/u1"
    track.request("PUT", path, {"plan": "pro", "_timestamp": 200})
    track.request("PUT", path, {"plan": "free", "x": 1, "_timestamp": 100})

    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"plan": "pro", "x": 1}
    assert server.counters()["stale_attributes"] == 1


def test_identify_subscription_topic(
    server: LocalTrackAPI, track: Track
) -> None:
    """A dotted subscription preference key sets one nested topic."""
    key = "cio_subscription_preferences.topics.topic_3"
    track.request("PUT", "/api/v1/customers/u1", {key: True})

    person = server.person("u1")
    assert person is not None
    preferences = person["attributes"]["cio_subscription_preferences"]
    assert preferences == {"topics": {"topic_3": True}}


def test_identify_id_conflict_skipped(
    server: LocalTrackAPI, track: Track
) -> None:
    """An email owned by another person is not moved; the rest applies."""
    track.request("PUT", "/api/v1/customers/u1", {"email": "a@x.io"})
    track.request("PUT", "/api/v1/customers/u2", {"email": "a@x.io", "n": 1})

    other = server.person("u2")
    assert other is not None
    assert other["email"] is None
    assert other["attributes"] == {"n": 1}
    assert server.counters()["identifier_conflicts"] == 1


def test_identify_relationships(server: LocalTrackAPI, track: Track) -> None:
    """v1 cio_relationships add and delete relationships to objects."""
    related = {"identifiers": {"object_type_id": "1", "object_id": "acme"}}
    path = "/api/v1/customers/u1"
    add = {"action": "add_relationships", "relationships": [related]}
    track.request("PUT", path, {"cio_relationships": add})
    person = server.person("u1")
    assert person is not None
    assert person["relationships"][0]["identifiers"]["object_id"] == "acme"

    delete = {"action": "delete_relationships", "relationships": [related]}
    track.request("PUT", path, {"cio_relationships": delete})
    person = server.person("u1")
    assert person is not None
    assert person["relationships"] == []


def test_delete_person(server: LocalTrackAPI, track: Track) -> None:
    """DELETE /customers/{id} removes the profile; it can come back."""
    track.request("PUT", "/api/v1/customers/u1", {"a": 1})
    response = track.request("DELETE", "/api/v1/customers/u1", {})

    assert response.status_code == 200
    assert server.person("u1") is None

    track.request("PUT", "/api/v1/customers/u1", {"b": 1})
    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"b": 1}


def test_track_event(server: LocalTrackAPI, track: Track) -> None:
    """POST /customers/{id}/events stores the event with its fields."""
    body = {
        "name": " purchase ",
        "data": {"price": 5},
        "timestamp": 1700000001,
        "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    }
    response = track.request("POST", "/api/v1/customers/u1/events", body)

    assert response.status_code == 200
    assert server.events("u1") == [
        {
            "name": "purchase",
            "type": "event",
            "data": {"price": 5},
            "timestamp": 1700000001,
            "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        }
    ]


def test_track_page_and_screen(server: LocalTrackAPI, track: Track) -> None:
    """Page and screen views are events with their type."""
    path = "/api/v1/customers/u1/events"
    track.request("POST", path, {"name": "/home", "type": "page"})
    track.request("POST", path, {"name": "Cart", "type": "screen"})

    events = server.events("u1")
    assert [(e["name"], e["type"]) for e in events] == [
        ("/home", "page"),
        ("Cart", "screen"),
    ]
    assert all(e["timestamp"] > 1_700_000_000 for e in events)


def test_anonymous_event_merged_on_identify(
    server: LocalTrackAPI, track: Track
) -> None:
    """Anonymous events join the person identified with that anonymous_id."""
    body = {"name": "visit", "anonymous_id": "anon-1", "data": {"p": 1}}
    track.request("POST", "/api/v1/events", body)
    assert server.anonymous_events("anon-1")[0]["name"] == "visit"

    track.request("PUT", "/api/v1/customers/u1", {"anonymous_id": "anon-1"})

    assert server.anonymous_events() == []
    assert [e["name"] for e in server.events("u1")] == ["visit"]


def test_invite_event(server: LocalTrackAPI, track: Track) -> None:
    """An event without anonymous_id is an invite: stored, no person."""
    body = {"name": "invite", "data": {"recipient": "new@x.io"}}
    response = track.request("POST", "/api/v1/events", body)

    assert response.status_code == 200
    events = server.anonymous_events()
    assert events[0]["anonymous_id"] is None
    assert events[0]["data"] == {"recipient": "new@x.io"}
    assert server.people() == []


def test_add_and_delete_device(server: LocalTrackAPI, track: Track) -> None:
    """Devices are stored by token; flat extra keys become attributes."""
    body = {
        "device": {
            "id": "tok/1",
            "platform": "ios",
            "last_used": 1700000000,
            "app_version": "2.0",
            "attributes": {"device_os": "17"},
        }
    }
    response = track.request("PUT", "/api/v1/customers/u1/devices", body)

    assert response.status_code == 200
    assert server.devices("u1") == [
        {
            "token": "tok/1",
            "platform": "ios",
            "last_used": 1700000000,
            "attributes": {"device_os": "17", "app_version": "2.0"},
        }
    ]

    track.request("DELETE", "/api/v1/customers/u1/devices/tok%2F1")
    assert server.devices("u1") == []


def test_suppress_blocks_identifiers(
    server: LocalTrackAPI, track: Track
) -> None:
    """Suppress deletes the person and ignores later identifies."""
    track.request("PUT", "/api/v1/customers/u1", {"email": "s@x.io"})
    response = track.request("POST", "/api/v1/customers/u1/suppress")

    assert response.status_code == 200
    assert server.person("u1") is None
    assert {"id": "u1"} in server.suppressed()
    assert {"email": "s@x.io"} in server.suppressed()

    track.request("PUT", "/api/v1/customers/u1", {"a": 1})
    track.request("PUT", "/api/v1/customers/s%40x.io", {"a": 1})
    track.request("POST", "/api/v1/customers/u1/events", {"name": "e"})
    assert server.people() == []
    assert server.counters()["suppressed_ignored"] == 3


def test_unsuppress_allows_fresh_profile(
    server: LocalTrackAPI, track: Track
) -> None:
    """Unsuppress frees the identifiers; the next identify starts fresh."""
    track.request("PUT", "/api/v1/customers/u1", {"email": "s@x.io", "a": 1})
    track.request("POST", "/api/v1/customers/u1/suppress")
    response = track.request("POST", "/api/v1/customers/u1/unsuppress")

    assert response.status_code == 200
    assert server.suppressed() == []
    track.request("PUT", "/api/v1/customers/u1", {"b": 2})
    person = server.person("u1")
    assert person is not None
    assert person["attributes"] == {"b": 2}


def test_merge_customers(server: LocalTrackAPI, track: Track) -> None:
    """Merge moves the secondary's data to the primary and deletes it."""
    track.request("PUT", "/api/v1/customers/p1", {"a": 1, "shared": "p"})
    track.request("PUT", "/api/v1/customers/s1", {"b": 2, "shared": "s"})
    track.request("POST", "/api/v1/customers/s1/events", {"name": "e"})
    body = {"primary": {"id": "p1"}, "secondary": {"id": "s1"}}

    response = track.request("POST", "/api/v1/merge_customers", body)

    assert response.status_code == 200
    assert server.person("s1") is None
    primary = server.person("p1")
    assert primary is not None
    assert primary["attributes"] == {"a": 1, "shared": "p", "b": 2}
    assert [e["name"] for e in server.events("p1")] == ["e"]
    assert server.merges()[0]["applied"] is True


def test_merge_missing_primary_does_nothing(
    server: LocalTrackAPI, track: Track
) -> None:
    """Without the primary, the merge is recorded but changes nothing."""
    track.request("PUT", "/api/v1/customers/s1", {"b": 2})
    body = {"primary": {"email": "no@x.io"}, "secondary": {"id": "s1"}}

    response = track.request("POST", "/api/v1/merge_customers", body)

    assert response.status_code == 200
    assert server.person("s1") is not None
    assert server.merges()[0]["applied"] is False


def test_merge_two_identifiers_rejected(
    server: LocalTrackAPI, track: Track
) -> None:
    """A merge side with two identifiers gets 400 with meta.error."""
    body = {
        "primary": {"id": "a", "email": "a@x.io"},
        "secondary": {"id": "b"},
    }

    response = track.request("POST", "/api/v1/merge_customers", body)

    assert response.status_code == 400
    assert "primary" in response.json()["meta"]["error"]
    assert server.merges() == []


def test_segment_membership(server: LocalTrackAPI, track: Track) -> None:
    """Manual segments add and remove existing people; others skipped."""
    track.request("PUT", "/api/v1/customers/u1", {"email": "u1@x.io"})
    track.request("PUT", "/api/v1/customers/u2", {})
    cio_id = server.person("u1")["cio_id"]  # type: ignore[index]
    path = "/api/v1/segments/7/add_customers"

    response = track.request("POST", path, {"ids": ["u1", "u2", "ghost"]})

    assert response.status_code == 200
    assert len(server.segment_members(7)) == 2
    assert server.counters()["segment_ids_skipped"] == 1
    track.request(
        "POST",
        "/api/v1/segments/7/remove_customers?id_type=email",
        {"ids": ["u1@x.io"]},
    )
    assert cio_id not in server.segment_members(7)
    assert server.person("u2")["segments"] == [7]  # type: ignore[index]
    assert server.counters()["operations_accepted"] == 4


def test_segment_invalid_requests(track: Track) -> None:
    """Bad segment ids, id types and id lists get 400 meta.errors."""
    cases = [
        ("/api/v1/segments/abc/add_customers", {"ids": ["u1"]}),
        ("/api/v1/segments/1/add_customers?id_type=phone", {"ids": ["1"]}),
        ("/api/v1/segments/1/add_customers", {"ids": []}),
        ("/api/v1/segments/1/add_customers", {"ids": [1, 2]}),
        ("/api/v1/segments/1/add_customers", {"ids": ["x"] * 1001}),
    ]
    for path, body in cases:
        response = track.request("POST", path, body)
        assert response.status_code == 400, path
        assert response.json()["meta"]["errors"], path


def test_metrics(server: LocalTrackAPI, track: Track) -> None:
    """POST /metrics and /push/events store delivery metrics."""
    body = {"delivery_id": "d1", "metric": "opened", "timestamp": 1700000000}
    assert track.request("POST", "/api/v1/metrics", body).status_code == 200
    push = {"delivery_id": "d2", "event": "delivered", "device_id": "t"}
    assert (
        track.request("POST", "/api/v1/push/events", push).status_code == 200
    )

    metrics = server.metrics()
    assert metrics[0]["metric"] == "opened"
    assert metrics[0]["source"] == "v1"
    assert metrics[1]["metric"] == "delivered"
    assert metrics[1]["source"] == "push"


def test_metrics_invalid(track: Track) -> None:
    """A metric outside the spec's list, or no delivery_id, gets 400."""
    for body in (
        {"delivery_id": "d1", "metric": "read"},
        {"metric": "opened"},
        {"delivery_id": "d1"},
        {"delivery_id": "d1", "metric": "opened", "timestamp": "now"},
    ):
        response = track.request("POST", "/api/v1/metrics", body)
        assert response.status_code == 400, body


def test_region(server: LocalTrackAPI, track: Track) -> None:
    """GET /accounts/region returns the region it was started with."""
    response = track.request("GET", "/api/v1/accounts/region")

    assert response.status_code == 200
    assert response.json() == {
        "url": "https://track.customer.io",
        "region": "us",
        "environment_id": 1,
    }


def test_region_eu() -> None:
    """A server started for the EU returns the EU host."""
    with LocalTrackAPI("s", "k", region="eu", environment_id=42) as server:
        client = Track(server)
        client.session.auth = ("s", "k")
        body = client.request("GET", "/api/v1/accounts/region").json()
        client.close()

    assert body["region"] == "eu"
    assert body["url"] == "https://track-eu.customer.io"
    assert body["environment_id"] == 42


def test_forms_and_unsubscribe(server: LocalTrackAPI, track: Track) -> None:
    """Form submissions get 204; unsubscribe links are stored."""
    form = {"data": {"email": "f@x.io", "name": "Fay"}}
    response = track.request("POST", "/api/v1/forms/f1/submit", form)
    assert response.status_code == 204
    assert response.content == b""

    response = track.request("POST", "/unsubscribe/d9", {"unsubscribe": True})
    assert response.status_code == 200

    state = server.snapshot()
    assert state["forms"] == [{"form_id": "f1", "data": form["data"]}]
    assert state["unsubscribes"] == [
        {"delivery_id": "d9", "unsubscribe": True}
    ]


def test_v1_invalid_bodies(track: Track) -> None:
    """Malformed v1 bodies get 400 with meta.errors."""
    cases = [
        ("PUT", "/api/v1/customers/u1", b"{not json"),
        ("PUT", "/api/v1/customers/u1", b"[1, 2]"),
        ("PUT", "/api/v1/customers/u1", {"_timestamp": "yesterday"}),
        ("POST", "/api/v1/customers/u1/events", {"data": {}}),
        ("POST", "/api/v1/customers/u1/events", {"name": "e", "type": "x"}),
        ("POST", "/api/v1/customers/u1/events", {"name": "e", "data": [1]}),
        ("PUT", "/api/v1/customers/u1/devices", {"device": {"id": "t"}}),
        (
            "PUT",
            "/api/v1/customers/u1/devices",
            {"device": {"id": "t", "platform": "windows"}},
        ),
        ("PUT", "/api/v1/customers/%20/devices", {}),
    ]
    for method, path, body in cases:
        response = track.request(method, path, body)
        assert response.status_code == 400, (path, body)
        assert isinstance(response.json()["meta"]["errors"][0], str)
