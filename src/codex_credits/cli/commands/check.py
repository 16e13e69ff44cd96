"""``codex-credits check``: evaluate a policy's rules and exit 0, 1, 2 or 3."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from codex_credits.check.policy import load_policy
from codex_credits.check.render import diff_baseline, load_baseline, render
from codex_credits.check.rules import check
from codex_credits.cli.args import instant_arg
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.clock import SystemClock

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
        "--quiet", action="store_true", help="print nothing; only the exit code speaks"
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    policy = load_policy(args.policy)
    usage = load_usage(args, err)
    at = args.at if args.at is not None else SystemClock().now()
    result = check(policy, usage, at=at)
    diff = diff_baseline(result, load_baseline(args.baseline)) if args.baseline else None
    if not args.quiet:
        out.write(render(result, args.format, diff) + "\n")
    return ExitCode.OK if result.passed else ExitCode.CHECK_FAILED
