"""Argument parsing for ``cio-pipeline send``, ``demo`` and ``serve``."""

from __future__ import annotations

import argparse

from cio_pipeline._version import __version__

DEFAULT_FLUSH_TIMEOUT = 30.0
DEFAULT_RATE_LIMIT = 100.0

SEND_DESCRIPTION = """\
Send people and events from JSON Lines or CSV files to the Customer.io
Track API through the batching client. Records that fail are written
to a dead-letter file that `send` can read back.
"""

SEND_EPILOG = """\
environment:
  CUSTOMERIO_SITE_ID    the workspace's Site ID (or --site-id)
  CUSTOMERIO_API_KEY    the workspace's Track API key (or --api-key-file)

exit status:
  0    every record was delivered
  1    some records failed (they are in the dead-letter file), or
       reading stopped early because the input or the server failed
  2    usage error, missing or rejected credentials: nothing was sent
  130  stopped by Ctrl-C (SIGINT)
  143  stopped by SIGTERM

Input formats, the dead-letter format and examples: docs/command-line.md
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the whole command line."""
    parser = argparse.ArgumentParser(
        prog="cio-pipeline",
        description="A batching client for the Customer.io Track API.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_send(commands)
    _add_demo(commands)
    _add_serve(commands)
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}"
        )
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port number from 0 to 65535, got {text!r}"
        )
    return int(text)


class _RejectKeyOption(argparse.Action):
    """Reject ``--api-key`` without repeating the key in the message."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "send takes no --api-key, because the process list would show "
            "the key: set CUSTOMERIO_API_KEY or pass --api-key-file FILE"
        )


def _add_send(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    send = commands.add_parser(
        "send",
        allow_abbrev=False,
        help="send people and events from files to the Track API",
        description=SEND_DESCRIPTION,
        epilog=SEND_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    send.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="input files, read in order; '-' or none reads standard "
        "input; names ending in .gz are decompressed",
    )
    send.add_argument(
        "--csv",
        choices=("people", "events"),
        help="read CSV of people or events instead of JSON Lines",
    )
    send.add_argument(
        "--failed",
        metavar="FILE",
        help="append failed records to FILE as JSON Lines (default: "
        "cio-pipeline-failed-<date>-<time>.jsonl in the current "
        "directory, created on the first failure)",
    )
    _add_credentials(send)
    send.add_argument(
        "--no-check",
        action="store_true",
        help="skip the credentials check before reading",
    )
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="read, validate and encode every record without sending; "
        "needs no credentials",
    )
    send.add_argument(
        "--flush-timeout",
        type=_positive_float,
        default=DEFAULT_FLUSH_TIMEOUT,
        metavar="SECONDS",
        help="maximum time to wait for queued records at the end or "
        "after Ctrl-C (default: %(default)s)",
    )
    send.add_argument(
        "--rate-limit",
        type=_positive_float,
        default=DEFAULT_RATE_LIMIT,
        metavar="REQUESTS",
        help="maximum requests a second to the Track API "
        "(default: %(default)s)",
    )
    _add_output(send)


def _add_credentials(send: argparse.ArgumentParser) -> None:
    send.add_argument(
        "--site-id",
        help="the workspace's Site ID (default: $CUSTOMERIO_SITE_ID)",
    )
    send.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the Track API key from FILE (default: "
        "$CUSTOMERIO_API_KEY); no option takes the key itself, because "
        "the process list would show it",
    )
    send.add_argument(
        "--api-key",
        action=_RejectKeyOption,
        help=argparse.SUPPRESS,
    )
    send.add_argument(
        "--region",
        choices=("us", "eu"),
        default="us",
        help="the workspace's region (default: %(default)s)",
    )
    send.add_argument(
        "--url",
        help="send to this server instead of the region's, such as a "
        "local one from `cio-pipeline serve`",
    )


def _add_output(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="show no progress; errors and the summary still go to "
        "standard error",
    )
    command.add_argument(
        "--json",
        action="store_true",
        help="also print the summary as one JSON object on standard output",
    )


def _add_demo(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    demo = commands.add_parser(
        "demo",
        allow_abbrev=False,
        help="send the CDNOW purchase log to a local Track API server",
        description="Start the local Track API server, send the CDNOW "
        "purchase log to it through the client (one identify per "
        "customer, one purchase event per line) and check that every "
        "person and purchase arrived. Exits with 0 only when they did.",
    )
    demo.add_argument(
        "--full",
        action="store_true",
        help="send the whole log (69,659 purchases of 23,570 customers) "
        "instead of the 10%% sample (6,919 purchases of 2,357)",
    )
    _add_output(demo)


def _add_serve(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    serve = commands.add_parser(
        "serve",
        allow_abbrev=False,
        help="run the local Track API server",
        description="Run the local Track API server until SIGINT or "
        "SIGTERM. The first line of standard output is its URL.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=0,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    serve.add_argument(
        "--site-id",
        required=True,
        help="the Site ID the server accepts",
    )
    serve.add_argument(
        "--api-key",
        required=True,
        help="the API key the server accepts; this is a test key, so it "
        "may show in the process list",
    )
    serve.add_argument(
        "--region",
        choices=("us", "eu"),
        default="us",
        help="the region the region look-up returns (default: %(default)s)",
    )
    serve.add_argument(
        "--mode",
        choices=("full", "count"),
        default="full",
        help="'full' validates and stores every operation; 'count' only "
        "checks credentials and counts operations, for benchmarks "
        "(default: %(default)s)",
    )
