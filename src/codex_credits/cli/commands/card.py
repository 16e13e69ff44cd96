"""``codex-credits card show``: print a rate card."""

from __future__ import annotations

import argparse
import textwrap
from typing import TextIO

from codex_credits.cli.args import add_card, add_format, load_card
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, terminal_width
from codex_credits.core.ratecard import RateCard

NAME = "card"
HELP = "show a rate card (built-in or from a file)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="card_action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the card's meters, models, tiers and options")
    add_card(show)
    add_format(show, "table", "json", "toml", "markdown")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    if args.format == "json":
        out.write(card.to_text("json"))
    elif args.format == "toml":
        out.write(card.to_text("toml"))
    else:
        out.write(render_card(card, args.format) + "\n")
    return ExitCode.OK


def render_card(card: RateCard, fmt: str) -> str:
    """The card as readable tables."""
    about = (
        card.description
        if fmt != "table"
        else textwrap.fill(card.description, terminal_width(), break_on_hyphens=False)
    )
    parts = [f"{card.name} ({card.unit})", about, ""]
    if card.meters is not None:
        m = card.meters
        meters = Table(["meter", "rate"], title="Meters")
        meters.add("reasoning tokens", f"{m.reasoning_per_1k_tokens} per 1,000")
        meters.add("tool executions", f"{m.tool_call} per call")
        for name, rate in m.sandbox_per_minute.items():
            default = " (default)" if name == m.default_sandbox_class else ""
            meters.add(f"sandbox {name}{default}", f"{rate} per minute")
        meters.add("output tokens", f"{m.output_per_1k_tokens} per 1,000")
        meters.add("input tokens", f"{m.input_per_1k_tokens} per 1,000")
        meters.add("cached input tokens", f"{m.cached_input_per_1k_tokens} per 1,000")
        if m.cached_context_per_1k_tokens is not None:
            meters.add("cached context tokens", f"{m.cached_context_per_1k_tokens} per 1,000")
        parts += [meters.render(fmt), ""]
    if card.models:
        models = Table(["model", "input / 1M", "cached input / 1M", "output / 1M"], title="Models")
        for name, r in card.models.items():
            models.add(name, r.input_per_1m, r.cached_input_per_1m, r.output_per_1m)
        parts += [models.render(fmt), ""]
    if card.tiers:
        tiers = Table(
            [
                "tier",
                "USD/seat",
                "CCU/seat",
                "seats",
                "concurrency",
                "reserve",
                "rollover",
                "overage USD/CCU",
                "rate limit x H",
            ],
            title="Tiers",
        )
        for name, t in card.tiers.items():
            rollover = (
                f"{t.rollover_periods} period(s), cap {t.rollover_cap_pools}x pool"
                if t.rollover_periods
                else "none"
            )
            reserve = (
                f"{t.reserve.value}, cap {t.reserve_cap_hours}x H"
                if t.reserve_cap_hours
                else "none"
            )
            tiers.add(
                name,
                t.price_per_seat_usd,
                t.monthly_ccu_per_seat,
                t.max_seats if t.max_seats is not None else "unlimited",
                t.concurrency if t.concurrency is not None else "unlimited",
                reserve,
                rollover,
                t.overage_usd_per_ccu if t.overage_usd_per_ccu is not None else "hard stop",
                t.rate_limit_multiple,
            )
        parts += [tiers.render(fmt), ""]
    parts += lever_tables(card, fmt)
    o = card.options
    options = Table(["option", "value"], title="Options")
    options.add("hours per month (H = pool / this)", o.hours_per_month)
    options.add("reserve threshold (x H)", o.reserve_threshold)
    options.add("reserve efficiency", o.reserve_efficiency)
    options.add("fast mode factor", o.fast_mode_factor)
    options.add("credits per USD", o.credits_per_usd)
    parts.append(options.render(fmt))
    return "\n".join(parts)


def lever_tables(card: RateCard, fmt: str) -> list[str]:
    """The card's model tiers and time-of-day windows, when it has any."""
    parts: list[str] = []
    if card.model_tiers:
        tiers = Table(["model", "multiplier", "description"], title="Model tiers")
        for name, tier in card.model_tiers.items():
            tiers.add(name, tier.multiplier, tier.description)
        parts += [tiers.render(fmt), ""]
    if card.windows:
        windows = Table(
            ["window", "time zone", "local hours", "meters", "discount"],
            title="Time-of-day windows",
        )
        for w in card.windows:
            hours = f"{w.start_hour:02d}:00-{w.end_hour:02d}:00"
            windows.add(w.name, w.time_zone, hours, ", ".join(w.meters), w.discount)
        parts += [windows.render(fmt), ""]
    return parts
