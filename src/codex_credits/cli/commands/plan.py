"""``codex-credits plan``: price and decide a batch of task specs before dispatch.

The account is a fresh one (``--tier``, ``--seats``, ``--anchor``), the same
after replaying ``--usage`` up to ``--at`` (a simulated state), or the real
one (``--state-from-api``). Exit codes as for ``check``: 0 when no task is
refused (deferred tasks only warn), 1 when some task is refused.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from codex_credits.cli.account_source import add_state_source, fetch_state
from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    add_opening_balance,
    instant_arg,
    load_card,
    positive_int,
)
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, to_json, to_jsonable
from codex_credits.core.account import AccountState, open_account
from codex_credits.core.ratecard import RateCard
from codex_credits.core.usage import UsageLog
from codex_credits.io.usagefile import read_usage
from codex_credits.tasks.decide import DispatchPolicy
from codex_credits.tasks.estimate import task_records
from codex_credits.tasks.lint import Severity
from codex_credits.tasks.plan import TaskPlan, plan_tasks
from codex_credits.tasks.spec import load_tasks
from codex_credits.tasks.state import account_state_at

NAME = "plan"
HELP = "price and decide task specs before dispatch: allow, defer or refuse, with reasons"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "tasks", type=Path, metavar="TASKS", help="task specs: .json, .jsonl, .toml"
    )
    parser.add_argument("--tier", help="a tier of the card (free, go, plus, pro)")
    parser.add_argument("--seats", type=positive_int, default=None, help="seats (default 1)")
    add_anchor(parser, "the billing anchor (a whole hour)")
    parser.add_argument(
        "--at",
        type=instant_arg,
        default=None,
        help="instant of dispatch (default: --anchor, or just after the last event of --usage)",
    )
    parser.add_argument("--usage", type=Path, metavar="FILE", help="usage to replay up to --at")
    parser.add_argument(
        "--history", type=Path, metavar="FILE", help="finished tasks (usage file) to estimate from"
    )
    parser.add_argument(
        "--refuse-at",
        choices=[*(s.value for s in Severity), "never"],
        default="error",
        help="lint severity that refuses a task (default error)",
    )
    parser.add_argument("--price", choices=("p50", "p90", "cap"), default="p90")
    parser.add_argument(
        "--on-full",
        choices=("wait", "refuse"),
        default="wait",
        help="when every concurrent-task slot is busy: wait (defer) or refuse",
    )
    add_opening_balance(parser)
    add_state_source(parser, "tasks are decided against the account as it is now")
    add_card(parser)
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    specs = load_tasks(args.tasks)
    state = _state(args, card)
    history = task_records(read_usage(args.history), card) if args.history else None
    policy = DispatchPolicy(
        refuse_at=None if args.refuse_at == "never" else Severity(args.refuse_at),
        price=args.price,
        on_full=args.on_full,
    )
    plan = plan_tasks(specs, state, state.as_of, policy, history=history, card=card)
    if args.format == "json":
        write_plan_json(plan, out)
    else:
        out.write(plan_table(plan).render(args.format) + "\n")
    return ExitCode.CHECK_FAILED if plan.count("refuse") else ExitCode.OK


def _state(args: argparse.Namespace, card: RateCard) -> AccountState:
    if args.state_from_api:
        return fetch_state(card, args.rollover_consumed, at=args.at).state
    if args.tier is None or args.anchor is None:
        raise argparse.ArgumentTypeError("give --tier and --anchor (the billing anchor)")
    seats = args.seats or 1
    log: UsageLog | tuple[()] = ()
    if args.usage is None:
        at = args.at if args.at is not None else args.anchor
        if at == args.anchor:
            return open_account(
                card,
                args.tier,
                seats,
                args.anchor,
                rollover_balance=args.rollover_balance,
                reserve=args.reserve,
            )
    else:
        log = read_usage(args.usage)
        at = args.at
        if at is None:
            at = max(args.anchor, log.end + timedelta(microseconds=1)) if len(log) else args.anchor
    return account_state_at(
        log,
        args.tier,
        args.anchor,
        at,
        seats=seats,
        card=card,
        rollover_balance=args.rollover_balance,
        reserve=args.reserve,
    )


def write_plan_json(plan: TaskPlan, out: TextIO) -> None:
    """The plan's JSON (``TaskPlan.to_json``), one task per line: fast for large batches."""
    data = plan.to_json()
    tasks = data.pop("tasks")
    head = to_json(data)
    out.write(head[:-2] + ',\n  "tasks": [\n')
    for i, row in enumerate(tasks):
        end = ",\n" if i < len(tasks) - 1 else "\n"
        out.write("    " + json.dumps(to_jsonable(row), ensure_ascii=False) + end)
    out.write("  ]\n}\n")


def plan_table(plan: TaskPlan) -> Table:
    """One row per task: verdict, amount, when it would fit, and the first reason."""
    title = (
        f"{len(plan.decisions)} task(s) at {plan.at.isoformat()}: {plan.count('allow')} allowed, "
        f"{plan.count('defer')} deferred, {plan.count('refuse')} refused; "
        f"{plan.total_cost} CCU committed"
    )
    table = Table(["#", "task", "verdict", "CCU", "estimate", "fits at", "reasons"], title=title)
    for row in plan.rows():
        reasons: list[Any] = row["reasons"]
        table.add(
            row["task"],
            row["name"],
            row["verdict"],
            row["amount"],
            row["estimate"],
            row["fits_at"] or "",
            "; ".join(reasons) if reasons else "",
        )
    return table
