"""Tests of ``cio-pipeline send`` as a subprocess against the local server."""

from __future__ import annotations

import json
from pathlib import Path

from cio_pipeline._server import LocalTrackAPI

from .conftest import (
    API_KEY,
    environment,
    read_lines,
    run_cli,
    summary_of,
    write_lines,
)

PEOPLE = [
    {
        "type": "identify",
        "id": "00001",
        "attributes": {"plan": "pro", "created_at": "1997-01-01T00:00:00Z"},
    },
    {
        "type": "identify",
        "id": "00002",
        "attributes": {"created_at": 852076800},
    },
]
EVENTS = [
    {
        "type": "track",
        "customer_id": "00001",
        "name": "purchase",
        "data": {"cds": 2},
        "timestamp": "1997-01-02",
    },
    {
        "type": "track",
        "customer_id": "00001",
        "name": "purchase",
        "data": {"cds": 2},
        "timestamp": "1997-01-02",
    },
    {
        "type": "pageview",
        "customer_id": "00002",
        "page": "/home",
        "data": {"timestamp": 852163200},
    },
]


def test_json_lines_delivered_to_server(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """People and events arrive; identical lines are separate events."""
    path = write_lines(tmp_path / "in.jsonl", PEOPLE + EVENTS)
    result = run_cli("send", "--url", server.url, "--json", str(path))
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["read"] == 5
    assert summary["delivered"] == 5
    assert summary["failed"] == 0
    first = server.person("00001")
    assert first is not None
    assert first["attributes"]["plan"] == "pro"
    assert first["created_at"] == 852076800
    purchases = server.events("00001")
    assert [event["timestamp"] for event in purchases] == [852163200] * 2
    assert [event["data"] for event in purchases] == [{"cds": 2}] * 2
    views = server.events("00002")
    assert [(view["type"], view["name"]) for view in views] == [
        ("page", "/home")
    ]
    assert not (tmp_path / "failed.jsonl").exists()


def test_several_files_read_in_order(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """Files are read in the order given, '-' standing for stdin."""
    first = write_lines(tmp_path / "a.jsonl", PEOPLE[:1])
    second = write_lines(tmp_path / "b.jsonl", PEOPLE[1:])
    stdin = json.dumps(EVENTS[0]) + "\n"
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--json",
        str(first),
        "-",
        str(second),
        stdin=stdin,
    )
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["last_source"] == f"{second}:1"
    assert summary_of(result)["delivered"] == 3
    assert len(server.people()) == 2


def test_stdin_when_no_file_given(server: LocalTrackAPI) -> None:
    """With no file, send reads JSON Lines from standard input."""
    stdin = "".join(json.dumps(record) + "\n" for record in PEOPLE)
    result = run_cli("send", "--url", server.url, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["delivered"] == 2
    assert server.person("00002") is not None


def test_csv_people_and_events(server: LocalTrackAPI, tmp_path: Path) -> None:
    """CSV people and events become identify and track calls."""
    people = tmp_path / "people.csv"
    people.write_text(
        "id,email,created_at,plan\n"
        "00001,one@example.com,1997-01-01,pro\n"
        ",two@example.com,852076800,\n",
        encoding="utf-8",
    )

    events = tmp_path / "events.csv"
    events.write_text(
        "customer_id,name,timestamp,cds\n00001,purchase,1997-01-02,3\n",
        encoding="utf-8",
    )

    result = run_cli(
        "send", "--url", server.url, "--csv", "people", str(people)
    )
    assert result.returncode == 0, result.stderr
    result = run_cli(
        "send", "--url", server.url, "--csv", "events", str(events)
    )
    assert result.returncode == 0, result.stderr

    first = server.person("00001")
    assert first is not None
    assert first["email"] == "one@example.com"
    assert first["attributes"]["plan"] == "pro"
    assert first["created_at"] == 852076800

    second = server.person(email="two@example.com")
    assert second is not None
    assert second["created_at"] == 852076800

    [purchase] = server.events("00001")
    assert purchase["timestamp"] == 852163200
    assert purchase["data"] == {"cds": "3"}


def test_csv_from_stdin(server: LocalTrackAPI) -> None:
    """--csv reads standard input too."""
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--csv",
        "people",
        "--json",
        stdin="id,plan\n7,basic\n",
    )
    assert result.returncode == 0, result.stderr
    person = server.person("7")
    assert person is not None
    assert person["attributes"] == {"plan": "basic"}


def test_bad_lines_reported_and_dead_lettered(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """Bad lines name file and line, go to the dead-letter file, exit 1."""
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            PEOPLE[0],
            "{not json",
            {"type": "teleport", "customer_id": "1"},
            {"type": "track", "customer_id": "1"},
            {
                "type": "track",
                "customer_id": "1",
                "name": "x",
                "timestamp": "soon",
            },
            PEOPLE[1],
        ],
    )
    failed = tmp_path / "failed.jsonl"

    result = run_cli(
        "send",
        "--url",
        server.url,
        "--json",
        "--failed",
        str(failed),
        str(path),
    )
    assert result.returncode == 1
    for number in (2, 3, 4, 5):
        assert f"{path}:{number}: " in result.stderr

    summary = summary_of(result)
    assert summary["delivered"] == 2
    assert summary["failed_by_reason"] == {
        "invalid_json": 1,
        "invalid_timestamp": 1,
        "missing_field": 1,
        "unknown_operation": 1,
    }

    entries = read_lines(failed)
    assert [entry["source"] for entry in entries] == [
        f"{path}:{number}" for number in (2, 3, 4, 5)
    ]
    assert entries[0]["record"] == "{not json"
    assert entries[0]["error"] == "invalid_json"
    assert entries[1]["record"] == {"type": "teleport", "customer_id": "1"}

    assert len(server.people()) == 2


def test_rejected_records_dead_lettered(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """A record the server rejects is dead-lettered with its source."""
    long_value = {
        "type": "identify",
        "id": "9",
        "attributes": {"bio": "x" * 1200},
    }
    path = write_lines(
        tmp_path / "in.jsonl", [PEOPLE[0], long_value, PEOPLE[1]]
    )
    failed = tmp_path / "failed.jsonl"
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--json",
        "--failed",
        str(failed),
        str(path),
    )
    assert result.returncode == 1
    summary = summary_of(result)
    assert summary["delivered"] == 2
    assert summary["failed"] == 1
    [entry] = read_lines(failed)
    assert entry["record"] == long_value
    assert entry["source"] == f"{path}:2"
    assert entry["error"] != "interrupted"
    assert server.person("9") is None


def test_dead_letter_round_trip(server: LocalTrackAPI, tmp_path: Path) -> None:
    """A fixed dead-letter file is sent again as it is."""
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            '{"type": "identify", "id": "42", "attributes": {"plan": "pro"}',
            PEOPLE[0],
        ],
    )
    failed = tmp_path / "failed.jsonl"
    first = run_cli(
        "send", "--url", server.url, "--failed", str(failed), str(path)
    )
    assert first.returncode == 1
    [entry] = read_lines(failed)
    assert entry["error"] == "invalid_json"
    entry["record"] += "}"
    fixed = write_lines(tmp_path / "fixed.jsonl", [entry])
    second = run_cli("send", "--url", server.url, "--json", str(fixed))
    assert second.returncode == 0, second.stderr
    assert summary_of(second)["delivered"] == 1
    person = server.person("42")
    assert person is not None
    assert person["attributes"] == {"plan": "pro"}


def test_default_dead_letter_file_in_working_directory(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    """Without --failed, failures go to a dated file that the summary names."""
    result = run_cli(
        "send", "--url", server.url, "--json", stdin="[]\n", cwd=tmp_path
    )
    assert result.returncode == 1
    name = summary_of(result)["dead_letter_file"]
    assert name.startswith("cio-pipeline-failed-")
    assert name in result.stderr
    assert read_lines(tmp_path / name)[0]["error"] == "not_an_object"


def test_dry_run_sends_nothing(server: LocalTrackAPI, tmp_path: Path) -> None:
    """--dry-run validates and encodes, without credentials or requests."""
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            *PEOPLE,
            {"type": "identify", "id": "x", "attributes": {"k": "v" * 40000}},
        ],
    )
    env = environment()
    del env["CUSTOMERIO_API_KEY"]
    result = run_cli(
        "send", "--url", server.url, "--dry-run", "--json", str(path), env=env
    )
    assert result.returncode == 1
    summary = summary_of(result)
    assert summary["dry_run"] is True
    assert summary["delivered"] == 2
    assert summary["failed_by_reason"] == {"too_large": 1}
    assert server.counters()["requests"] == 0
    assert not list(tmp_path.glob("cio-pipeline-failed-*"))


def test_no_check_skips_region_lookup(server: LocalTrackAPI) -> None:
    """--no-check sends no region look-up; the default sends one."""
    stdin = json.dumps(PEOPLE[0]) + "\n"
    checked = run_cli("send", "--url", server.url, stdin=stdin)
    assert checked.returncode == 0, checked.stderr
    paths = [request["path"] for request in server.requests()]
    assert paths[0] == "/api/v1/accounts/region"
    server.reset()
    unchecked = run_cli("send", "--url", server.url, "--no-check", stdin=stdin)
    assert unchecked.returncode == 0, unchecked.stderr
    paths = [request["path"] for request in server.requests()]
    assert "/api/v1/accounts/region" not in paths


def test_key_file_option(server: LocalTrackAPI, tmp_path: Path) -> None:
    """--api-key-file and --site-id replace the environment variables."""
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY + "\n", encoding="utf-8")
    env = environment()
    del env["CUSTOMERIO_API_KEY"]
    env["CUSTOMERIO_SITE_ID"] = "wrong"
    result = run_cli(
        "send",
        "--url",
        server.url,
        "--site-id",
        "cli-site",
        "--api-key-file",
        str(key_file),
        stdin=json.dumps(PEOPLE[0]) + "\n",
        env=env,
    )
    assert result.returncode == 0, result.stderr
