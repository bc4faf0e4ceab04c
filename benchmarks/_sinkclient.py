"""Client for the counting sink's control endpoints."""

from __future__ import annotations

import http.client
import json
import select
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

SINK_SCRIPT = Path(__file__).with_name("_sink.py")


class SinkClient:
    """Calls ``/_sink/...`` on one sink over a fresh connection each time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def get(self, path: str, seconds: float, **query: object) -> Any:
        """Send one control request and return the decoded JSON response.

        ``seconds`` is how long the sink may take to respond; the socket
        timeout adds 5 seconds to it.
        """
        target = f"/_sink/{path}?{urlencode(query)}"
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=seconds + 5
        )
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(
                f"sink control request {target} failed: {response.status}"
            )
        return json.loads(body)

    def reset(
        self, mode: str = "ok", latency_ms: float = 0, check: bool = False
    ) -> Any:
        """Zero the counters and set how the sink responds."""
        return self.get(
            "reset",
            5.0,
            mode=mode,
            latency_ms=latency_ms,
            check=int(check),
        )

    def stats(self) -> Any:
        """Return the counters."""
        return self.get("stats", 5.0)

    def wait(
        self, acked: int = 0, received: int = 0, timeout: float = 30
    ) -> Any:
        """Wait until the counts are reached or ``timeout`` seconds pass."""
        return self.get(
            "wait", timeout, acked=acked, received=received, timeout=timeout
        )


class SinkProcess:
    """The sink running in a child process, pinned to one core."""

    def __init__(self, cpu: int | None) -> None:
        command = [sys.executable, str(SINK_SCRIPT)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True
        )
        stdout = self.process.stdout
        ready, _, _ = select.select([stdout] if stdout else [], [], [], 10.0)
        line = stdout.readline() if stdout and ready else ""
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"the sink did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line)}"
        self.client = SinkClient(self.url)

    def close(self) -> None:
        """Stop the sink process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
