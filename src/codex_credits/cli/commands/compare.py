"""``codex-credits compare``: the same usage through every tier and seat count."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any, TextIO

from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    decimal_arg,
    load_card,
    positive_int,
)
from codex_credits.cli.commands.simulate import add_engine_options
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.progress import progress_bar
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.core.compare import TierComparison, TierOption, compare_tiers

NAME = "compare"
HELP = "rank tiers and seat counts by total cost for the same usage, and recommend one"


def configure(parser: argparse.ArgumentParser) -> None:
    add_anchor(parser, "the billing anchor, where the first period starts (required)")
    parser.add_argument("--months", type=positive_int, default=1, help="billing periods")
    parser.add_argument(
        "--max-seats", type=positive_int, default=3, help="most seats to try (default 3)"
    )
    parser.add_argument(
        "--tolerance",
        type=decimal_arg,
        default=None,
        metavar="F",
        help="largest refused share of demand (0..1) for the recommendation (default 0)",
    )
    add_engine_options(parser)
    add_card(parser)
    add_format(parser)
    add_usage_source(parser)  # last: --from-api fetches from --anchor


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.anchor is None:
        raise argparse.ArgumentTypeError("give --anchor ISO (the billing anchor)")
    card = load_card(args)
    log = load_usage(args, err)
    if args.tolerance is not None and args.tolerance > 1:
        raise argparse.ArgumentTypeError(
            f"--tolerance must be between 0 and 1, got {args.tolerance}"
        )
    with progress_bar(err, "replaying every tier"):
        comparison = compare_tiers(
            log,
            start=args.anchor,
            months=args.months,
            card=card,
            max_seats=args.max_seats,
            tolerance=args.tolerance if args.tolerance is not None else 0,
            mode=args.mode,
            on_rate_limit=args.on_rate_limit,
        )
    if args.format == "json":
        write_json(comparison_json(comparison), out)
    else:
        out.write(comparison_text(comparison, args.format) + "\n")
    return ExitCode.OK


def _option(o: TierOption) -> dict[str, Any]:
    t = o.totals
    return {
        "rank": o.rank,
        "tier": o.tier,
        "seats": o.seats,
        "total_cost": t.total_cost,
        "subscription_cost": t.subscription_cost,
        "overage_cost": t.overage_cost,
        "demand": o.demand,
        "consumed": t.consumed,
        "overage_ccu": t.overage_ccu,
        "rate_limited_ccu": t.rate_limited_ccu,
        "blocked_ccu": t.blocked_ccu,
        "unserved_ccu": t.unserved_ccu,
        "refused_ccu": o.refused,
        "refused_share": o.refused_share,
    }


def comparison_json(c: TierComparison) -> dict[str, Any]:
    """``{"options": [...], "tolerance", "recommended": {...} | null}``."""
    return {
        "options": [_option(o) for o in c.options],
        "tolerance": c.tolerance,
        "recommended": None if c.recommended is None else _option(c.recommended),
    }


def comparison_text(c: TierComparison, fmt: str) -> str:
    """The options that serve the work ranked by cost, the rest after, and a recommendation.

    An option serves the work when its refused share of the demand is within the
    tolerance; a tier that refuses most of the work is never ranked first for
    being cheap. The JSON output keeps the plain cost ranking (``rank``).
    """
    if fmt == "csv":
        return _options_table(list(c.options), "").render(fmt)
    serving = [o for o in c.options if o.refused_share <= c.tolerance]
    refusing = sorted(
        (o for o in c.options if o.refused_share > c.tolerance),
        key=lambda o: (o.refused_share, o.rank),
    )
    tables = []
    if serving:
        tables.append(
            _options_table(
                serving,
                f"Tiers that serve the work (refused share <= {c.tolerance}), by total cost",
            )
        )
    if refusing:
        tables.append(
            _options_table(refusing, "Tiers that refuse more than that, by refused share")
        )
    if c.recommended is None:
        line = f"No option keeps refused demand within {c.tolerance} of demand."
    else:
        r = c.recommended
        line = (
            f"Recommended: {r.tier} x{r.seats} at {r.totals.total_cost} USD "
            f"(refused share {r.refused_share} <= tolerance {c.tolerance})."
        )
    return "\n\n".join([*(t.render(fmt) for t in tables), line])


def _options_table(options: list[TierOption], title: str) -> Table:
    table = Table(
        ["#", "tier", "seats", "total USD", "overage USD", "refused CCU", "refused share"],
        title=title,
    )
    for number, o in enumerate(options, start=1):
        table.add(
            number,
            o.tier,
            o.seats,
            o.totals.total_cost,
            o.totals.overage_cost,
            o.refused,
            f"{(o.refused_share * 100).quantize(Decimal('0.01'))}%",
        )
    return table
