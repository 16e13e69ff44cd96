"""The CI gate: a policy file, rules evaluated against usage, and a report.

``check(policy, usage, at=...)`` evaluates every rule of a :class:`Policy` and
returns a :class:`CheckResult`; the ``codex-credits check`` command prints it and
exits 0 (pass; warnings alone do not fail), 1 (a rule failed), 2 (policy or usage
error) or 3 (API or data error). See docs/check.md.
"""

from __future__ import annotations

from codex_credits.check.policy import (
    AccountPolicy,
    AlertsPolicy,
    BatchTask,
    BudgetPolicy,
    ForecastPolicy,
    Policy,
    load_policy,
)
from codex_credits.check.result import CheckResult, RuleOutcome, Status
from codex_credits.check.rules import check

__all__ = [
    "AccountPolicy",
    "AlertsPolicy",
    "BatchTask",
    "BudgetPolicy",
    "CheckResult",
    "ForecastPolicy",
    "Policy",
    "RuleOutcome",
    "Status",
    "check",
    "load_policy",
]
