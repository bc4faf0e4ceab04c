"""``cio-pipeline send``: push records from files into the Track API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from cio_pipeline import (
    Client,
    CredentialsError,
    RegionMismatchError,
    TrackAPIError,
    ValidationError,
)

from ._credentials import UsageError, redact, resolve_credentials
from ._deadletter import DeadLetterWriter
from ._progress import Counters, Progress
from ._sender import BLOCK_TIMEOUT, RecordSender, finish, read_inputs
from ._signals import StopSignal
from ._summary import SendSummary
from ._tracking import Tracker

# Credentials for a dry run without any: it sends nothing.
DRY_RUN_CREDENTIAL = "dry-run"

# Maximum records in the client's queue. The reader waits for room
# when it is full, so memory does not grow with the input.
QUEUE_SIZE = 10_000

PROGRAM = "cio-pipeline send"


def run_send(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    stdout: IO[str],
    stderr: IO[str],
) -> int:
    """Run ``send`` and return its exit status."""
    try:
        site_id, api_key = _credentials(args, environ)
        paths = args.files or ["-"]
        dead_letter_path = _dead_letter_path(args, paths)
    except UsageError as error:
        stderr.write(f"{PROGRAM}: error: {error}\n")
        return 2
    if "-" in paths and sys.stdin.isatty():
        stderr.write(
            f"{PROGRAM}: reading {'CSV' if args.csv else 'JSON Lines'} "
            f"from the terminal; end with Ctrl-D\n"
        )

    dead_letters = DeadLetterWriter(
        dead_letter_path, "" if api_key == DRY_RUN_CREDENTIAL else api_key
    )
    run = _SendRun(args, api_key, stderr, dead_letters)
    try:
        with StopSignal() as stop:
            summary = run.execute(site_id, paths, stop)
    finally:
        run.close()
    if summary is None:
        return 2
    _print_summary(summary, args.json, stdout, stderr)
    return summary.exit_status


class _SendRun:
    """The parts of one ``send`` run, wired together."""

    def __init__(
        self,
        args: argparse.Namespace,
        api_key: str,
        stderr: IO[str],
        dead_letters: DeadLetterWriter,
    ) -> None:
        self._args = args
        self._api_key = api_key
        # The dry run's stand-in key is no secret: masking it would mask
        # the same word in file names.
        self._secret = "" if api_key == DRY_RUN_CREDENTIAL else api_key
        self._stderr = stderr
        self._dead_letters = dead_letters
        self._counters = Counters()
        self._progress = Progress(
            self._counters, stderr, progress_mode(args, stderr), label="send"
        )
        self._tracker = Tracker(self._counters, dead_letters, self._report)
        self._handler = _ProgressHandler(self._progress, self._secret)
        logging.getLogger("cio_pipeline").addHandler(self._handler)

    def execute(
        self, site_id: str, paths: list[str], stop: StopSignal
    ) -> SendSummary | None:
        """Send every input; return the summary, or None if not started."""
        args = self._args
        try:
            client = _make_client(args, site_id, self._api_key, self._tracker)
        except ValidationError as error:
            self._progress.close()
            self._report(f"error: {redact(str(error), self._secret)}")
            return None
        problem = _check(args, client)
        if problem is not None:
            client.shutdown(0)
            self._progress.close()
            self._report(f"error: {problem}")
            return None

        started = time.monotonic()
        sender = RecordSender(
            client,
            self._tracker,
            self._counters,
            self._progress,
            stop,
            assign_event_ids=not args.dry_run,
        )
        sender.send_all(read_inputs(paths, args.csv))
        finish(client, self._tracker, self._progress, stop, args.flush_timeout)
        elapsed = time.monotonic() - started
        self._progress.close()

        path = self._dead_letters.path
        self._dead_letters.close()
        write_error = self._dead_letters.error
        return SendSummary(
            read=self._counters.read,
            delivered=self._counters.delivered,
            failed=dict(self._counters.failed),
            elapsed=elapsed,
            dead_letter_file=None if path is None else str(path),
            last_source=sender.last_source,
            stopped_by=stop.signum,
            stop_reason=sender.stop_reason,
            dry_run=args.dry_run,
            dead_letter_error=None
            if write_error is None
            else str(write_error),
        )

    def close(self) -> None:
        """Close the dead-letter file and stop printing client logs."""
        self._progress.close()
        self._dead_letters.close()
        logging.getLogger("cio_pipeline").removeHandler(self._handler)

    def _report(self, line: str) -> None:
        self._progress.write(f"{PROGRAM}: {redact(line, self._secret)}")


def progress_mode(args: argparse.Namespace, stderr: IO[str]) -> str:
    """Return the progress mode: ``off``, ``bar`` or ``lines``."""
    if args.quiet:
        return "off"
    return "bar" if stderr.isatty() else "lines"


def _credentials(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[str, str]:
    try:
        return resolve_credentials(args.site_id, args.api_key_file, environ)
    except UsageError:
        if args.dry_run:
            # A dry run sends nothing, so it needs no credentials.
            return DRY_RUN_CREDENTIAL, DRY_RUN_CREDENTIAL
        raise


def _dead_letter_path(
    args: argparse.Namespace, paths: list[str]
) -> Path | None:
    for path in paths:
        if path != "-" and not os.access(path, os.R_OK):
            reason = (
                "no such file"
                if not Path(path).exists()
                else "permission denied"
            )
            raise UsageError(f"cannot read input file {path}: {reason}")
        if path != "-" and Path(path).is_dir():
            raise UsageError(f"input {path} is a directory, not a file")
    if args.failed is None:
        if args.dry_run:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Path(f"cio-pipeline-failed-{stamp}.jsonl")
    failed = Path(args.failed)
    if failed.is_dir():
        raise UsageError(
            f"--failed {failed} is a directory: name a file in it instead"
        )
    if not failed.parent.is_dir():
        raise UsageError(
            f"cannot write the dead-letter file {failed}: its directory "
            f"does not exist"
        )
    for path in paths:
        if path != "-" and failed.exists() and failed.samefile(path):
            raise UsageError(
                f"--failed {failed} is also an input file: name another "
                f"file, or move it first"
            )
    return failed


def _make_client(
    args: argparse.Namespace, site_id: str, api_key: str, tracker: Tracker
) -> Client:
    client = Client(
        site_id,
        api_key,
        region=args.region,
        url=args.url,
        max_queue_size=QUEUE_SIZE,
        on_full="block",
        block_timeout=BLOCK_TIMEOUT,
        rate_limit=args.rate_limit,
        on_error=tracker.on_error,
        on_success=tracker.on_success,
        atexit=False,
    )
    tracker.attach(client, dry_run=args.dry_run)
    return client


def _check(args: argparse.Namespace, client: Client) -> str | None:
    """Return why the credentials check failed, or None."""
    if args.no_check or args.dry_run:
        return None
    try:
        client.check_credentials()
    except CredentialsError:
        return (
            "the Track API rejected the Site ID and API key (HTTP 401): "
            "check CUSTOMERIO_SITE_ID and CUSTOMERIO_API_KEY, or "
            "--site-id and --api-key-file"
        )
    except RegionMismatchError as error:
        return f"{error} (the option is --region)"
    except TrackAPIError as error:
        return (
            f"{error}: check --url and the network, or skip the check "
            f"with --no-check"
        )
    return None


# Client log messages that send reports itself. The queue is full
# whenever the reader is ahead of the Track API, and send then waits and
# tries again. Failed records are reported one by one, and what a
# shutdown left undelivered is in the summary.
_SILENCED = re.compile(r"queue full|\d+ records failed: |shutdown timed out")


class _ProgressHandler(logging.Handler):
    """Print the client's warnings through the progress display."""

    def __init__(self, progress: Progress, api_key: str) -> None:
        super().__init__(logging.WARNING)
        self._progress = progress
        self._api_key = api_key

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name == "cio_pipeline._worker" and _SILENCED.match(message):
            return
        message = redact(message, self._api_key)
        self._progress.write(
            f"{PROGRAM}: {record.levelname.lower()}: {message}"
        )


def _print_summary(
    summary: SendSummary, as_json: bool, stdout: IO[str], stderr: IO[str]
) -> None:
    for line in summary.lines():
        stderr.write(f"{PROGRAM}: {line}\n")
    stderr.flush()
    if as_json:
        stdout.write(json.dumps(summary.as_json()) + "\n")
        stdout.flush()
