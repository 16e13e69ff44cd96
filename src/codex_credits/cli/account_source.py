"""``--state-from-api``: start a command from the account's real state.

A command that simulates or forecasts an account can take the account from the
usage API instead of from ``--tier``/``--seats``/``--start``: it reads the
subscription and the credit status (``GET /organization/billing/subscription``
and ``GET /usage/codex``) and turns them into an engine state with
:mod:`codex_credits.core.statefromstatus` (see docs/api-client.md, "Starting a
simulation from the real account"). The key and the server come from the same
environment as ``--from-api``.

A status the card cannot hold (an unknown tier, too many seats, figures that
break the ledger's rules) is bad data from the API: it exits 3 with one line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from codex_credits.cli.args import decimal_arg
from codex_credits.core.account import AccountState
from codex_credits.core.ratecard import RateCard
from codex_credits.core.statefromstatus import opening_state, state_from_status
from codex_credits.core.status import AccountStatus
from codex_credits.errors import ConfigError, UsageDataError

__all__ = ["FromApi", "add_state_source", "check_plan_options", "fetch_state"]


def add_state_source(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--state-from-api`` and ``--rollover-consumed``; ``what`` ends the flag's help."""
    parser.add_argument(
        "--state-from-api",
        action="store_true",
        help="take tier, seats, billing anchor, rollover balance and reserve from the usage "
        f"API's account status (key in OPENAI_ADMIN_KEY, server in CODEX_CREDITS_BASE_URL); {what}",
    )
    parser.add_argument(
        "--rollover-consumed",
        type=decimal_arg,
        metavar="CCU",
        default=None,
        help="with --state-from-api, once the grant is spent: how much of the consumption past "
        "the pool came from rollover (default 0: all overage)",
    )


@dataclass(frozen=True)
class FromApi:
    """The status read and the engine state built from it."""

    status: AccountStatus
    state: AccountState


def fetch_state(
    card: RateCard, rollover_consumed: Decimal | None, *, at: datetime | None = None
) -> FromApi:
    """Read the account status; the state at ``at``, or at the current period's start.

    Raises:
        UsageDataError: the status does not fit ``card`` (exit 3).
        argparse.ArgumentTypeError: ``at`` is outside the current period (exit 2).
    """
    from codex_credits.client import UsageClient

    with UsageClient() as client:
        status = client.account_status()
    try:
        state = opening_state(status, card, rollover_consumed=rollover_consumed)
    except ConfigError as exc:
        raise UsageDataError(
            f"the account status from the usage API does not fit card {card.name}: {exc}"
        ) from None
    if at is not None:
        if at not in state.period:
            raise argparse.ArgumentTypeError(
                f"--at {at.isoformat()} is outside the account's current period "
                f"[{state.period.start.isoformat()}, {state.period.end.isoformat()})"
            )
        state = state_from_status(status, card, at=at, rollover_consumed=rollover_consumed)
    return FromApi(status, state)


def check_plan_options(args: argparse.Namespace, state: AccountState) -> None:
    """``--tier``/``--seats`` given with ``--state-from-api`` must match the account.

    Raises:
        argparse.ArgumentTypeError: they differ (exit 2).
    """
    plan = state.plan
    if args.tier is not None and args.tier != plan.tier:
        raise argparse.ArgumentTypeError(
            f"--tier {args.tier} differs from the account's tier {plan.tier} "
            "(--state-from-api takes the tier from the account; drop --tier)"
        )
    if args.seats is not None and args.seats != plan.seats:
        raise argparse.ArgumentTypeError(
            f"--seats {args.seats} differs from the account's {plan.seats} seat(s) "
            "(--state-from-api takes the seats from the account; drop --seats)"
        )
