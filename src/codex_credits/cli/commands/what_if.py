"""``codex-credits what-if``: replay usage with levers applied, side by side.

The levers apply in a fixed order: batch, cache, route, off-peak, throttle.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
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
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeofday import PricingWindow
from codex_credits.core.usage import UsageLog
from codex_credits.whatif import (
    Batch,
    CacheContext,
    Change,
    RouteModels,
    ShiftOffPeak,
    ThrottleBefore,
    WhatIf,
    find_throttle,
    what_if,
)
from codex_credits.whatif.throttle import month_instant

NAME = "what-if"
HELP = "replay usage as it is and with levers (batch, cache, off-peak, routing, throttle)"

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration_arg(text: str) -> timedelta:
    """``30s``, ``30m``, ``12h`` or ``1d``."""
    text = text.strip()
    unit = _UNITS.get(text[-1:])
    try:
        value = Decimal(text[:-1])
    except ArithmeticError:
        value = Decimal(-1)
    if unit is None or not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30s, 30m, 12h, 1d")
    return timedelta(**{unit: float(value)})


def where_arg(text: str) -> dict[str, tuple[str, ...]]:
    """``task_type=tests,docs`` (several dimensions separated by ``;``)."""
    result: dict[str, tuple[str, ...]] = {}
    for part in text.split(";"):
        name, sep, values = part.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise argparse.ArgumentTypeError(f"{text!r}: expected DIMENSION=VALUE[,VALUE...]")
        result[name.strip()] = tuple(v.strip() for v in values.split(",") if v.strip())
    return result


def window_arg(text: str) -> PricingWindow | str:
    """``ZONE START-END METERS DISCOUNT`` (a new window), or a window name of the card."""
    parts = text.split()
    if len(parts) == 1:
        return parts[0]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected 'ZONE START-END METERS DISCOUNT', "
            "e.g. 'America/New_York 2-7 sandbox 0.4', or a window name of the card"
        )
    zone, hours, meters, discount = parts
    start, _, end = hours.partition("-")
    try:
        return PricingWindow(
            name="off-peak",
            time_zone=zone,
            start_hour=int(start),
            end_hour=int(end),
            meters=tuple(m for m in meters.split(",") if m),
            discount=Decimal(discount),
        )
    except (ValueError, ArithmeticError) as exc:
        raise argparse.ArgumentTypeError(f"--off-peak {text!r}: {exc}") from None


def route_arg(text: str) -> tuple[str, str]:
    """``LABEL=MODEL``."""
    label, sep, model = text.partition("=")
    if not sep or not label.strip() or not model.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=MODEL, e.g. docs=codex-mini")
    return label.strip(), model.strip()


def configure(parser: argparse.ArgumentParser) -> None:
    add_replay_plan(
        parser,
        "the billing anchor (default: the first event's month)",
        "billing periods (default 1)",
    )
    add_card(parser)
    batch = parser.add_argument_group("batch (defer and batch)")
    batch.add_argument("--batch", action="store_true", help="batch latency-tolerant tasks")
    batch.add_argument("--batch-key", default="repository,task_type", help="dimensions grouped")
    batch.add_argument("--batch-size", type=int, default=5, help="tasks per batch (default 5)")
    batch.add_argument("--batch-wait", type=duration_arg, default=timedelta(seconds=30))
    batch.add_argument("--batch-where", type=where_arg, default=None, metavar="DIM=V,...")
    batch.add_argument("--batch-share", type=decimal_arg, default=None, metavar="SHARE")
    cache = parser.add_argument_group("cache context")
    cache.add_argument("--cache-hit", type=decimal_arg, default=None, metavar="RATE")
    cache.add_argument("--cache-where", type=where_arg, default=None, metavar="DIM=V,...")
    route = parser.add_argument_group("route models")
    route.add_argument("--route", type=route_arg, action="append", default=[], metavar="L=MODEL")
    route.add_argument("--route-by", default="task_type", help="dimension routed on")
    shift = parser.add_argument_group("shift off-peak")
    shift.add_argument("--off-peak", type=window_arg, default=None, metavar="WINDOW")
    shift.add_argument("--max-delay", type=duration_arg, default=timedelta(hours=12))
    shift.add_argument("--shift-where", type=where_arg, default=None, metavar="DIM=V,...")
    throttle = parser.add_argument_group("throttle before a heavy month (rollover stacking)")
    throttle.add_argument("--throttle-before", default=None, metavar="YYYY-MM")
    throttle.add_argument("--throttle-cap", default="auto", metavar="CCU|auto")
    throttle.add_argument("--throttle-months", type=int, default=2)
    add_format(parser)
    add_usage_source(parser)


def _changes(args: argparse.Namespace, card: RateCard) -> tuple[RateCard, list[Change]]:
    changes: list[Change] = []
    if args.batch:
        key = tuple(k.strip() for k in args.batch_key.split(",") if k.strip())
        changes.append(
            Batch(
                key=key,
                size=args.batch_size,
                max_wait=args.batch_wait,
                where=args.batch_where,
                shared_share=args.batch_share,
            )
        )
    if args.cache_hit is not None:
        changes.append(CacheContext(hit_rate=args.cache_hit, where=args.cache_where))
    if args.route:
        changes.append(RouteModels(policy=dict(args.route), by=args.route_by))
    if args.off_peak is not None:
        window = args.off_peak
        if isinstance(window, PricingWindow):
            card = card.with_windows(window)
            window = window.name
        changes.append(
            ShiftOffPeak(
                window=None if window == "cheapest" else window,
                max_delay=args.max_delay,
                where=args.shift_where,
            )
        )
    return card, changes


def _anchor(args: argparse.Namespace, log: UsageLog) -> datetime:
    if args.anchor is not None:
        return args.anchor  # type: ignore[no-any-return]
    if not len(log):
        raise argparse.ArgumentTypeError("the usage is empty: give --anchor")
    return log.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _heavy_index(month: str, anchor: datetime) -> int:
    return period_containing(anchor, month_instant(month)).index


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card, changes = _changes(args, load_card(args))
    log = load_usage(args, err)
    start = _anchor(args, log)
    options: dict[str, Any] = {"seats": args.seats, "card": card, "start": start}
    months = args.months
    if args.throttle_before is not None:
        cap = args.throttle_cap
        if cap == "auto":
            plan = find_throttle(
                log,
                args.tier,
                args.throttle_before,
                months_before=args.throttle_months,
                **options,
            )
            cap = plan.cap
            err.write(
                f"codex-credits: throttle found: cap {plan.cap} CCU per period "
                f"({plan.evaluations} replays)\n"
            )
        changes.append(ThrottleBefore(args.throttle_before, cap, args.throttle_months))
        months = max(months, _heavy_index(args.throttle_before, start) + 1)
    result = what_if(log, args.tier, changes, months=months, **options)
    if args.format == "json":
        write_json(result.to_dict(), out)
    elif args.format == "csv":
        out.write(long_table(result).render("csv") + "\n")
    else:
        out.write("\n\n".join(t.render(args.format) for t in tables(result)) + "\n")
    return ExitCode.OK


def tables(result: WhatIf) -> Sequence[Table]:
    """The savings of each lever, the periods, the projects and the meters."""
    levers = Table(
        ["change", "tasks", "moved", "saved CCU", "displaced CCU", "note"], title="Levers"
    )
    for s in result.savings:
        levers.add(s.change, s.events, s.moved, s.saved, s.displaced, s.note)
    periods = Table(
        [
            "period",
            "consumed before",
            "consumed after",
            "overage before",
            "overage after",
            "cost before",
            "cost after",
            "saved USD",
        ],
        title="Per billing period (CCU, USD)",
    )
    for p in (*result.periods, result.totals):
        label = "total" if p is result.totals else p.before.start.date().isoformat()
        periods.add(
            label,
            p.before.consumed,
            p.after.consumed,
            p.before.overage_ccu,
            p.after.overage_ccu,
            p.before.total_cost,
            p.after.total_cost,
            p.before.total_cost - p.after.total_cost,
        )
    projects = Table(["project", "consumed before", "after", "change"], title="Per project (CCU)")
    for d in result.by_project:
        projects.add(d.key, d.before, d.after, d.change)
    meters = Table(["meter", "demand before", "after", "change"], title="Per meter (CCU)")
    for d in result.by_meter:
        meters.add(d.key, d.before, d.after, d.change)
    return (levers, periods, projects, meters) if result.savings else (periods, projects, meters)


def long_table(result: WhatIf) -> Table:
    """Every figure as one row: section, key, field, before, after, change."""
    table = Table(["section", "key", "field", "before", "after", "change"])
    for p in (*result.periods, result.totals):
        key = "total" if p is result.totals else p.before.start.date().isoformat()
        for name, change in p.change.items():
            table.add("period", key, name, getattr(p.before, name), getattr(p.after, name), change)
    for section, rows in (("project", result.by_project), ("meter", result.by_meter)):
        for d in rows:
            table.add(section, d.key, "ccu", d.before, d.after, d.change)
    for s in result.savings:
        table.add("lever", s.change, "saved", None, None, s.saved)
        if s.displaced:
            table.add("lever", s.change, "displaced", None, None, s.displaced)
    return table
