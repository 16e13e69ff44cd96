"""``codex-credits forecast``: where the billing period will land, with an interval."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any, TextIO

from codex_credits.cli.account_source import add_state_source, check_plan_options, fetch_state
from codex_credits.cli.args import (
    add_anchor,
    add_card,
    add_format,
    add_opening_balance,
    instant_arg,
    load_card,
    non_negative_int,
    positive_int,
)
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.usage_source import add_usage_source, load_usage
from codex_credits.clock import SystemClock
from codex_credits.core.forecast.forecaster import forecast_period
from codex_credits.core.forecast.pathengine import PathStart
from codex_credits.core.forecast.result import ForecastMethod, PeriodForecast
from codex_credits.core.forecast.state import path_start_from_state
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard

NAME = "forecast"
HELP = "forecast the billing period's consumption: P10/P50/P90, overage, exhaustion, rollover"


def configure(parser: argparse.ArgumentParser) -> None:
    add_usage_source(parser)
    add_card(parser)
    parser.add_argument("--tier", help="the account's tier (e.g. pro)")
    parser.add_argument("--seats", type=positive_int, default=None, help="seats (default 1)")
    add_anchor(parser, "the billing anchor")
    parser.add_argument(
        "--at",
        type=instant_arg,
        metavar="ISO",
        help="the forecast cut (with --state-from-api: default now)",
    )
    add_state_source(
        parser,
        "the forecast starts from the account's balances at --at instead of replaying usage",
    )
    parser.add_argument(
        "--method",
        choices=[m.value for m in ForecastMethod],
        default=ForecastMethod.AUTO.value,
        help="forecast method (default auto: chosen and calibrated on the account's own past)",
    )
    add_opening_balance(parser)
    parser.add_argument("--paths", type=positive_int, default=2000, help="Monte Carlo paths")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed")
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    card = load_card(args)
    if args.state_from_api and (args.rollover_balance is not None or args.reserve is not None):
        raise argparse.ArgumentTypeError(
            "--state-from-api takes the rollover balance and the reserve from the account; "
            "drop --rollover-balance and --reserve"
        )
    start = _start_from_api(args, card) if args.state_from_api else None
    if start is None:
        if args.rollover_consumed is not None:
            raise argparse.ArgumentTypeError("--rollover-consumed needs --state-from-api")
        if args.tier is None or args.anchor is None or args.at is None:
            raise argparse.ArgumentTypeError(
                "give --tier, --anchor (the billing anchor) and --at, or --state-from-api"
            )
    log = load_usage(args, err)
    result = forecast_period(
        log,
        tier=args.tier,
        seats=args.seats or 1,
        card=card,
        anchor=args.anchor if start is None else start[0],
        at=args.at,
        method=args.method,
        paths=args.paths,
        seed=args.seed,
        state=None if start is None else start[1],
        rollover_balance=args.rollover_balance,
        reserve=args.reserve,
    )
    for warning in result.warnings:
        err.write(f"codex-credits: forecast warning: {warning.replace('_', ' ')}\n")
    if args.format == "json":
        write_json(forecast_json(result), out)
    else:
        out.write(forecast_table(result).render(args.format) + "\n")
    return ExitCode.OK


def _start_from_api(args: argparse.Namespace, card: RateCard) -> tuple[datetime, PathStart]:
    """The account's anchor and its state at ``--at`` (default now), from the usage API.

    Fills in ``--tier``, ``--seats``, ``--at`` and (for fetching usage) ``--anchor``.
    """
    if args.at is None:
        args.at = SystemClock().now()
    state = fetch_state(card, args.rollover_consumed, at=args.at).state
    check_plan_options(args, state)
    plan = state.plan
    args.tier, args.seats = plan.tier, plan.seats
    if args.anchor is None:
        args.anchor = state.period.start
    elif period_containing(plan.anchor, args.anchor).start != args.anchor:
        raise argparse.ArgumentTypeError(
            f"--anchor {args.anchor.isoformat()} is not a period start of the account "
            f"(its current period began {state.period.start.isoformat()})"
        )
    return plan.anchor, path_start_from_state(state)


def forecast_json(f: PeriodForecast) -> dict[str, Any]:
    """The forecast as JSON-ready data: amounts are exact decimal strings."""
    data: dict[str, Any] = f.model_dump(mode="python")
    data["linear_projection"] = f.linear_projection.projected if f.linear_projection else None
    data["linear"] = f.linear_projection
    data["period"] = {"index": f.period.index, "start": f.period.start, "end": f.period.end}
    return data


def forecast_table(f: PeriodForecast) -> Table:
    """A two-column table a person can read."""
    table = Table(
        ["figure", "value"],
        title=(
            f"Forecast ({f.method.value}) of the period {f.period.start.date()} to "
            f"{f.period.end.date()} at {f.at.isoformat().replace('+00:00', 'Z')}"
        ),
    )
    table.add("consumed so far (CCU)", f.consumed)
    table.add("credits at period start (CCU)", f.credits_at_period_start)
    table.add("P10 period-end consumption (CCU)", f.p10)
    table.add("P50 period-end consumption (CCU)", f.p50)
    table.add("P90 period-end consumption (CCU)", f.p90)
    table.add(
        "linear projection (CCU)",
        f.linear_projection.projected if f.linear_projection else None,
    )
    table.add("probability of overage", f"{f.probability_overage:.1%}")
    table.add("expected overage (CCU)", f.expected_overage_ccu)
    table.add("expected overage cost (USD)", f.expected_overage_cost)
    if f.probability_rate_limited is not None:
        table.add("probability of rate limiting", f"{f.probability_rate_limited:.1%}")
    ex = f.exhaustion
    table.add("probability credits run out", f"{ex.probability_before_end:.1%}")
    table.add(
        "credits run out (P10 / P50 / P90)", " / ".join(_when(t) for t in (ex.p10, ex.p50, ex.p90))
    )
    r = f.rollover
    table.add("credits to roll over (seed formula)", r.formula.credits_to_roll_over)
    table.add("new rollover balance (seed formula)", r.formula.new_rollover)
    table.add("rollover cap headroom (seed formula)", r.formula.cap_headroom)
    if r.p50 is not None:
        table.add("new rollover balance P10 / P50 / P90", f"{r.p10} / {r.p50} / {r.p90}")
    q = f.quality
    if q is not None:
        if q.seasonal_share is not None and q.run_rate_share is not None:
            pace = 1.0 - q.run_rate_share - q.seasonal_share
            table.add(
                "P50 weights: pace / run rate / seasonal",
                f"{pace:.0%} / {q.run_rate_share:.0%} / {q.seasonal_share:.0%}",
            )
        else:
            table.add("point rule (chosen on own history)", q.rule)
        table.add("past periods used", q.periods)
        table.add("backtested P50 error (MAPE)", "-" if q.mape is None else f"{q.mape:.1f}%")
        table.add("backtested P10-P90 coverage", "-" if q.coverage is None else f"{q.coverage:.0%}")
    return table


def _when(at: Any) -> str:
    return "-" if at is None else at.isoformat().replace("+00:00", "Z")
