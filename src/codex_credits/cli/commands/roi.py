"""``codex-credits roi``: break-even hours per 1,000 CCU, payback, cost per feature."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from codex_credits.cli.args import (
    add_card,
    add_format,
    add_replay_plan,
    decimal_arg,
    load_card,
)
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.whatif import RoiCase, roi, roi_for_plan

NAME = "roi"
HELP = "the ROI case: break-even hours per 1,000 CCU, payback in weeks, cost per feature"


def configure(parser: argparse.ArgumentParser) -> None:
    add_replay_plan(
        parser,
        "with --usage: the billing anchor (default: its month)",
        "with --usage: billing periods",
    )
    parser.add_argument(
        "--hour-usd", type=decimal_arg, default=85, help="engineer hour, USD (default 85)"
    )
    parser.add_argument(
        "--hours-saved",
        type=decimal_arg,
        default=None,
        metavar="H",
        help="hours saved per 1,000 CCU (your estimate): gives value and payback",
    )
    add_card(parser)
    add_format(parser)
    add_usage_source(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    if args.usage is None and not args.from_api:
        result = roi_for_plan(
            args.tier,
            args.seats,
            card=card,
            engineer_hour_usd=args.hour_usd,
            hours_saved_per_1000_ccu=args.hours_saved,
        )
    else:
        log = load_usage(args, err)
        result = roi(
            log,
            engineer_hour_usd=args.hour_usd,
            hours_saved_per_1000_ccu=args.hours_saved,
            account=args.tier,
            seats=args.seats,
            card=card,
            start=args.anchor,
            months=args.months,
        )
    if args.format == "json":
        write_json(result, out)
        return ExitCode.OK
    sections = [summary_table(result).render(args.format)]
    if result.features:
        sections.append(feature_table(result).render(args.format))
    out.write("\n\n".join(sections) + "\n")
    return ExitCode.OK


def summary_table(result: RoiCase) -> Table:
    """One row per figure."""
    table = Table(["figure", "value"], title=f"ROI ({result.basis} basis)")
    rows: list[tuple[str, Any]] = [
        ("cost USD", result.cost_usd),
        ("CCU", result.ccu),
        ("weeks", result.weeks),
        ("engineer hour USD", result.engineer_hour_usd),
        ("break-even hours", result.break_even_hours),
        ("break-even hours per 1,000 CCU", result.break_even_hours_per_1000_ccu),
        ("hours saved per 1,000 CCU", result.hours_saved_per_1000_ccu),
        ("value USD", result.value_usd),
        ("net USD", result.net_usd),
        ("payback weeks", result.payback_weeks),
    ]
    for name, value in rows:
        table.add(name, value)
    return table


def feature_table(result: RoiCase) -> Table:
    """Cost per feature, from the feature label of the usage."""
    table = Table(["feature", "tasks", "CCU", "cost USD"], title="Cost per feature")
    for f in result.features:
        table.add(f.feature, f.tasks, f.ccu, f.cost_usd)
    return table
