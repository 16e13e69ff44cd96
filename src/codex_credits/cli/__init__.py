"""The ``codex-credits`` command line.

``main(argv)`` runs one command and returns an :class:`ExitCode`; it never lets
a traceback reach the user for a user's mistake. ``run()`` is the console
entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from codex_credits._version import __version__
from codex_credits.cli.bounds import check_args
from codex_credits.cli.commands import catalog
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.failure import report, split_debug
from codex_credits.cli.parser import CliParser, LazyCommands

__all__ = ["ExitCode", "build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered (each configured when chosen)."""
    parser = CliParser(
        prog="codex-credits",
        description="Exact Codex credit accounting: price tasks, replay usage, forecast, check.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 API or data error.",
    )
    parser.add_argument("--version", action="version", version=f"codex-credits {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=LazyCommands)
    assert isinstance(sub, LazyCommands)
    for module, name, help_text in catalog():
        sub.add_command(module, name, help_text)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns its exit code (see :class:`ExitCode`)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    argv, debug = split_debug(sys.argv[1:] if argv is None else argv, dict(os.environ))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE_ERROR
    handler = getattr(args, "_handler", None)
    if handler is None:
        parser.print_help(out)
        return ExitCode.USAGE_ERROR
    try:
        check_args(args)
        return int(handler(args, out, err))
    except KeyboardInterrupt:
        err.write("codex-credits: interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # every failure exits in its class, one line (cli/failure.py)
        return report(exc, err, debug=debug)


def run() -> None:
    """Console entry point: ``codex-credits``."""
    sys.exit(main())
