"""``codex-credits report``: usage totals by period or dimension, with allocated cost.

With ``--tier T --anchor ISO`` the usage is replayed through the tier by the
credit engine (``simulate``) and the engine's bill is allocated to the rows
(:func:`~codex_credits.core.chargeback.chargeback`): each row pays its share
of the subscription and the overage its own events drew, and the rows add up
to the engine's total cost to the cent. The usage report of the latest period
then shows the engine's rate-limit events, reserve used, rollover consumed and
real overage next to the seed's estimate.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    add_opening_balance,
    load_card,
    positive_int,
    start_as_anchor_note,
)
from codex_credits.cli.commands.simulate import add_engine_options
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table
from codex_credits.cli.report_output import add_tz, load_tz, price_known, render_report
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.core.chargeback import chargeback, period_usage_report
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import GROUPINGS, Report, build_report
from codex_credits.core.simulate import simulate
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagereport import UsageReport

NAME = "report"
HELP = "usage report: totals by period or dimension, shares, allocated subscription and overage"


def configure(parser: argparse.ArgumentParser) -> None:
    add_card(parser)
    parser.add_argument("--by", choices=GROUPINGS, default="project", help="grouping")
    add_tz(parser)
    plan = parser.add_argument_group(
        "plan (replays the usage through the tier: allocated cost and the usage report)"
    )
    plan.add_argument("--tier", help="a tier of the card (e.g. pro)")
    plan.add_argument("--seats", type=positive_int, default=1)
    add_anchor(plan, "the billing anchor", alias=False)
    plan.add_argument(
        "--months",
        type=positive_int,
        default=None,
        help="billing periods to simulate (default: from the anchor to the last event)",
    )
    add_opening_balance(plan)
    add_engine_options(parser)
    add_format(parser)
    add_usage_source(parser)  # --start/--end: the fetched range (default from --anchor)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.tier is not None and args.anchor is None and args.start is not None:
        # --start is the fetched range; with a tier and no --anchor it once meant the anchor
        err.write(start_as_anchor_note("codex-credits report"))
        args.anchor = args.start
    if args.tier is not None and args.anchor is None:
        raise argparse.ArgumentTypeError("--tier needs --anchor ISO (the billing anchor)")
    log = load_usage(args, err)
    card = load_card(args)
    tz = load_tz(args)
    extra: dict[str, Any] = {"card": card.name}
    sections: list[Table] = []
    if args.tier is not None:
        report = _with_engine(args, log, card, err, extra, sections)
    else:
        amounts, unpriced = price_known(log, card)
        if unpriced:
            err.write(f"codex-credits: card {card.name} does not price {', '.join(unpriced)}\n")
        report = build_report(log, card, by=args.by, tz=tz, amounts_micro=amounts)
    render_report(
        report,
        args.format,
        out,
        title=f"Usage by {args.by} on {card.name}",
        extra=extra,
        sections=sections,
    )
    return ExitCode.OK


def _with_engine(
    args: argparse.Namespace,
    log: UsageLog,
    card: RateCard,
    err: TextIO,
    extra: dict[str, Any],
    sections: list[Table],
) -> Report:
    months = args.months
    if months is None:
        months = 1
        if len(log) and log.end >= args.anchor:
            months = period_containing(args.anchor, log.end).index + 1
    result = simulate(
        log,
        args.tier,
        seats=args.seats,
        card=card,
        start=args.anchor,
        months=months,
        on_rate_limit=args.on_rate_limit,
        mode=args.mode,
        rollover_balance=args.rollover_balance,
        reserve=args.reserve,
    )
    if result.ignored_events:
        err.write(
            f"codex-credits: {result.ignored_events} event(s) outside the simulated "
            "periods were ignored\n"
        )
    totals = result.totals
    if totals.blocked_ccu or totals.unserved_ccu:
        err.write(
            f"codex-credits: the engine did not serve {totals.blocked_ccu + totals.unserved_ccu}"
            f" {card.unit} (blocked {totals.blocked_ccu}, never served {totals.unserved_ccu});"
            " rows show it as requested, not consumed\n"
        )
    tz = load_tz(args)
    current = period_usage_report(log, result, card=card, tz=tz)
    extra["totals"] = totals.to_dict()
    extra["usage_report"] = _usage_data(current)
    sections.append(_usage_table(current))
    return chargeback(log, result, by=args.by, tz=tz, card=card)


def _usage_data(r: UsageReport) -> dict[str, Any]:
    data = r.model_dump(exclude={"by_dimension"})
    data["by_dimension"] = {report.by: report.to_data() for report in r.by_dimension}
    return data


def _usage_table(r: UsageReport) -> Table:
    table = Table(["usage report", "value"], title="Usage report of the latest period")
    table.add("period", f"{r.start.date()} .. {r.end.date()} ({r.period_days} days)")
    table.add(f"consumed ({r.unit})", r.consumed)
    table.add("allocation + rollover", r.allocation + r.rollover)
    table.add("period budget", r.period_budget)
    table.add("estimated overage", r.estimated_overage)
    table.add("estimated overage USD", r.estimated_overage_usd)
    table.add("rate-limit events", r.rate_limit_events)
    table.add("reserve used", r.reserve_used)
    table.add("rollover consumed", r.rollover_consumed)
    table.add("overage (engine)", r.overage)
    table.add("overage USD (engine)", r.overage_usd)
    return table
