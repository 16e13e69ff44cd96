"""Rule outcomes and the check result, with their JSON form.

JSON: ``{"passed": bool, "at": ISO, "rules": [{"name", "kind", "status", "figures",
"message"}]}``; every amount in ``figures`` is a decimal string.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, final

from pydantic import Field

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.display import Displayed

__all__ = ["CheckResult", "RuleOutcome", "Status", "jsonable"]


class Status(StrEnum):
    """What a rule concluded."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@final
class RuleOutcome(Frozen):
    """One rule's verdict, the figures behind it and a sentence for a person."""

    name: str
    kind: str
    status: Status
    figures: dict[str, Any] = Field(default_factory=dict)
    message: str


@final
class CheckResult(Displayed, Frozen):
    """Every rule's outcome. ``passed`` is False when any rule failed."""

    at: UtcDatetime
    rules: tuple[RuleOutcome, ...]

    @property
    def passed(self) -> bool:
        """True unless a rule failed (warnings do not fail a check)."""
        return all(rule.status is not Status.FAIL for rule in self.rules)

    @property
    def counts(self) -> dict[Status, int]:
        """How many rules ended in each status."""
        return {s: sum(1 for r in self.rules if r.status is s) for s in Status}

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape, amounts as decimal strings."""
        return {
            "passed": self.passed,
            "at": jsonable(self.at),
            "rules": [
                {
                    "name": rule.name,
                    "kind": rule.kind,
                    "status": rule.status.value,
                    "figures": jsonable(rule.figures),
                    "message": rule.message,
                }
                for rule in self.rules
            ],
        }


def jsonable(value: Any) -> Any:
    """Decimals to strings, datetimes to ISO text, recursively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    return value
