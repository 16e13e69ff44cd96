"""Where a command's usage comes from: ``--usage FILE`` (or, later, ``--from-api``).

Every command that reads usage calls :func:`add_usage_source` when configuring
its parser and :func:`load_usage` when running, so all of them accept the same
options and report problems the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from codex_credits.core.usage import UsageLog
from codex_credits.io.usagefile import read_usage

__all__ = ["add_usage_source", "load_usage"]


def add_usage_source(parser: argparse.ArgumentParser) -> None:
    """Add ``--usage FILE`` and ``--lenient``."""
    group = parser.add_argument_group("usage source")
    group.add_argument("--usage", metavar="FILE", type=Path, help="a CSV or JSONL usage file")
    group.add_argument(
        "--lenient",
        action="store_true",
        help="skip (and count) bad rows instead of stopping at the first one",
    )


def load_usage(args: argparse.Namespace, err: TextIO) -> UsageLog:
    """Read the usage the arguments name; skipped rows are reported on ``err``."""
    path: Path | None = getattr(args, "usage", None)
    if path is None:
        raise argparse.ArgumentTypeError("give --usage FILE")
    log = read_usage(path, strict=not getattr(args, "lenient", False))
    summary = log.summary
    if summary.skipped:
        err.write(f"codex-credits: skipped {summary.skipped} bad row(s) in {path}\n")
        for problem in summary.problems[:5]:
            err.write(f"  {problem}\n")
    if summary.duplicates:
        err.write(f"codex-credits: dropped {summary.duplicates} duplicate event_id(s) in {path}\n")
    return log
