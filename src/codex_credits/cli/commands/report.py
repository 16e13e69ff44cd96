"""``codex-credits report``: usage totals by period or dimension, with allocated cost."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any, TextIO

from codex_credits.cli.args import add_card, instant_arg, load_card, positive_int
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table
from codex_credits.cli.report_output import add_tz, load_tz, price_known, render_report
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.core.periods import period_containing
from codex_credits.core.reports import GROUPINGS, UsageReport, build_report, usage_report

NAME = "report"
HELP = "usage report: totals by period or dimension, shares, allocated subscription and overage"


def configure(parser: argparse.ArgumentParser) -> None:
    add_usage_source(parser)
    add_card(parser)
    parser.add_argument("--by", choices=GROUPINGS, default="project", help="grouping")
    add_tz(parser)
    plan = parser.add_argument_group("plan (for allocated cost and the period's usage report)")
    plan.add_argument("--tier", help="a tier of the card (e.g. pro)")
    plan.add_argument("--seats", type=positive_int, default=1)
    plan.add_argument("--start", type=instant_arg, metavar="ANCHOR", help="billing anchor")
    plan.add_argument(
        "--rollover", type=Decimal, default=Decimal(0), help="rollover balance at period start"
    )
    parser.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    log = load_usage(args, err)
    card = load_card(args)
    tz = load_tz(args)
    amounts, unpriced = price_known(log, card)
    if unpriced:
        err.write(f"codex-credits: card {card.name} does not price {', '.join(unpriced)}\n")
    extra: dict[str, Any] = {"card": card.name}
    sections: list[Table] = []
    subscription = None
    if args.tier is not None:
        if args.start is None:
            raise argparse.ArgumentTypeError("--tier needs --start ANCHOR (the billing anchor)")
        tier = card.tier(args.tier)
        tier.check_seats(args.seats, args.tier)
        if len(log):
            first = period_containing(args.start, log.start)
            last = period_containing(args.start, log.end)
            periods = last.index - first.index + 1
            subscription = tier.price_per_seat_usd * args.seats * periods
            period = last
            current = usage_report(
                log,
                card,
                start=period.start,
                end=period.end,
                allocation=tier.pool(args.seats),
                rollover=args.rollover,
                overage_rate_usd=tier.overage_usd_per_ccu,
                dimensions=(),
                tz=tz,
            )
            extra["usage_report"] = current.model_dump()
            sections.append(_usage_table(current))
    report = build_report(
        log, card, by=args.by, tz=tz, amounts_micro=amounts, subscription_usd=subscription
    )
    render_report(
        report,
        args.format,
        out,
        title=f"Usage by {args.by} on {card.name}",
        extra=extra,
        sections=sections,
    )
    return ExitCode.OK


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
    return table
