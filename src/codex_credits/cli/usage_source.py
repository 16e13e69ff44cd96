"""Where a command's usage comes from: ``--usage FILE`` or ``--from-api``.

Every command that reads usage calls :func:`add_usage_source` when configuring
its parser (after its own options) and :func:`load_usage` when running, so all
of them accept the same options and report problems the same way.

With ``--from-api`` the usage is fetched from the usage API for
``[--start, --end)`` in ``--bucket-width`` buckets grouped by user, project and
task type; the key comes from ``OPENAI_ADMIN_KEY`` (else ``OPENAI_API_KEY``)
and the server from ``CODEX_CREDITS_BASE_URL``. In a command with a billing
anchor (``--anchor``), fetching begins at the anchor. A progress bar goes to
standard error only when it is a terminal.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from codex_credits.cli.args import instant_arg
from codex_credits.cli.progress import progress_bar
from codex_credits.core.timeutil import add_months_clamped
from codex_credits.core.usage import LogSummary, UsageLog
from codex_credits.io.usagefile import read_usage

if TYPE_CHECKING:
    from codex_credits.client import CodexUsageBucket

__all__ = ["UsageSource", "add_usage_source", "load_usage", "load_usage_source", "report_reading"]

API_GROUPS = ("user_id", "project_id", "task_type")


def add_usage_source(parser: argparse.ArgumentParser) -> None:
    """Add the usage-source options: a file, or the API and its range."""
    group = parser.add_argument_group("usage source (a file, or the usage API)")
    group.add_argument("--usage", metavar="FILE", type=Path, help="a CSV or JSONL usage file")
    group.add_argument(
        "--lenient",
        action="store_true",
        help="skip (and count) bad rows instead of stopping at the first one",
    )
    group.add_argument(
        "--from-api",
        action="store_true",
        help="fetch usage from the usage API instead of --usage (key in OPENAI_ADMIN_KEY, "
        "server in CODEX_CREDITS_BASE_URL) from --start (--anchor in a command that has one) "
        "to --end",
    )
    options = parser._option_string_actions
    if "--start" not in options:
        group.add_argument(
            "--start",
            type=instant_arg,
            metavar="ISO",
            help="with --from-api: first instant fetched (inclusive), e.g. 2026-06-01",
        )
    if "--end" not in options:
        group.add_argument(
            "--end",
            type=instant_arg,
            metavar="ISO",
            help="with --from-api: end of the range (exclusive)",
        )
    group.add_argument(
        "--bucket-width",
        choices=("1h", "1d"),
        default="1h",
        help="with --from-api: bucket width (default 1h; events are stamped at bucket start)",
    )


@dataclass(frozen=True)
class UsageSource:
    """What was read: the log, and (from the API) the buckets it came from."""

    log: UsageLog
    buckets: tuple[CodexUsageBucket, ...] | None = None
    pages: int = 0


def load_usage(args: argparse.Namespace, err: TextIO) -> UsageLog:
    """Read the usage the arguments name; skipped rows are reported on ``err``."""
    return load_usage_source(args, err).log


def load_usage_source(args: argparse.Namespace, err: TextIO) -> UsageSource:
    """Like :func:`load_usage`, keeping the API's buckets (exact totals, task counts)."""
    path: Path | None = getattr(args, "usage", None)
    if getattr(args, "from_api", False):
        if path is not None:
            raise argparse.ArgumentTypeError("give either --usage FILE or --from-api, not both")
        return _fetch(args, err)
    if path is None:
        raise argparse.ArgumentTypeError("give --usage FILE, or --from-api --start ISO --end ISO")
    with progress_bar(err, f"reading {path.name}"):
        log = read_usage(path, strict=not getattr(args, "lenient", False))
    report_reading(log.summary, path, err)
    return UsageSource(log)


def report_reading(summary: LogSummary, path: Path, err: TextIO) -> None:
    """Name skipped rows and dropped duplicates on ``err``."""
    if summary.skipped:
        err.write(f"codex-credits: skipped {summary.skipped} bad row(s) in {path}\n")
        for problem in summary.problems[:5]:
            err.write(f"  {problem}\n")
    if summary.duplicates:
        err.write(f"codex-credits: dropped {summary.duplicates} duplicate event_id(s) in {path}\n")


def _fetch(args: argparse.Namespace, err: TextIO) -> UsageSource:
    from codex_credits.client import (
        UsageClient,
        codex_usage_call,
        unique_buckets,
        usage_log,
    )

    start: datetime | None = getattr(args, "start", None) or getattr(args, "anchor", None)
    end: datetime | None = _fetch_end(args, start)
    if start is None or end is None:
        first = "--anchor" if hasattr(args, "anchor") else "--start"
        raise argparse.ArgumentTypeError(f"--from-api needs {first} ISO and --end ISO")
    if end <= start:
        raise argparse.ArgumentTypeError("--end must be later than --start")
    call = codex_usage_call(
        start=start, end=end, bucket_width=args.bucket_width, group_by=API_GROUPS
    )
    buckets: list[CodexUsageBucket] = []
    pages = 0
    with progress_bar(err, "fetching usage") as update, UsageClient() as client:
        for page in client.iter_pages(call):
            pages += 1
            buckets.extend(page.data)
            update(pages, None, f"page {pages} ({len(buckets)} buckets)")
    log = usage_log(buckets)
    unique = unique_buckets(buckets)  # the same rule as the log: a repeated bucket counts once
    if log.summary.duplicates:
        err.write(
            f"codex-credits: the API served {log.summary.duplicates} bucket result(s) "
            "more than once; each is counted once\n"
        )
    return UsageSource(log, unique, pages)


def _fetch_end(args: argparse.Namespace, start: datetime | None) -> datetime | None:
    """``--end``; else the command's ``--at``; else ``--start`` plus ``--months``."""
    end: datetime | None = getattr(args, "end", None)
    if end is not None:
        return end
    at: datetime | None = getattr(args, "at", None)
    if at is not None:
        return at
    months: int | None = getattr(args, "months", None)
    if start is not None and months:
        return add_months_clamped(start, months)
    return None
