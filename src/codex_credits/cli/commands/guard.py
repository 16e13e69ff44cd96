"""``codex-credits guard``: replay a Codex CLI session log through a task's caps.

Reads one rollout file (or ``-`` for standard input, so ``tail -f`` can feed
it) and reports where the guard stops the session (iteration cap, file scope or
count, timeout, CCU cap) and what the session spent after that point. Exit 0
when the session stayed within its caps, 1 when the guard stops it (as
``check``), 2 for bad options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from codex_credits.cli.args import add_card, add_format, decimal_arg, load_card, positive_int
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.tasks.guard import DEFAULT_MAX_ITERATIONS, TaskGuard
from codex_credits.tasks.rollout_watch import GuardReport, watch_rollout
from codex_credits.tasks.spec import TaskSpec, load_tasks

NAME = "guard"
HELP = "replay a Codex CLI session log through a task's caps: where it would stop, what it saves"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="ROLLOUT", help="a rollout .jsonl file, or - for stdin")
    parser.add_argument("--tasks", type=Path, help="task specs (.json, .jsonl, .toml)")
    parser.add_argument("--task", help="the spec's name in --tasks (default: the first)")
    parser.add_argument("--max-iterations", type=positive_int, default=None, metavar="N")
    parser.add_argument("--timeout", type=decimal_arg, default=None, metavar="MIN")
    parser.add_argument("--max-ccu", type=decimal_arg, default=None, metavar="CCU")
    parser.add_argument("--max-files", type=positive_int, default=None, metavar="N")
    parser.add_argument(
        "--scope",
        action="append",
        default=None,
        metavar="PATH",
        help="a path, folder or glob the task may touch (repeatable)",
    )
    parser.add_argument("--test-filter", default=None, help="what marks a test run")
    parser.add_argument("--model", default=None, help="model to assume until the log names one")
    add_card(parser)
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    spec = _spec(args)
    guard = TaskGuard(
        max_iterations=args.max_iterations
        or (spec.max_iterations if spec else None)
        or DEFAULT_MAX_ITERATIONS,
        file_scope=tuple(args.scope or (spec.file_scope if spec else ())),
        max_files=args.max_files or (spec.max_files if spec else None),
        timeout_minutes=args.timeout or (spec.timeout if spec else None),
        max_ccu=args.max_ccu or (spec.max_ccu if spec else None),
    )
    test_filter = args.test_filter or (spec.test_filter if spec else None)
    source: Any = sys.stdin.buffer if args.log == "-" else Path(args.log)
    if isinstance(source, Path) and not source.is_file():
        raise argparse.ArgumentTypeError(f"no such rollout file: {source}")
    report = watch_rollout(source, guard, card, test_filter=test_filter, model=args.model)
    data = report_json(report, card.unit)
    if args.format == "json":
        write_json(data, out)
    else:
        table = Table(["figure", "value"], title=f"guard on {args.log}")
        for key, value in data.items():
            table.add(key, value if value is not None else "")
        out.write(table.render(args.format) + "\n")
    return ExitCode.CHECK_FAILED if report.stopped else ExitCode.OK


def _spec(args: argparse.Namespace) -> TaskSpec | None:
    if args.tasks is None:
        return None
    specs = load_tasks(args.tasks)
    if args.task is None:
        return specs[0] if specs else None
    for spec in specs:
        if spec.name == args.task:
            return spec
    raise argparse.ArgumentTypeError(f"no task named {args.task!r} in {args.tasks}")


def report_json(report: GuardReport, unit: str) -> dict[str, Any]:
    """``{"stopped", "reason", "message", "line", "at", "iterations", "spent", "beyond", "unit"}``."""
    stop = report.stop
    return {
        "stopped": report.stopped,
        "reason": stop.reason if stop else None,
        "message": stop.message if stop else None,
        "line": report.stop_line,
        "at": report.stopped_at,
        "iterations": report.iterations,
        "spent": report.ccu_spent,
        "beyond": report.ccu_beyond,
        "unit": unit,
    }
