"""``codex-credits simulate``: replay usage through a tier, period by period."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from codex_credits.cli.account_source import add_state_source, check_plan_options, fetch_state
from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    add_opening_balance,
    load_card,
    positive_int,
)
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.core.account import AccountState
from codex_credits.core.events import Mode, Policy
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import STATEMENT_FIELDS, SimulationResult
from codex_credits.io.budgetfile import load_budgets

NAME = "simulate"
HELP = "replay usage through a tier's rules: one statement per billing period"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tier", help="a tier of the card (free, go, plus, pro)")
    parser.add_argument("--seats", type=positive_int, default=None, help="seats (default 1)")
    add_anchor(
        parser,
        "the billing anchor, where the simulation starts (a whole hour; "
        "with --state-from-api: the start of the account's current period)",
    )
    parser.add_argument("--months", type=positive_int, default=1, help="billing periods")
    add_engine_options(parser)
    add_opening_balance(parser)
    add_state_source(
        parser,
        "the simulation opens at the start of the account's current period, with the "
        "rollover it began with and today's reserve",
    )
    parser.add_argument(
        "--budgets", default=None, metavar="FILE", help="budgets (and overrides), TOML or JSON"
    )
    add_card(parser)
    add_format(parser)
    add_usage_source(parser)  # last: --from-api fetches from --anchor


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--on-rate-limit`` and ``--mode``, shared with ``compare``."""
    parser.add_argument(
        "--on-rate-limit",
        choices=[p.value for p in Policy],
        default=Policy.DEFER.value,
        help="defer rate-limited work to the next hour (default) or drop it",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.REQUEST.value,
        help="request: all or nothing (default); fluid: serve the part that fits",
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    budgets, overrides = load_budgets(args.budgets) if args.budgets else ((), ())
    account = _account(args, card)
    log = load_usage(args, err)
    result = simulate(
        log,
        account,
        seats=args.seats or 1,
        card=card,
        start=args.anchor,
        months=args.months,
        on_rate_limit=args.on_rate_limit,
        mode=args.mode,
        budgets=budgets,
        overrides=overrides,
        rollover_balance=args.rollover_balance,
        reserve=args.reserve,
    )
    if args.format == "json":
        write_json(result.to_dict(), out)
        return ExitCode.OK
    out.write(statement_table(result, card.unit).render(args.format) + "\n")
    if result.alerts:
        alerts = Table(["budget", "threshold", "at", "spend", "limit"], title="Budget alerts")
        for a in result.alerts:
            alerts.add(a.budget, a.threshold, a.at, a.spend, a.amount)
        out.write("\n" + alerts.render(args.format) + "\n")
    if result.ignored_events:
        err.write(
            f"codex-credits: {result.ignored_events} event(s) outside the simulated "
            "periods were ignored\n"
        )
    return ExitCode.OK


def _account(args: argparse.Namespace, card: RateCard) -> str | AccountState:
    """The tier to simulate, or with ``--state-from-api`` the account's opening state.

    Sets ``args.anchor`` to the current period's start when it was not given, so
    that ``--from-api`` fetches usage from there.
    """
    if not args.state_from_api:
        if args.rollover_consumed is not None:
            raise argparse.ArgumentTypeError("--rollover-consumed needs --state-from-api")
        if args.tier is None or args.anchor is None:
            raise argparse.ArgumentTypeError(
                "give --tier and --anchor (the billing anchor), or --state-from-api"
            )
        return str(args.tier)
    if args.rollover_balance is not None or args.reserve is not None:
        raise argparse.ArgumentTypeError(
            "--state-from-api takes the rollover balance and the reserve from the account; "
            "drop --rollover-balance and --reserve"
        )
    state = fetch_state(card, args.rollover_consumed).state
    check_plan_options(args, state)
    if args.anchor is None:
        args.anchor = state.period.start
    elif args.anchor != state.period.start:
        raise argparse.ArgumentTypeError(
            f"--anchor {args.anchor.isoformat()} is not the start of the account's current "
            f"period ({state.period.start.isoformat()}); drop --anchor"
        )
    return state


def statement_table(result: SimulationResult, unit: str) -> Table:
    """One column per period and one for the totals; one row per statement field."""
    plan = result.plan
    columns = ["", *(p.start.date().isoformat() for p in result.periods), "total"]
    title = (
        f"{plan.tier} x{plan.seats} on {plan.card}, {len(result.periods)} period(s) from "
        f"{result.periods[0].start.isoformat().replace('+00:00', 'Z')}, mode {result.mode}, "
        f"rate-limited work {'deferred' if result.on_rate_limit == 'defer' else 'dropped'} "
        f"({unit}, USD)"
    )
    table = Table(columns, title=title)
    rows: list[dict[str, Any]] = [p.to_dict() for p in result.periods]
    totals = result.totals.to_dict()
    for name in STATEMENT_FIELDS[2:]:
        table.add(name, *(row[name] for row in rows), totals[name])
    return table
