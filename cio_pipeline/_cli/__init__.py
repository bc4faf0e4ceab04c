"""The ``cio-pipeline`` command line: ``send``, ``demo`` and ``serve``."""

from __future__ import annotations

import os
import sys

from ._args import build_parser
from ._demo import run_demo
from ._send import run_send
from ._serve import run_serve


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: the arguments after the program name; None reads
            ``sys.argv``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits with 2 on a usage error and 0 after --help.
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            "cio-pipeline: error: name a command: send, demo or serve\n"
        )
        return 2
    if args.command == "send":
        return run_send(args, os.environ, sys.stdout, sys.stderr)
    if args.command == "demo":
        return run_demo(args, sys.stdout, sys.stderr)
    return run_serve(args, sys.stdout, sys.stderr)
