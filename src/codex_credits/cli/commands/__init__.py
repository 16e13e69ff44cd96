"""Every CLI command is a module with NAME, HELP, configure(parser) and run(args, out, err)."""

from __future__ import annotations

from types import ModuleType

from codex_credits.cli.commands import card, check, demo, estimate

__all__ = ["COMMANDS"]

COMMANDS: tuple[ModuleType, ...] = (
    card,
    estimate,
    demo,
    check,
)
