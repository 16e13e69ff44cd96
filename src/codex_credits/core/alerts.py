"""Alerts over a usage stream: runaway tasks, burn-rate spikes, a balance running out.

Theory of operation (docs/forecasts.md, "Alerts"). Three rules, each a pure
function of the usage (and, for the last, the account), each returning a tuple
of frozen :class:`Alert` values with the time, the rule, the figures that made
it fire and a message a person can act on:

``task_above_threshold`` (:func:`task_alerts`)
    One task costs more than ``threshold`` CCU: an agent in a retry loop, a
    task sent to the wrong scope.
``hour_above_rolling_average`` (:func:`burn_alerts`)
    An hour's CCU exceeds ``factor`` (2) times the average of the previous
    ``window_hours`` (24) hours. The average counts idle hours as zero, so the
    rule is really "twice the usual burn". A ``floor`` keeps a near-idle
    baseline from alerting on noise: the hour must also exceed
    ``floor_hours x H`` (H = pool / hours per month), or ``floor_ccu`` when no
    account is given.
``balance_exhausted_early`` (:func:`exhaustion_alerts`)
    At the end of each day, that day's consumption, if sustained, would spend
    the credits left before the period ends. It fires once per period, on the
    first such day.

Amounts are exact Decimals; times are the start of the hour (or day, or the
task's timestamp) that fired.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import final

import numpy as np

from codex_credits.core.account import open_account
from codex_credits.core.forecast.hourly import day_floor, hour_count, hourly_totals
from codex_credits.core.forecast.state import states_at
from codex_credits.core.model import Frozen
from codex_credits.core.periods import check_anchor, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import HOUR, UtcDatetime, hour_floor
from codex_credits.core.units import Ccu, amount, from_micro, quantize_ccu, to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.display import Rows
from codex_credits.errors import ConfigError

__all__ = [
    "Alert",
    "AlertRule",
    "burn_alerts",
    "exhaustion_alerts",
    "scan_alerts",
    "task_alerts",
]

_DAY = timedelta(days=1)


class AlertRule(StrEnum):
    """Which rule fired."""

    TASK_ABOVE_THRESHOLD = "task_above_threshold"
    HOUR_ABOVE_ROLLING_AVERAGE = "hour_above_rolling_average"
    BALANCE_EXHAUSTED_EARLY = "balance_exhausted_early"


@final
class Alert(Frozen):
    """One alert: when, which rule, the figures, and a message for a person.

    ``value`` is the observed amount (a task's CCU, an hour's CCU, a day's CCU);
    ``limit`` what it was compared with (the threshold, ``factor x`` average, the
    daily rate the balance can sustain). ``event_id`` names the task, when known.
    """

    at: UtcDatetime
    rule: AlertRule
    value: Ccu
    limit: Ccu
    message: str
    event_id: str | None = None


def task_alerts(log: UsageLog, card: RateCard, threshold: Decimal | int | str) -> tuple[Alert, ...]:
    """One alert per task costing more than ``threshold`` CCU."""
    limit = amount(threshold)
    if limit < 0:
        raise ConfigError(f"the task threshold must be >= 0, got {limit}")
    amounts = log.amounts_micro(card)
    hits = np.flatnonzero(amounts > to_micro(limit))
    ids = log.labels("event_id")
    codes = log.column("event_id")
    alerts = []
    for i in hits.tolist():
        event = log[i]
        cost = from_micro(int(amounts[i]))
        name = ids[int(codes[i])]
        what = f"task {name}" if name else "a task"
        alerts.append(
            Alert(
                at=event.timestamp,
                rule=AlertRule.TASK_ABOVE_THRESHOLD,
                value=cost,
                limit=limit,
                event_id=name,
                message=(
                    f"{what} at {_when(event.timestamp)} cost {cost} CCU, above the "
                    f"{limit} CCU threshold: check it for a retry loop or a runaway agent"
                ),
            )
        )
    return tuple(alerts)


def burn_alerts(
    log: UsageLog,
    card: RateCard,
    *,
    factor: Decimal | int | str = 2,
    window_hours: int = 24,
    floor_ccu: Decimal | int | str = 0,
) -> tuple[Alert, ...]:
    """One alert per hour above ``factor`` x the average of the previous ``window_hours``.

    An hour alerts only with a full window behind it (the first ``window_hours``
    hours of the log never do) and only above ``floor_ccu``.
    """
    k = amount(factor)
    floor = amount(floor_ccu)
    if window_hours < 1 or k <= 0:
        raise ConfigError("the burn window must be >= 1 hour and the factor > 0")
    if not len(log):
        return ()
    start = hour_floor(log.start)
    hourly = hourly_totals(log, card, start, hour_floor(log.end) + HOUR)
    cumulative = np.concatenate(([0], np.cumsum(hourly, dtype=np.int64)))
    k_num, k_den = k.as_integer_ratio()
    floor_micro = to_micro(floor)
    alerts = []
    for h in range(window_hours, len(hourly)):
        window = int(cumulative[h] - cumulative[h - window_hours])
        served = int(hourly[h])
        # served > k x window / W, compared exactly in integers.
        if served * window_hours * k_den > k_num * window and served > floor_micro:
            at = start + HOUR * h
            average = quantize_ccu(from_micro(window) / window_hours)
            limit = quantize_ccu(k * average)
            value = from_micro(served)
            alerts.append(
                Alert(
                    at=at,
                    rule=AlertRule.HOUR_ABOVE_ROLLING_AVERAGE,
                    value=value,
                    limit=limit,
                    message=(
                        f"the hour from {_when(at)} used {value} CCU, more than {k} x the "
                        f"{window_hours}-hour average of {average} CCU per hour"
                    ),
                )
            )
    return tuple(alerts)


def exhaustion_alerts(
    log: UsageLog,
    card: RateCard,
    *,
    tier: str,
    anchor: datetime,
    seats: int = 1,
) -> tuple[Alert, ...]:
    """Alert on the first day of a period whose rate, if sustained, empties the balance early.

    At the end of each whole UTC day of usage, the credits left (rollover plus
    grant, by the account's rules) are divided by that day's consumption; if the
    days that buys end before the period does, the alert fires (once per period).
    """
    if not len(log):
        return ()
    opening = open_account(card, tier, seats, check_anchor(anchor))
    anchor = opening.plan.anchor
    first = min(day_floor(log.start), anchor)
    last_day = day_floor(log.end)
    hourly = hourly_totals(log, card, first, last_day + _DAY)
    days = []
    day = max(day_floor(log.start), day_floor(anchor))
    while day <= last_day:
        days.append(day)
        day += _DAY
    states = states_at(opening, card, hourly, first, [d + _DAY for d in days])
    alerts = []
    fired: set[int] = set()
    for day, state in zip(days, states, strict=True):
        end_of_day = day + _DAY
        period = period_containing(anchor, end_of_day - HOUR)
        if period.index in fired or state.period_index != period.index:
            continue  # already alerted, or the day closed its period
        lo = hour_count(first, max(day, period.start))
        used = int(hourly[lo : hour_count(first, end_of_day)].sum())
        left = state.credits_left
        hours_in_day = hour_count(max(day, period.start), end_of_day)
        hours_left = hour_count(end_of_day, period.end)
        # Sustained, `used` per `hours_in_day` empties `left` before `hours_left` pass.
        if used > 0 and left * hours_in_day < used * hours_left:
            fired.add(period.index)
            runs_out = end_of_day + HOUR * (left * hours_in_day // used)
            value = from_micro(used)
            sustainable = quantize_ccu(from_micro(left) * hours_in_day / hours_left)
            alerts.append(
                Alert(
                    at=day,
                    rule=AlertRule.BALANCE_EXHAUSTED_EARLY,
                    value=value,
                    limit=sustainable,
                    message=(
                        f"on {day.date()} the account used {value} CCU; at that rate its "
                        f"{from_micro(left)} CCU of credits run out around "
                        f"{_when(runs_out)}, before the period ends on {period.end.date()}"
                    ),
                )
            )
    return tuple(alerts)


def scan_alerts(
    log: UsageLog,
    card: RateCard,
    *,
    task_threshold: Decimal | int | str | None = None,
    factor: Decimal | int | str = 2,
    window_hours: int = 24,
    floor_hours: Decimal | int | str = 1,
    floor_ccu: Decimal | int | str | None = None,
    tier: str | None = None,
    anchor: datetime | None = None,
    seats: int = 1,
) -> tuple[Alert, ...]:
    """Every rule that applies, in time order.

    The task rule runs when ``task_threshold`` is given; the exhaustion rule when
    ``tier`` and ``anchor`` are. The burn floor is ``floor_ccu`` if given, else
    ``floor_hours x H`` for the account, else 0.
    """
    alerts: list[Alert] = []
    if task_threshold is not None:
        alerts.extend(task_alerts(log, card, task_threshold))
    floor = amount(floor_ccu) if floor_ccu is not None else Decimal(0)
    if floor_ccu is None and tier is not None:
        floor = quantize_ccu(amount(floor_hours) * card.hourly_allocation(tier, seats))
    alerts.extend(burn_alerts(log, card, factor=factor, window_hours=window_hours, floor_ccu=floor))
    if tier is not None and anchor is not None:
        alerts.extend(exhaustion_alerts(log, card, tier=tier, anchor=anchor, seats=seats))
    return Rows(sorted(alerts, key=lambda a: (a.at, a.rule.value)))


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
