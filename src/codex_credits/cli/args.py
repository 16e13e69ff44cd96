"""Argument types and options shared by the commands."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from codex_credits.core.ratecard import BUILTIN_CARDS, RateCard

__all__ = [
    "FORMATS",
    "add_anchor",
    "add_card",
    "add_format",
    "decimal_arg",
    "instant_arg",
    "load_card",
    "non_negative_int",
    "positive_int",
    "start_as_anchor_note",
    "workers_arg",
]


def instant_arg(text: str) -> datetime:
    """An ISO 8601 instant with an offset (``Z`` for UTC); a bare date means midnight UTC.

    Errors quote what was typed and say what to type instead, in command-line terms.
    """
    typed = text.strip()
    try:
        value = datetime.fromisoformat(typed + "T00:00:00+00:00" if len(typed) == 10 else typed)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{typed!r} is not a date or time; use ISO 8601, e.g. 2026-06-01 or "
            "2026-06-01T09:00:00Z"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{typed!r} has no UTC offset; add Z or one, e.g. {typed}Z or {typed}+02:00"
        )
    return value.astimezone(UTC)


def decimal_arg(text: str) -> Decimal:
    """An exact decimal number >= 0."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def workers_arg(text: str) -> int:
    """``auto`` (one per CPU this process may use) or a whole number >= 1."""
    if text == "auto":
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    return positive_int(text)


FORMATS: tuple[str, ...] = ("table", "json", "csv", "markdown")
"""The output formats every command offers where they make sense (table first, the default)."""


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    """``--format`` with ``table`` first and default (default choices: :data:`FORMATS`)."""
    options = choices or FORMATS
    parser.add_argument(
        "--format",
        choices=options,
        default=options[0],
        help=f"output format: {', '.join(options)} (default {options[0]})",
    )


def add_opening_balance(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--rollover-balance CCU`` and ``--reserve CCU``: the account at the billing anchor."""
    parser.add_argument(
        "--rollover-balance",
        "--rollover",
        dest="rollover_balance",
        type=decimal_arg,
        default=None,
        metavar="CCU",
        help="rollover credit at the anchor, expiring at the end of the first period",
    )
    parser.add_argument(
        "--reserve",
        type=decimal_arg,
        default=None,
        metavar="CCU",
        help="savings reserve at the anchor (plus and pro)",
    )


def add_card(parser: argparse.ArgumentParser) -> None:
    """``--card NAME|PATH``."""
    parser.add_argument(
        "--card",
        default=None,
        metavar="NAME|PATH",
        help=f"a built-in card ({', '.join(BUILTIN_CARDS)}) or a .toml/.json file",
    )


def load_card(args: argparse.Namespace) -> RateCard:
    """The card named by ``--card`` (the default card when absent)."""
    return RateCard.resolve(getattr(args, "card", None))


def start_as_anchor_note(prog: str) -> str:
    """The note printed when ``--start`` is given where the billing anchor is meant."""
    return f"{prog}: note: --start is deprecated here; use --anchor (the billing anchor)\n"


class _DeprecatedStart(argparse.Action):
    """``--start`` where it meant the billing anchor: still accepted, with a note on stderr."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        sys.stderr.write(start_as_anchor_note(parser.prog))
        setattr(namespace, self.dest, values)


def add_replay_plan(parser: argparse.ArgumentParser, anchor_help: str, months_help: str) -> None:
    """``--tier`` (default pro), ``--seats`` (default 1), ``--anchor`` and ``--months``:
    the plan a replay runs on (``what-if``, ``roi``)."""
    parser.add_argument("--tier", default="pro", help="a tier of the card (default pro)")
    parser.add_argument("--seats", type=positive_int, default=1, help="seats (default 1)")
    add_anchor(parser, anchor_help)
    parser.add_argument("--months", type=positive_int, default=1, help=months_help)


def add_anchor(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str, *, alias: bool = True
) -> None:
    """``--anchor ISO``: the billing anchor (``args.anchor``).

    With ``alias``, ``--start`` is a deprecated alias of it, for the commands where
    ``--start`` once meant the anchor; elsewhere ``--start`` is the start of a
    fetched range (``--from-api``).
    """
    parser.add_argument("--anchor", type=instant_arg, metavar="ISO", help=f"{help} (ISO 8601)")
    if alias:
        parser.add_argument(
            "--start",
            dest="anchor",
            type=instant_arg,
            action=_DeprecatedStart,
            help=argparse.SUPPRESS,
        )
