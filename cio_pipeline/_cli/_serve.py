"""``cio-pipeline serve``: run the local Track API server until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType
from typing import IO

from cio_pipeline._server import LocalTrackAPI

PROGRAM = "cio-pipeline serve"

# Seconds between two checks for a stop signal; any value works, since
# the handler sets the event at once.
WAKE_INTERVAL = 1.0


def run_serve(
    args: argparse.Namespace, stdout: IO[str], stderr: IO[str]
) -> int:
    """Serve until SIGINT or SIGTERM and return the exit status.

    The first line of standard output is the server's URL alone, so a
    script can read it and start sending.
    """
    try:
        server = LocalTrackAPI(
            args.site_id,
            args.api_key,
            host=args.host,
            port=args.port,
            region=args.region,
            mode=args.mode,
        )
    except ValueError as error:
        stderr.write(f"{PROGRAM}: error: {error}\n")
        return 2
    try:
        server.start()
    except OSError as error:
        stderr.write(
            f"{PROGRAM}: error: cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error}\n"
        )
        return 1
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {
        signum: signal.signal(signum, stop)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        stdout.write(server.url + "\n")
        stdout.flush()
        stderr.write(
            f"{PROGRAM}: local Track API on {server.url} for site id "
            f"{args.site_id}; stop it with Ctrl-C\n"
        )
        stderr.flush()
        while not stopping.wait(WAKE_INTERVAL):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    stderr.write(f"{PROGRAM}: stopped\n")
    return 0
