"""The three bounds as a linter: what in a spec puts credits at risk.

Theory of operation (docs/tasks/lint.md): the seed's "three-bounds" framework
asks every task for an *input* bound (which files and tools), an *output*
bound (which artifacts, and when it is done) and an *execution* bound (which
tests, how long, how many iterations). :func:`lint_task` checks a
:class:`~codex_credits.tasks.spec.TaskSpec` against a table of
:class:`LintRule` values. A rule is data: a field of the spec, a condition
(``missing``, ``matches`` a regular expression, ``contains_any`` of some
values, ``more_than`` a number), a severity, a reason in plain words and the
CCU it puts at risk. A team extends the table in its policy file
(``[[tasks.lint]]``, docs/check.md); there is no if-chain to edit.

The default table's ``ccu_at_risk`` figures come from the seed's JWT task:
the poorly scoped version (12-25 CCU, midpoint 18.5) costs 16.25 CCU more than
the well scoped one (1.5-3 CCU, midpoint 2.25), and that difference is shared
among the eight findings the poorly scoped version raises.

>>> bad = TaskSpec(instruction="Fix the authentication bug in the user service",
...                repository="full_repo_access", tools=["all_tools"], tests="full_test_suite")
>>> [f.code for f in lint_task(bad)][:3]
['input.whole_repository', 'input.no_file_scope', 'input.all_tools']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, final

from pydantic import Field, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.units import Ccu
from codex_credits.display import Displayed, RowList
from codex_credits.tasks.spec import TaskSpec

__all__ = ["LINT_RULES", "Finding", "LintRule", "Severity", "lint_task", "lint_view"]


class Severity(StrEnum):
    """How serious a finding is; ordered ``info < warning < error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0, 1 or 2."""
        return _RANK[self.value]

    def at_least(self, other: Severity | str) -> bool:
        """True when this severity is ``other`` or worse."""
        return _RANK[self.value] >= _RANK[str(other)]


_RANK = {"info": 0, "warning": 1, "error": 2}


@final
class LintRule(Frozen):
    """One row of the lint table: when ``field`` meets ``when``, report ``code``.

    ``field`` is a key of :func:`lint_view`. ``when`` is ``missing`` (None or
    empty), ``matches`` (``pattern``, a case-insensitive regular expression,
    found in the value or in any of its items), ``contains_any`` (an item
    equal to one of ``values``, case-insensitive) or ``more_than`` (a number,
    or a list's length, above ``limit``).
    """

    code: str = Field(min_length=1)
    bound: Literal["input", "output", "execution"]
    field: str = Field(min_length=1)
    when: Literal["missing", "matches", "contains_any", "more_than"]
    pattern: str | None = None
    values: tuple[str, ...] = ()
    limit: Decimal | None = None
    severity: Severity = Severity.WARNING
    reason: str = Field(min_length=1)
    ccu_at_risk: Ccu = Field(default=Decimal(0), ge=0)
    unless: str | None = Field(default=None, description="a code: skip when that one fired")

    @model_validator(mode="after")
    def _complete(self) -> LintRule:
        if self.when == "matches":
            if self.pattern is None:
                raise ValueError(f"rule {self.code}: 'matches' needs a pattern")
            re.compile(self.pattern)
        if self.when == "contains_any" and not self.values:
            raise ValueError(f"rule {self.code}: 'contains_any' needs values")
        if self.when == "more_than" and self.limit is None:
            raise ValueError(f"rule {self.code}: 'more_than' needs a limit")
        return self

    def fires(self, view: Mapping[str, Any]) -> bool:
        """True when the spec's ``view`` meets this rule's condition."""
        return self.holds(view.get(self.field))

    def holds(self, value: Any) -> bool:
        """True when ``value`` (the rule's field) meets this rule's condition."""
        when = self.when
        if when == "missing":
            if value is None:
                return True
            if isinstance(value, tuple):
                return all(not str(v).strip() for v in value)
            return not str(value).strip()
        if value is None:
            return False
        items = value if isinstance(value, tuple) else (value,)
        if when == "matches":
            search = _regex(self.pattern or "").search
            return any(search(str(v)) for v in items)
        if when == "contains_any":
            wanted = {v.lower() for v in self.values}
            return any(str(v).lower() in wanted for v in items)
        limit = self.limit if self.limit is not None else Decimal(0)
        if isinstance(value, tuple):
            return len(value) > limit
        return Decimal(value) > limit


@final
@dataclass(frozen=True, slots=True, repr=False)
class Finding(Displayed):
    """A bound a spec leaves open: which, how serious, why, and the CCU at risk."""

    code: str
    bound: str
    severity: Severity
    field: str
    reason: str
    ccu_at_risk: Decimal


def _rule(code: str, bound: str, field: str, when: str, reason: str, **kw: Any) -> LintRule:
    return LintRule.model_validate(
        {"code": code, "bound": bound, "field": field, "when": when, "reason": reason, **kw}
    )


_WHOLE = r"^(full|whole|entire|all)[_ -]?(repo|repository|codebase|access|repo_access)$"
_BROAD = r"^(\*\*?(/\*\*?)*|\.|\./|/|\*\*/\*\.\w+)$"
_FULL_SUITE = r"\b(full|whole|entire|all)[_ -]?(test[_ -]?)?(suite|tests)\b|^(tests?/?|\.|all)$"

LINT_RULES: tuple[LintRule, ...] = (
    _rule(
        "input.whole_repository",
        "input",
        "repository",
        "matches",
        "the task may read the whole repository: the agent explores before it works",
        pattern=_WHOLE,
        severity="error",
        ccu_at_risk="3",
    ),
    _rule(
        "input.no_file_scope",
        "input",
        "file_scope",
        "missing",
        "no file scope: the agent has to find the files itself, one exploratory call at a time",
        severity="error",
        ccu_at_risk="3",
    ),
    _rule(
        "input.broad_file_scope",
        "input",
        "file_scope",
        "matches",
        "the file scope is a glob over the whole tree, which bounds nothing",
        pattern=_BROAD,
        severity="error",
        ccu_at_risk="3",
    ),
    _rule(
        "input.all_tools",
        "input",
        "tools",
        "contains_any",
        "every tool is allowed: name the few the task needs (read, write, run the tests)",
        values=("all_tools", "all", "*", "any"),
        severity="warning",
        ccu_at_risk="1.5",
    ),
    _rule(
        "input.no_tools",
        "input",
        "tools",
        "missing",
        "no tool list: every tool is allowed",
        severity="warning",
        ccu_at_risk="1.5",
    ),
    _rule(
        "output.no_done_when",
        "output",
        "done_when",
        "missing",
        'no "done when": nothing tells the agent, or the gate, that the task is finished',
        severity="warning",
        ccu_at_risk="1.5",
    ),
    _rule(
        "output.no_deliverable",
        "output",
        "deliverables",
        "missing",
        "no deliverable: name the files or artifacts the task must produce",
        severity="warning",
        ccu_at_risk="1",
    ),
    _rule(
        "execution.full_test_suite",
        "execution",
        "test_filter",
        "matches",
        "the whole test suite runs on every iteration: sandbox minutes are the silent killer",
        pattern=_FULL_SUITE,
        severity="error",
        ccu_at_risk="3.5",
    ),
    _rule(
        "execution.no_test_filter",
        "execution",
        "test_filter",
        "missing",
        "no test filter: the agent decides which tests to run, often all of them",
        severity="warning",
        ccu_at_risk="2.5",
    ),
    _rule(
        "execution.no_timeout",
        "execution",
        "timeout",
        "missing",
        "no timeout: a hanging test keeps the sandbox meter running",
        severity="warning",
        ccu_at_risk="1.25",
    ),
    _rule(
        "execution.no_iteration_cap",
        "execution",
        "max_iterations",
        "missing",
        "no iteration cap: a test-fix loop that never converges runs until someone stops it",
        severity="warning",
        ccu_at_risk="1.5",
    ),
)
"""The built-in table. ``input.broad_file_scope`` and ``input.no_file_scope``
never fire together; neither do ``input.all_tools`` and ``input.no_tools``."""


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_FIELDS = frozenset(TaskSpec.model_fields)


class _View(Mapping[str, Any]):
    """The spec's fields, read on demand, with ``deliverables`` as understood."""

    __slots__ = ("spec",)

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec

    def __getitem__(self, name: str) -> Any:
        if name == "deliverables":
            return _deliverables(self.spec)
        if name not in _FIELDS:
            raise KeyError(name)
        return getattr(self.spec, name)

    def __iter__(self) -> Iterator[str]:
        return iter(_FIELDS)

    def __len__(self) -> int:
        return len(_FIELDS)


def _deliverables(spec: TaskSpec) -> tuple[str, ...]:
    if spec.deliverables:
        return spec.deliverables
    broad = _regex(_BROAD)
    return tuple(p for p in spec.file_scope if not broad.search(p))


def lint_view(spec: TaskSpec) -> dict[str, Any]:
    """The values rules look at: the spec's fields plus ``deliverables`` as understood.

    ``deliverables`` is the spec's own list, or else the entries of its
    ``file_scope`` that are not a tree-wide glob.
    """
    return dict(_View(spec))


def lint_task(spec: TaskSpec, rules: Sequence[LintRule] = LINT_RULES) -> list[Finding]:
    """Every finding of ``rules`` on ``spec``, in table order.

    A rule whose ``unless`` names a code that already fired is skipped. Two
    rules with the same code report once.
    """
    fired: dict[str, Finding] = {}
    for rule in rules:
        if rule.code in fired or (rule.unless is not None and rule.unless in fired):
            continue
        field = rule.field
        value: Any
        if field == "deliverables":
            value = _deliverables(spec)
        else:
            value = getattr(spec, field) if field in _FIELDS else None
        if rule.holds(value):
            fired[rule.code] = Finding(
                code=rule.code,
                bound=rule.bound,
                severity=rule.severity,
                field=rule.field,
                reason=rule.reason,
                ccu_at_risk=rule.ccu_at_risk,
            )
    return RowList(fired.values())
