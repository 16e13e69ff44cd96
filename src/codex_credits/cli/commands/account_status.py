"""``codex-credits account-status``: where the account stands now, from the usage API.

Joins ``GET /organization/billing/subscription`` and ``GET /usage/codex`` into
one :class:`~codex_credits.client.AccountStatus` (tier, seats, current period,
consumed, remaining, rollover balance, savings reserve).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from codex_credits.cli.args import add_format
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json

NAME = "account-status"
HELP = "the account's tier, seats, period, consumption and balances, from the usage API"


def configure(parser: argparse.ArgumentParser) -> None:
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from codex_credits.client import UsageClient

    with UsageClient() as client:
        status = client.account_status()
    if args.format == "json":
        write_json(status, out)
        return ExitCode.OK
    table = Table(["field", "value"], title="account status (CCU)")
    for name, value in status.model_dump().items():
        table.add(name, value)
    out.write(table.render(args.format) + "\n")
    return ExitCode.OK
