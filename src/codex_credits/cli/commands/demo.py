"""``codex-credits demo``: a tour on the bundled sample, no setup needed."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from codex_credits.cli.commands.estimate import breakdown_table
from codex_credits.cli.commands.forecast import forecast_table
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table
from codex_credits.core.forecast.forecaster import forecast_period
from codex_credits.core.meters import estimate
from codex_credits.core.ratecard import TOKEN_CARD, RateCard
from codex_credits.core.units import ZERO, from_micro
from codex_credits.core.usage import UsageLog
from codex_credits.data import sample_usage_path
from codex_credits.io.usagefile import read_usage

NAME = "demo"
HELP = "price tasks and summarise the bundled sample month of team usage"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("table", "markdown"), default="table", help="output format"
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    fmt = args.format
    card = RateCard.default()
    tokens = RateCard.builtin(TOKEN_CARD)
    sections: list[str] = []

    task = estimate(
        card,
        reasoning_tokens=12_000,
        tool_calls=20,
        sandbox_minutes=10,
        sandbox_class="large",
        output_tokens=2_000,
    )
    sections.append(breakdown_table(task).render(fmt))
    real = estimate(
        tokens,
        model="gpt-5.3-codex",
        input_tokens=1_000_000,
        cached_input_tokens=400_000,
        output_tokens=10_000,
    )
    sections.append(breakdown_table(real).render(fmt))

    path = sample_usage_path()
    log = read_usage(path)
    amounts = log.amounts_micro(card).tolist()
    total = from_micro(sum(amounts))
    by_project: dict[str | None, int] = defaultdict(int)
    for project, amount in zip(log.dimension_values("project_id"), amounts, strict=True):
        by_project[project] += amount
    table = Table(
        ["project", "CCU", "share"],
        title=f"Sample usage: {len(log)} tasks, {log.start.date()} to {log.end.date()}, "
        f"{total} CCU on {card.name}",
    )
    for project, micro in sorted(by_project.items(), key=lambda kv: -kv[1]):
        ccu = from_micro(micro)
        share = (ccu / total * 100).quantize(Decimal("0.1")) if total else ZERO
        table.add(project, ccu, f"{share}%")
    sections.append(table.render(fmt))
    sections.append(_tier_comparison(log, fmt))
    sections.append(_forecast_section(log, fmt))
    sections.append(savings_section(log, fmt))
    out.write("\n\n".join(sections) + "\n")
    return ExitCode.OK


def _tier_comparison(log: UsageLog, fmt: str) -> str:
    """The sample month through every tier, up to 3 seats, ranked by total cost."""
    from codex_credits.cli.commands.compare import comparison_text
    from codex_credits.core.compare import compare_tiers

    anchor = log.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    comparison = compare_tiers(log, start=anchor, months=1, max_seats=3, tolerance="0.01")
    return comparison_text(comparison, fmt)


def _forecast_section(log: UsageLog, fmt: str) -> str:
    """A Monte Carlo forecast of the sample month, cut at day 15, with its interval."""
    anchor = datetime(2026, 6, 1, tzinfo=UTC)
    result = forecast_period(
        log, tier="pro", seats=2, anchor=anchor, at=anchor + timedelta(days=14), paths=2000
    )
    return forecast_table(result).render(fmt)


def savings_section(log: UsageLog, fmt: str) -> str:
    """Savings: each lever alone on the sample month, one pro seat, ranked by USD saved."""
    from codex_credits.whatif import example_card, rank_levers

    anchor = log.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    table = Table(
        ["rank", "lever", "saved CCU", "share", "cost before", "cost after", "saved USD"],
        title="Savings: each lever alone on the sample (pro x1; example card with a night "
        "window and model tiers; see docs/what-if.md)",
    )
    for r in rank_levers(log, "pro", card=example_card(), start=anchor):
        share = f"{(r.saved_share * 100).quantize(Decimal('0.1'))}%"
        table.add(r.rank, r.lever, r.saved, share, r.cost_before, r.cost_after, r.saved_usd)
    return table.render(fmt)
