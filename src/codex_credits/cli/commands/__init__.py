"""Every CLI command is a module with NAME, HELP, configure(parser) and run(args, out, err).

Commands load lazily, so ``--help`` and a quick command import only what they use:
``MODULES`` lists the command modules in help order (add a new command's module name
there); :func:`catalog` reads each one's ``NAME`` and ``HELP`` from its source without
importing it, and :func:`load` imports one.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

__all__ = ["COMMANDS", "MODULES", "catalog", "load"]

MODULES: tuple[str, ...] = (
    "card",
    "estimate",
    "demo",
    "usage",
    "account_status",
    "simulate",
    "compare",
    "forecast",
    "alerts",
    "logs",
    "report",
    "check",
    "audit",
    "access",
    "what_if",
    "roi",
    "plan",
    "guard",
)


def load(module: str) -> ModuleType:
    """Import the command module ``module`` (a name from :data:`MODULES`)."""
    return importlib.import_module(f"{__name__}.{module}")


@cache
def catalog() -> tuple[tuple[str, str, str], ...]:
    """``(module, NAME, HELP)`` of every command, read from the sources (nothing imported)."""
    entries = []
    for module in MODULES:
        spec = importlib.util.find_spec(f"{__name__}.{module}")
        if spec is None or spec.origin is None:
            raise ImportError(f"no command module {module!r}")
        with open(spec.origin, encoding="utf-8") as source:
            constants = _constants(source.read(), ("NAME", "HELP"))
        entries.append((module, constants["NAME"], constants["HELP"]))
    return tuple(entries)


def _constants(source: str, names: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in names:
                    found[target.id] = str(node.value.value)
    missing = [n for n in names if n not in found]
    if missing:
        raise ImportError(f"a command module lacks {', '.join(missing)} as a plain string")
    return found


def __getattr__(name: str) -> Any:
    """``COMMANDS``: every command module, imported (for tools that walk them all)."""
    if name == "COMMANDS":
        return tuple(load(module) for module in MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
