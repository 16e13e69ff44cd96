"""The access rule: each ``[[access]]`` entry authorized against the ``[organisation]``.

An entry expecting ``allow`` fails when governance denies it (the message lists
every reason); an entry expecting ``deny`` fails when it is allowed. The rule
checks keys, roles, owners, allowlists and "done when" at the entry's instant
(default: the check's); spend against budgets is the budget rules' business.
"""

from __future__ import annotations

from codex_credits.check.accesspolicy import AccessRule
from codex_credits.check.context import CheckContext
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.governance.authorize import authorize
from codex_credits.governance.org import Organisation

__all__ = ["access_rule"]


def access_rule(ctx: CheckContext, org: Organisation, rule: AccessRule) -> RuleOutcome:
    """The outcome of one ``[[access]]`` entry."""
    at = rule.at if rule.at is not None else ctx.at
    decision = authorize(rule.request(), org, at)
    verdict = "allowed" if decision.allowed else "denied"
    passed = decision.allowed == (rule.expect == "allow")
    reasons = decision.messages()
    message = f"access {rule.name}: key {rule.key} is {verdict}"
    if reasons:
        message += " (" + "; ".join(reasons) + ")"
    if not passed:
        message += f", but the policy expects {rule.expect}"
    return RuleOutcome(
        name=f"access:{rule.name}",
        kind="access",
        status=Status.PASS if passed else Status.FAIL,
        figures={
            "key": rule.key,
            "expect": rule.expect,
            "allowed": decision.allowed,
            "reasons": [d.reason.value for d in decision.reasons],
            "principal": decision.principal,
            "at": at,
        },
        message=message,
    )
