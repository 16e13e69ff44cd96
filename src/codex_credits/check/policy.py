"""The policy file: what ``codex-credits check`` enforces.

A policy lives in ``codex-credits.toml`` or under ``[tool.codex-credits]`` in
``pyproject.toml``. Tables (docs/check.md):

``[account]``     card, tier, seats, anchor, rollover_balance, reserve
``[[budgets]]``   name, scope (project | user | task_type | feature) and its value,
                  amount (CCU per billing period), control (hard_stop | soft_limit |
                  degraded | queue), alert_at (fractions of the amount)
``[alerts]``      task_threshold, burn_factor, burn_window_hours, burn_floor, exhaustion
``[forecast]``    method, fail_if_p90_over_balance, max_expected_overage_usd, paths, seed
``[[batch]]``     planned tasks with meters (or an amount), a count and labels
``[organisation]`` users, teams, roles, service accounts and keys (docs/governance.md)
``[[access]]``    planned tasks that governance must allow (or deny)
``[[tasks]]``     task specs decided before dispatch (docs/tasks/index.md)
``[dispatch]``    how they are decided: refuse_at, price, on_full, [[dispatch.lint]] rules

Validation reports every bad field by its path (``budgets.1.amount: ...``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, final

from pydantic import Field, ValidationError, field_validator, model_validator

from codex_credits.check.accesspolicy import AccessRule
from codex_credits.configfile import read_document
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import DEFAULT_CARD
from codex_credits.core.units import ZERO
from codex_credits.errors import ConfigError
from codex_credits.governance.org import Organisation, validation_problems
from codex_credits.limits import (
    MAX_BATCH_COUNT,
    MAX_COUNT,
    MAX_PATHS,
    MAX_SEATS,
    MAX_SEED,
    BoundedCcu,
    BoundedInstant,
    BoundedQuantity,
    int_limit,
)
from codex_credits.tasks.decide import DispatchPolicy
from codex_credits.tasks.spec import TaskSpec

__all__ = [
    "SCOPES",
    "AccountPolicy",
    "AlertsPolicy",
    "BatchTask",
    "BudgetPolicy",
    "ForecastPolicy",
    "Policy",
    "load_policy",
    "policy_from_data",
]

SCOPES: dict[str, str] = {
    "project": "project_id",
    "user": "user_id",
    "task_type": "task_type",
    "feature": "feature",
}
"""Budget scope names and the usage dimension each one filters on."""

Seats = Annotated[int, int_limit(MAX_SEATS, "MAX_SEATS", low=1)]
Paths = Annotated[int, int_limit(MAX_PATHS, "MAX_PATHS", low=10)]
Seed = Annotated[int, int_limit(MAX_SEED, "MAX_SEED")]
BatchCount = Annotated[int, int_limit(MAX_BATCH_COUNT, "MAX_BATCH_COUNT", low=1)]
Count = Annotated[int, int_limit(MAX_COUNT, "MAX_COUNT")]

_SCOPE_ALIASES = {
    "project": "project",
    "project_id": "project",
    "user": "user",
    "user_id": "user",
    "task_type": "task_type",
    "feature": "feature",
}


@final
class AccountPolicy(Frozen):
    """The account the usage belongs to."""

    card: str = DEFAULT_CARD
    tier: str
    seats: Seats = 1
    anchor: BoundedInstant
    rollover_balance: BoundedCcu = Field(default=ZERO, ge=0)
    reserve: BoundedCcu = Field(default=ZERO, ge=0)


@final
class BudgetPolicy(Frozen):
    """A budget on one scope, per billing period."""

    name: str = Field(min_length=1)
    scope: Literal["project", "user", "task_type", "feature"]
    value: str = Field(min_length=1)
    amount: BoundedCcu = Field(ge=0)
    control: Literal["hard_stop", "soft_limit", "degraded", "queue"] = "hard_stop"
    alert_at: tuple[Decimal, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _scope_forms(cls, data: Any) -> Any:
        """Accept ``scope = "project", value = "api"``, ``scope = "project:api"``,
        ``scope = {project = "api"}`` and ``project = "api"``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        scope = data.get("scope")
        if isinstance(scope, dict) and len(scope) == 1:
            ((key, value),) = scope.items()
            data["scope"] = key
            data.setdefault("value", value)
        elif isinstance(scope, str) and ":" in scope and "value" not in data:
            key, _, value = scope.partition(":")
            data["scope"], data["value"] = key.strip(), value.strip()
        elif scope is None:
            for key in _SCOPE_ALIASES:
                if key in data:
                    data["scope"], data["value"] = key, data.pop(key)
                    break
        if isinstance(data.get("scope"), str):
            data["scope"] = _SCOPE_ALIASES.get(data["scope"], data["scope"])
        return data

    @field_validator("alert_at")
    @classmethod
    def _fractions(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for fraction in value:
            if not Decimal(0) < fraction <= Decimal(10):
                raise ValueError(f"alert_at fractions must be in (0, 10], got {fraction}")
        return tuple(sorted(value))

    @property
    def dimension(self) -> str:
        """The usage dimension this budget filters on (``project_id``...)."""
        return SCOPES[self.scope]

    @property
    def thresholds(self) -> tuple[Decimal, ...]:
        """Alert fractions; a soft limit with none alerts at 1 (its amount)."""
        if self.alert_at:
            return self.alert_at
        return (Decimal(1),) if self.control != "hard_stop" else ()


@final
class AlertsPolicy(Frozen):
    """The seed's three alerts, as warnings."""

    task_threshold: BoundedCcu | None = Field(default=None, gt=0)
    burn_factor: BoundedQuantity = Field(default=Decimal(2), gt=0)
    burn_window_hours: int = Field(default=24, ge=1, le=24 * 366)
    burn_floor: BoundedCcu | None = Field(default=None, ge=0)
    exhaustion: bool = True


@final
class ForecastPolicy(Frozen):
    """Rules on where the period will end."""

    method: Literal["auto", "linear", "seasonal", "montecarlo"] = "auto"
    fail_if_p90_over_balance: bool = False
    max_expected_overage_usd: BoundedCcu | None = Field(default=None, ge=0)
    paths: Paths = 2000
    seed: Seed = 0


@final
class BatchTask(Frozen):
    """Planned tasks: ``count`` tasks of this size, launched together."""

    name: str = Field(min_length=1)
    count: BatchCount = 1
    ccu: BoundedCcu | None = Field(default=None, ge=0)
    reasoning_tokens: Count = 0
    tool_calls: Count = 0
    sandbox_minutes: BoundedQuantity = Field(default=ZERO, ge=0)
    sandbox_class: str | None = None
    output_tokens: Count = 0
    input_tokens: Count = 0
    cached_input_tokens: Count = 0
    model: str | None = None
    fast: bool = False
    project: str | None = None
    user: str | None = None
    task_type: str | None = None
    feature: str | None = None
    at: BoundedInstant | None = None

    def label(self, scope: str) -> str | None:
        """The task's label for a budget scope."""
        value: str | None = getattr(self, scope)
        return value


@final
class Policy(Frozen):
    """A whole policy file."""

    account: AccountPolicy
    budgets: tuple[BudgetPolicy, ...] = ()
    alerts: AlertsPolicy | None = None
    forecast: ForecastPolicy | None = None
    batch: tuple[BatchTask, ...] = ()
    organisation: Organisation | None = None
    access: tuple[AccessRule, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()
    dispatch: DispatchPolicy | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        if self.access and self.organisation is None:
            raise ValueError("access: [[access]] rules need an [organisation] table")
        groups: tuple[tuple[str, tuple[BudgetPolicy | BatchTask | AccessRule, ...]], ...] = (
            ("budgets", self.budgets),
            ("batch", self.batch),
            ("access", self.access),
        )
        for kind, items in groups:
            names = [item.name for item in items]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{kind}: names must be unique, repeated: {', '.join(duplicates)}")
        total = sum(task.count for task in self.batch)
        if total > MAX_BATCH_COUNT:
            raise ValueError(
                f"batch: {total:,} planned tasks in all is above the limit of "
                f"{MAX_BATCH_COUNT:,} (MAX_BATCH_COUNT)"
            )
        return self


def policy_from_data(data: Any, source: str = "policy") -> Policy:
    """Validate a mapping; every problem is reported with its field path."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems), problems) from None


def load_policy(path: str | Path) -> Policy:
    """Read a policy from ``codex-credits.toml``, a JSON file, or ``pyproject.toml``.

    A directory means its ``codex-credits.toml``, else its ``pyproject.toml``'s
    ``[tool.codex-credits]`` table.
    """
    path = Path(path)
    if path.is_dir():
        candidate = path / "codex-credits.toml"
        path = candidate if candidate.exists() else path / "pyproject.toml"
    data = read_document(path, "policy")
    if path.name == "pyproject.toml":
        tool = data.get("tool") if isinstance(data, dict) else None
        if not isinstance(tool, dict) or "codex-credits" not in tool:
            raise ConfigError(f"{path} has no [tool.codex-credits] table")
        data = tool["codex-credits"]
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.codex-credits] must be a table")
    return policy_from_data(data, source=str(path))
