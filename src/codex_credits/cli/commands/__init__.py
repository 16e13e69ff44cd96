"""Every CLI command is a module with NAME, HELP, configure(parser) and run(args, out, err)."""

from __future__ import annotations

from types import ModuleType

from codex_credits.cli.commands import (
    access,
    account_status,
    alerts,
    audit,
    card,
    check,
    compare,
    demo,
    estimate,
    forecast,
    guard,
    logs,
    plan,
    report,
    roi,
    simulate,
    usage,
    what_if,
)

__all__ = ["COMMANDS"]

COMMANDS: tuple[ModuleType, ...] = (
    card,
    estimate,
    demo,
    usage,
    account_status,
    simulate,
    compare,
    forecast,
    alerts,
    logs,
    report,
    check,
    audit,
    access,
    what_if,
    roi,
    plan,
    guard,
)
