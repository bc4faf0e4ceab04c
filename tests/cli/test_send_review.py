"""Cases a review of ``send`` found: paths, URLs, numbers and bytes."""

from __future__ import annotations

from pathlib import Path

from cio_pipeline._server import LocalTrackAPI
from tests.cli.conftest import API_KEY, read_lines, run_cli, write_lines


def test_failed_path_that_is_a_directory(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "in.jsonl", ["{bad"])
    result = run_cli(
        "send", "--url", server.url, "--failed", str(tmp_path), str(path)
    )
    assert result.returncode == 2
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_failed_file_is_reported(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [{"type": "identify", "id": "u1"}, "{bad"],
    )
    result = run_cli(
        "send", "--url", server.url, "--failed", "/dev/full", str(path)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "writing the dead-letter file /dev/full failed" in result.stderr
    assert server.person("u1") is not None


def test_invalid_url_is_a_usage_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", [{"type": "delete", "id": "u"}])
    for url in ("not a url", "http://user:secret@127.0.0.1:9"):
        result = run_cli("send", "--url", url, str(path))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "url must" in result.stderr
        assert "secret" not in result.stderr


def test_big_integers_stay_exact(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"type": "identify", "id": "u1", '
        '"attributes": {"account": 123456789012345678901234}}\n'
    )
    result = run_cli("send", "--url", server.url, str(path))
    assert result.returncode == 0, result.stderr
    person = server.person("u1")
    assert person is not None
    assert person["attributes"]["account"] == 123456789012345678901234


def test_pageview_timestamp_sets_event_time(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            {
                "type": "pageview",
                "customer_id": "u1",
                "page": "/home",
                "data": {"timestamp": "1997-01-18T00:00:00Z", "ref": "ad"},
            }
        ],
    )
    result = run_cli("send", "--url", server.url, str(path))
    assert result.returncode == 0, result.stderr
    (view,) = server.events("u1")
    assert view["timestamp"] == 853545600
    assert view["data"] == {"ref": "ad"}


def test_non_utf8_line_does_not_resend_garbled(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"type": "identify", "id": "\xff\xfe"}\n')
    failed = tmp_path / "failed.jsonl"
    first = run_cli(
        "send", "--url", server.url, "--failed", str(failed), str(path)
    )
    assert first.returncode == 1
    (line,) = read_lines(failed)
    assert "\\xff" in line["record"]
    again = tmp_path / "again.jsonl"
    second = run_cli(
        "send", "--url", server.url, "--failed", str(again), str(failed)
    )
    assert second.returncode == 1
    assert server.people() == []


def test_key_masked_in_dead_letter_detail(
    server: LocalTrackAPI, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            {
                "type": "add_device",
                "customer_id": "u1",
                "device_id": "d1",
                "platform": API_KEY,
            }
        ],
    )
    failed = tmp_path / "failed.jsonl"
    result = run_cli(
        "send", "--url", server.url, "--failed", str(failed), str(path)
    )
    assert result.returncode == 1
    (line,) = read_lines(failed)
    assert API_KEY not in line["detail"]
    assert API_KEY not in result.stderr


def test_dry_run_does_not_mask_file_names(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "dry-run-orders.jsonl", [{"type": "delete", "id": ""}]
    )
    env = {"PATH": "/usr/bin:/bin"}
    result = run_cli("send", "--dry-run", str(path), env=env)
    assert result.returncode == 1
    assert "dry-run-orders.jsonl:1" in result.stderr
