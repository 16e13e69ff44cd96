"""``codex-credits estimate``: price one task on a rate card."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from codex_credits.cli.args import add_card, add_format, decimal_arg, load_card, non_negative_int
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.core.meters import CostBreakdown, estimate

NAME = "estimate"
HELP = "price one task: a breakdown per category and its total"


def configure(parser: argparse.ArgumentParser) -> None:
    add_card(parser)
    parser.add_argument("--model", help="model (token cards)")
    parser.add_argument("--fast", action="store_true", help="fast mode (priority tier)")
    for flag in (
        "--reasoning-tokens",
        "--tool-calls",
        "--output-tokens",
        "--input-tokens",
        "--cached-input-tokens",
    ):
        parser.add_argument(flag, type=non_negative_int, default=0, metavar="N")
    parser.add_argument("--sandbox-minutes", type=decimal_arg, default=0, metavar="MIN")
    parser.add_argument("--sandbox-class", default=None, metavar="CLASS")
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    breakdown = estimate(
        card,
        reasoning_tokens=args.reasoning_tokens,
        tool_calls=args.tool_calls,
        sandbox_minutes=args.sandbox_minutes,
        sandbox_class=args.sandbox_class,
        output_tokens=args.output_tokens,
        input_tokens=args.input_tokens,
        cached_input_tokens=args.cached_input_tokens,
        model=args.model,
        fast=args.fast,
    )
    if args.format == "json":
        write_json(breakdown_json(breakdown), out)
    else:
        out.write(breakdown_table(breakdown).render(args.format) + "\n")
    return ExitCode.OK


def breakdown_json(b: CostBreakdown) -> dict[str, Any]:
    """``{"card", "unit", "total", "breakdown"}`` plus ``usd`` and ``model`` where they apply."""
    data: dict[str, Any] = {
        "card": b.card,
        "unit": b.unit,
        "total": b.total,
        "breakdown": dict(b.categories),
    }
    if b.usd is not None:
        data["usd"] = b.usd
    if b.model is not None:
        data["model"] = b.model
        data["model_fallback"] = b.model_fallback
    data["fast"] = b.fast
    return data


def breakdown_table(b: CostBreakdown) -> Table:
    """A category / amount table ending in the total."""
    title = (
        f"{b.card}" + (f", model {b.model}" if b.model else "") + (", fast mode" if b.fast else "")
    )
    if b.model_fallback:
        title += " (FALLBACK model: the task's model is not on the card)"
    table = Table(["category", b.unit], title=title)
    for name, value in b.categories.items():
        table.add(name, value)
    table.add("total", b.total)
    if b.usd is not None:
        table.add("USD", b.usd)
    return table
