"""The documented limits (:mod:`codex_credits.limits`) applied to parsed options.

:func:`check_args` runs after argparse and before a command: every option is
checked by what it is, so a command added later is bounded too. Whole numbers
are bounded by the option's own limit (``--months`` by ``MAX_MONTHS``...) or by
64 bits; instants by ``MIN_YEAR``..``MAX_YEAR``; numbers by ``MAX_AMOUNT``, and
amounts of credit (balances, thresholds) must be whole micro-units. A broken
limit is a :class:`~codex_credits.errors.ConfigError` (exit 2) that names the
option and the limit.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from decimal import Decimal

from codex_credits.limits import (
    MAX_COUNT,
    MAX_MONTHS,
    MAX_PATHS,
    MAX_SEAT_SWEEP,
    MAX_SEATS,
    MAX_SEED,
    check_amount,
    check_instant,
    check_int,
)

__all__ = ["AMOUNT_OPTIONS", "INT_LIMITS", "check_args"]

INT_LIMITS: dict[str, tuple[int, str]] = {
    "seats": (MAX_SEATS, "MAX_SEATS"),
    "months": (MAX_MONTHS, "MAX_MONTHS"),
    "max_seats": (MAX_SEAT_SWEEP, "MAX_SEAT_SWEEP"),
    "paths": (MAX_PATHS, "MAX_PATHS"),
    "seed": (MAX_SEED, "MAX_SEED"),
    "burn_window_hours": (24 * 366, "a year of hours"),
}
"""Whole-number options with their own limit; any other is bounded by ``MAX_COUNT``."""

AMOUNT_OPTIONS = frozenset(
    {"rollover_balance", "reserve", "rollover_consumed", "task_threshold", "burn_floor"}
)
"""Options that are amounts of credit: whole micro-units, never rounded silently."""


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_args(args: argparse.Namespace) -> None:
    """Refuse any parsed option outside its documented limit (ConfigError, exit 2);
    decimals are rewritten in plain form."""
    for dest, value in sorted(vars(args).items()):
        if dest.startswith("_") or value is None or isinstance(value, bool):
            continue
        name = _option(dest)
        if isinstance(value, int):
            high, limit = INT_LIMITS.get(dest, (MAX_COUNT, "MAX_COUNT"))
            check_int(value, name, high=high, low=-MAX_COUNT, limit=limit)
        elif isinstance(value, datetime):
            check_instant(value, name)
        elif isinstance(value, Decimal):  # kept in plain form: 1E+3 becomes 1000
            setattr(args, dest, check_amount(value, name, exact=dest in AMOUNT_OPTIONS))
