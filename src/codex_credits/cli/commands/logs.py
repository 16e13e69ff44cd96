"""``codex-credits logs``: real usage from Codex CLI session logs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from codex_credits.cli.args import add_format, instant_arg, workers_arg
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table
from codex_credits.cli.progress import progress_bar
from codex_credits.cli.report_output import add_tz, load_tz, price_known, render_report
from codex_credits.core.ratecard import BUILTIN_CARDS, TOKEN_CARD, RateCard
from codex_credits.core.reports import build_report
from codex_credits.errors import UsageDataError
from codex_credits.io.rollout import CodexLogs, RolloutSummary, codex_home, read_codex_logs

NAME = "logs"
HELP = "read Codex CLI session logs: tokens and cost by day, week, month, session, model, project"

_SUMMARY = (
    "files",
    "lines",
    "bad_lines",
    "bad_rate_limits",
    "unreadable",
    "requests",
    "token_count_events",
    "repeated_totals",
    "total_resets",
    "copied_requests",
    "usage_records",
    "sessions",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "tool_calls",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        metavar="PATH",
        help="a Codex home, a sessions folder or rollout files (default $CODEX_HOME or ~/.codex)",
    )
    parser.add_argument("--since", type=instant_arg, metavar="ISO", help="only requests from then")
    parser.add_argument(
        "--card",
        default=TOKEN_CARD,
        metavar="NAME|PATH",
        help=f"rate card (default {TOKEN_CARD}; also {', '.join(BUILTIN_CARDS)} or a file)",
    )
    parser.add_argument(
        "--by",
        choices=("day", "week", "month", "session", "model", "project"),
        default="day",
        help="grouping (default day)",
    )
    add_tz(parser)
    add_format(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 3) when any line, rate limit, file or folder had to be skipped",
    )
    parser.add_argument(
        "--workers",
        type=workers_arg,
        default=1,
        metavar="N|auto",
        help="read files in N processes, this one included (auto: one per CPU; default 1); "
        "the result is the same for any N",
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = RateCard.resolve(args.card)
    tz = load_tz(args)
    path = args.path if args.path is not None else codex_home()
    with progress_bar(err, "reading logs") as update:

        def progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
            text = f"{done}/{total} files, {done_bytes / 1e6:.1f}/{total_bytes / 1e6:.1f} MB"
            update(done_bytes, total_bytes, text)

        result = read_codex_logs(path, since=args.since, progress=progress, workers=args.workers)
    _report_problems(result.summary, err)
    if args.strict and result.summary.skipped:
        raise UsageDataError(
            f"--strict: {_skipped_text(result.summary)} in the Codex logs under {path}",
            path=str(path),
        )
    log = result.for_card(card)
    amounts, unpriced = price_known(log, card)
    if unpriced:
        err.write(
            f"codex-credits: card {card.name} does not price {', '.join(unpriced)}: "
            "those requests are counted in tokens but left out of the amounts\n"
        )
    report = build_report(result.log, card, by=args.by, tz=tz, amounts_micro=amounts, tokens=True)
    extra: dict[str, Any] = {
        "card": card.name,
        "summary": {name: getattr(result.summary, name) for name in _SUMMARY},
        "skipped": {
            "total": result.summary.skipped,
            "bad_lines": result.summary.bad_lines,
            "bad_rate_limits": result.summary.bad_rate_limits,
            "unreadable": result.summary.unreadable,
            "problems": list(result.summary.problems),
        },
        "plan_windows": [w.model_dump() for w in result.plan_windows],
        "unpriced_models": unpriced,
    }
    title = f"Codex usage by {args.by} on {card.name} ({'UTC' if tz is None else args.tz})"
    render_report(
        report,
        args.format,
        out,
        tokens=True,
        title=title,
        extra=extra,
        sections=[_summary_table(result), _windows_table(result), *_skipped_table(result)],
    )
    return ExitCode.OK


def _summary_table(result: CodexLogs) -> Table:
    table = Table(["read", "count"], title="What was read")
    for name in _SUMMARY:
        table.add(name.replace("_", " "), getattr(result.summary, name))
    return table


def _windows_table(result: CodexLogs) -> Table:
    table = Table(
        ["limit", "window", "used %", "resets at", "observed at"],
        title="Plan windows, as last observed (Codex publishes no absolute limit)",
    )
    for w in result.plan_windows:
        table.add(w.limit_id or "codex", w.kind, w.used_percent, w.resets_at, w.observed_at)
    return table


def _skipped_table(result: CodexLogs) -> list[Table]:
    """A footer naming what was skipped (none when nothing was)."""
    summary = result.summary
    if not summary.skipped:
        return []
    table = Table(["skipped", "count"], title=f"Skipped and reported: {_skipped_text(summary)}")
    table.add("bad lines", summary.bad_lines)
    table.add("bad rate limits", summary.bad_rate_limits)
    table.add("unreadable files or folders", summary.unreadable)
    return [table]


def _skipped_text(summary: RolloutSummary) -> str:
    return (
        f"skipped {summary.bad_lines} bad line(s), {summary.bad_rate_limits} bad rate "
        f"limit(s) and {summary.unreadable} unreadable file(s) or folder(s)"
    )


def _report_problems(summary: RolloutSummary, err: TextIO) -> None:
    if summary.skipped:
        err.write(f"codex-credits: warning: {_skipped_text(summary)}\n")
        for problem in summary.problems[:5]:
            err.write(f"  {problem}\n")
