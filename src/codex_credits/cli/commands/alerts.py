"""``codex-credits alerts``: runaway tasks, burn-rate spikes and a balance running out early."""

from __future__ import annotations

import argparse
from typing import TextIO

from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    decimal_arg,
    load_card,
    positive_int,
)
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.core.alerts import scan_alerts

NAME = "alerts"
HELP = "scan usage for tasks above a threshold, burn-rate spikes and early exhaustion"


def configure(parser: argparse.ArgumentParser) -> None:
    add_usage_source(parser)
    add_card(parser)
    parser.add_argument("--tier", help="the account's tier (enables the exhaustion rule)")
    parser.add_argument("--seats", type=positive_int, default=1, help="seats (default 1)")
    add_anchor(parser, "the billing anchor (with --tier: the exhaustion rule)")
    parser.add_argument(
        "--task-threshold", type=decimal_arg, metavar="X", help="alert on tasks above X CCU"
    )
    parser.add_argument(
        "--burn-factor", type=decimal_arg, default=2, metavar="K", help="hour > K x average"
    )
    parser.add_argument(
        "--burn-window-hours", type=positive_int, default=24, metavar="W", help="average window"
    )
    parser.add_argument(
        "--burn-floor",
        type=decimal_arg,
        default=None,
        metavar="CCU",
        help="ignore hours below this (default: one hour of the tier's allocation, else 0)",
    )
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if (args.tier is None) != (args.anchor is None):
        raise argparse.ArgumentTypeError("give --tier and --anchor together (or neither)")
    log = load_usage(args, err)
    card = load_card(args)
    if args.tier is not None:
        card.tier(args.tier).check_seats(args.seats, args.tier)
    alerts = scan_alerts(
        log,
        card,
        task_threshold=args.task_threshold,
        factor=args.burn_factor,
        window_hours=args.burn_window_hours,
        floor_ccu=args.burn_floor,
        tier=args.tier,
        anchor=args.anchor,
        seats=args.seats,
    )
    if args.format == "json":
        write_json({"count": len(alerts), "alerts": list(alerts)}, out)
        return ExitCode.OK
    table = Table(
        ["at", "rule", "value (CCU)", "limit (CCU)", "message"], title=f"{len(alerts)} alert(s)"
    )
    for a in alerts:
        table.add(a.at, a.rule, a.value, a.limit, a.message)
    out.write(table.render(args.format) + "\n")
    return ExitCode.OK
