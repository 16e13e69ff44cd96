"""``codex-credits check``: evaluate a policy's rules and exit 0, 1, 2 or 3."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO

from codex_credits.check.policy import load_policy
from codex_credits.check.render import (
    diff_baseline,
    load_baseline,
    render,
    report_json,
    write_summary,
)
from codex_credits.check.rules import check
from codex_credits.cli.args import instant_arg
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.clock import SystemClock
from codex_credits.errors import ConfigError
from codex_credits.escape import terminal

NAME = "check"
HELP = "check usage against a policy (budgets, alerts, forecast, batch) for CI"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        type=Path,
        default=Path("codex-credits.toml"),
        metavar="FILE",
        help="codex-credits.toml, a JSON policy, or pyproject.toml with [tool.codex-credits]",
    )
    add_usage_source(parser)
    parser.add_argument(
        "--at", type=instant_arg, default=None, help="instant of the check (default now)"
    )
    parser.add_argument(
        "--format", choices=("table", "json", "markdown", "github"), default="table"
    )
    parser.add_argument(
        "--baseline", type=Path, metavar="REPORT.json", help="a saved JSON report to diff"
    )
    parser.add_argument(
        "--write-baseline",
        type=Path,
        metavar="REPORT.json",
        help="also save this run's JSON report there (the next run's --baseline)",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="write the Markdown report to FILE (default with --format github: "
        "appended to $GITHUB_STEP_SUMMARY when set)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print nothing; only the exit code speaks"
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    policy = load_policy(args.policy)
    baseline = _baseline(args, err)
    usage = load_usage(args, err)
    at = args.at if args.at is not None else SystemClock().now()
    result = check(policy, usage, at=at)
    diff = diff_baseline(result, baseline) if baseline is not None else None
    if not args.quiet:
        out.write(render(result, args.format, diff) + "\n")
    summary, append = _summary_path(args)
    if summary is not None:
        try:
            write_summary(result, diff, summary, append=append)
        except OSError as exc:
            raise ConfigError(f"cannot write the summary {summary}: {exc.strerror}") from None
    if args.write_baseline is not None:
        _write(args.write_baseline, report_json(result) + "\n")
    return ExitCode.OK if result.passed else ExitCode.CHECK_FAILED


def _baseline(args: argparse.Namespace, err: TextIO) -> dict[str, Any] | None:
    """The ``--baseline`` report; None when there is none yet and this run writes it."""
    if args.baseline is None:
        return None
    if not args.baseline.exists() and args.write_baseline is not None:
        err.write(
            f"codex-credits: no baseline at {terminal(str(args.baseline))} yet; "
            f"this run's report goes to {terminal(str(args.write_baseline))}\n"
        )
        return None
    return load_baseline(args.baseline)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def _summary_path(args: argparse.Namespace) -> tuple[Path | None, bool]:
    """Where the Markdown report goes, and whether to append: ``--summary`` (written
    afresh), else ``$GITHUB_STEP_SUMMARY`` with ``--format github`` (appended)."""
    if args.summary is not None:
        return Path(args.summary), False
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if args.format == "github" and step_summary:
        return Path(step_summary), True
    return None, False
