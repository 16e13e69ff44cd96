"""Read budgets (and budget overrides) from a TOML or JSON file.

The file holds a ``budgets`` array of tables and, optionally, an
``overrides`` array::

    [[budgets]]
    name = "web"
    scope = "project"          # project | user | task_type | feature
    value = "web"
    amount = 2000              # CCU per billing period
    control = "hard_stop"      # hard_stop | soft_limit | degraded | queue
    alert_at = [0.5, 0.9]      # fractions of the amount

    [[overrides]]
    budget = "web"
    at = 2026-06-15T10:00:00Z
    amount = 500

Numbers are read as exact decimals. A problem raises
:class:`~codex_credits.errors.ConfigError` naming the entry and the field.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codex_credits.configfile import read_document
from codex_credits.core.budgets import Budget, Override
from codex_credits.core.ratecard import format_validation_error
from codex_credits.core.units import amount
from codex_credits.errors import ConfigError
from codex_credits.limits import check_amount

__all__ = ["load_budgets", "parse_budgets"]


def load_budgets(path: str | Path) -> tuple[tuple[Budget, ...], tuple[Override, ...]]:
    """Budgets and overrides from a ``.toml`` or ``.json`` file."""
    path = Path(path)
    if path.suffix.lower() not in (".toml", ".json"):
        raise ConfigError(f"{path}: a budgets file must end in .toml or .json")
    data = read_document(path, "budgets file")
    return parse_budgets(data, source=str(path))


def parse_budgets(
    data: Any, source: str = "budgets"
) -> tuple[tuple[Budget, ...], tuple[Override, ...]]:
    """Validate already-parsed data: ``{"budgets": [...], "overrides": [...]}``."""
    if not isinstance(data, dict) or "budgets" not in data:
        raise ConfigError(f"{source}: expected a 'budgets' array ([[budgets]] in TOML)")
    unknown = set(data) - {"budgets", "overrides"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    budgets = tuple(_items(data["budgets"], "budgets", Budget, source))
    names = [b.name for b in budgets]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: budgets.name: names must be unique, got {names}")
    overrides = tuple(_items(data.get("overrides", []), "overrides", Override, source))
    for i, override in enumerate(overrides):
        if override.budget not in names:
            raise ConfigError(
                f"{source}: overrides[{i}].budget: no budget named {override.budget!r}"
            )
    return budgets, overrides


def _items(raw: Any, key: str, model: type[Any], source: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: {key} must be an array of tables")
    items = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: {key}[{i}] must be a table")
        entry = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in entry.items()}
        if "alert_at" in entry and isinstance(entry["alert_at"], list):
            entry["alert_at"] = tuple(entry["alert_at"])
        if "amount" in entry and isinstance(entry["amount"], Decimal | int | str):
            try:  # exact to the micro-unit and within MAX_AMOUNT: never rounded silently
                entry["amount"] = check_amount(amount(entry["amount"]), "amount")
            except (ConfigError, ValueError) as exc:
                raise ConfigError(f"{source}: {key}[{i}].{exc}") from None
        try:
            items.append(model.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(f"{key}[{i}].{p}" for p in format_validation_error(exc))
            raise ConfigError(f"{source}: {problems}") from None
    return items
