"""Routing: Codex or a cheaper endpoint, and the cheapest model fit for the task.

Theory of operation (docs/tasks/route.md): the seed's routing decision tree
sends a task to Codex when it needs (1) code execution for validation, (2)
multi-file edits with dependencies, (3) test generation with run-and-fix
iteration or (4) repository-level exploration; anything else (text-only
generation, review, explanation) goes to a cheaper endpoint. :func:`route`
reads the four criteria off a :class:`~codex_credits.tasks.spec.TaskSpec`,
names the task's class (``text``, ``edit``, ``agentic``, ``exploration``)
and picks the cheapest model of the token card that :data:`MODEL_FIT` deems
fit for that class. The saving against dispatching to Codex with the spec's
model (default ``gpt-5.5``) is estimated on both built-in cards:

* token card: the class's :class:`TokenProfile` priced on each model; credits
  and USD (25 credits = 1 USD);
* CCU card: the card has no per-model rates, so a model change saves nothing;
  a cheaper endpoint saves the agentic meters (the task's expected tool calls
  and sandbox minutes). USD at the tier's overage rate, the price of the
  marginal CCU.

Both tables are data: pass your own ``fit`` and ``profiles``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from codex_credits.core.meters import Usage, price_usage
from codex_credits.core.ratecard import DEFAULT_CARD, TOKEN_CARD, RateCard
from codex_credits.core.units import ZERO, quantize_ccu, round_cents
from codex_credits.display import Displayed
from codex_credits.tasks.estimate import estimate_task
from codex_credits.tasks.lint import lint_task
from codex_credits.tasks.spec import TaskSpec

__all__ = ["CRITERIA", "MODEL_FIT", "PROFILES", "Route", "TokenProfile", "route"]

TaskClass = Literal["text", "edit", "agentic", "exploration"]

CRITERIA = ("code_execution", "multi_file_edits", "test_generation", "repository_exploration")
"""The seed's four reasons a task needs Codex."""

MODEL_FIT: dict[str, tuple[str, ...]] = {
    "gpt-5.1-codex-mini": ("text", "edit"),
    "gpt-5.4-mini": ("text", "edit"),
    "gpt-5.1-codex-max": ("text", "edit", "agentic"),
    "gpt-5.2-codex": ("text", "edit", "agentic"),
    "gpt-5.2": ("text", "edit", "agentic"),
    "gpt-5.3-codex": ("text", "edit", "agentic", "exploration"),
    "gpt-5.4": ("text", "edit", "agentic", "exploration"),
    "gpt-5.5": ("text", "edit", "agentic", "exploration"),
}
"""Which task classes each model of the token card is fit for (an assumption to override)."""


@dataclass(frozen=True)
class TokenProfile:
    """The tokens, tool calls and sandbox minutes of a typical task of one class."""

    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    sandbox_minutes: Decimal = ZERO


PROFILES: dict[str, TokenProfile] = {
    "text": TokenProfile(20_000, 10_000, 2_000),
    "edit": TokenProfile(60_000, 40_000, 6_000, Decimal(2)),
    "agentic": TokenProfile(200_000, 150_000, 15_000, Decimal(6)),
    "exploration": TokenProfile(600_000, 450_000, 30_000, Decimal(10)),
}
"""Documented assumptions per class; pass measured ones for real savings."""

_RUNS = re.compile(r"run|test|exec|shell|bash|terminal|command|build", re.IGNORECASE)
_TESTGEN = re.compile(
    r"\b(write|add|generate|create|cover)\b.{0,40}\b(tests?|coverage)\b|\btest generation\b",
    re.IGNORECASE,
)
_WIDE = {"input.whole_repository", "input.no_file_scope", "input.broad_file_scope"}


@dataclass(frozen=True, repr=False)
class Route(Displayed):
    """Where a task should go, on which model, and what that saves."""

    endpoint: Literal["codex", "cheaper_endpoint"]
    task_class: TaskClass
    criteria: tuple[str, ...]
    model: str
    baseline_model: str
    credits_saved: Decimal
    usd_saved_token_card: Decimal
    ccu_saved: Decimal
    usd_saved_ccu_card: Decimal
    reason: str


def _criteria(spec: TaskSpec) -> tuple[str, ...]:
    met = []
    executes = bool(spec.test_filter) or any(_RUNS.search(t) for t in spec.tools)
    if executes:
        met.append("code_execution")
    concrete = [p for p in spec.file_scope if not re.search(r"[*?\[]", p)]
    globbed = len(concrete) < len(spec.file_scope)
    if spec.can_write and (len(concrete) >= 2 or globbed):
        met.append("multi_file_edits")
    testgen = (spec.task_type or "").lower() in ("test_generation", "tests", "test_coverage")
    if (testgen or _TESTGEN.search(spec.instruction)) and (executes or not spec.tools):
        met.append("test_generation")
    if any(f.code in _WIDE for f in lint_task(spec)):
        met.append("repository_exploration")
    return tuple(met)


def _class(met: tuple[str, ...]) -> TaskClass:
    if "repository_exploration" in met:
        return "exploration"
    if "multi_file_edits" in met or "test_generation" in met:
        return "agentic"
    return "edit" if met else "text"


def _credits(card: RateCard, model: str, p: TokenProfile) -> Decimal:
    usage = Usage(
        input_tokens=p.input_tokens,
        cached_input_tokens=p.cached_input_tokens,
        output_tokens=p.output_tokens,
        model=model,
    )
    return price_usage(usage, card).total


def route(
    spec: TaskSpec,
    *,
    tier: str = "pro",
    fit: Mapping[str, tuple[str, ...]] = MODEL_FIT,
    profiles: Mapping[str, TokenProfile] = PROFILES,
    token_card: RateCard | None = None,
    ccu_card: RateCard | None = None,
) -> Route:
    """Codex or a cheaper endpoint for ``spec``, the cheapest fit model, and the saving.

    Args:
        spec: the task.
        tier: the CCU card's tier whose overage rate prices a saved CCU.
        fit: model -> classes it is fit for (models not on the token card are skipped).
        profiles: class -> a typical task's tokens and sandbox minutes.
        token_card: default the built-in token card.
        ccu_card: default the built-in CCU card.
    """
    tokens = token_card if token_card is not None else RateCard.builtin(TOKEN_CARD)
    ccu = ccu_card if ccu_card is not None else RateCard.builtin(DEFAULT_CARD)
    met = _criteria(spec)
    task_class = _class(met)
    profile = profiles[task_class]
    fit_models = [m for m, classes in fit.items() if task_class in classes and m in tokens.models]
    model = min(fit_models, key=lambda m: (_credits(tokens, m, profile), m))
    baseline, _, _ = tokens.model_rates(spec.model or "gpt-5.5")
    credits = max(_credits(tokens, baseline, profile) - _credits(tokens, model, profile), ZERO)
    endpoint: Literal["codex", "cheaper_endpoint"] = "codex" if met else "cheaper_endpoint"
    ccu_saved = ZERO
    if endpoint == "cheaper_endpoint" and ccu.meters is not None:
        calls = estimate_task(spec).p50_tool_calls
        agentic = Usage(tool_calls=0, sandbox_minutes=profile.sandbox_minutes)
        ccu_saved = quantize_ccu(calls * ccu.meters.tool_call + price_usage(agentic, ccu).total)
    rate = ccu.tier(tier).overage_usd_per_ccu or ZERO
    why = (
        "needs Codex: " + ", ".join(c.replace("_", " ") for c in met)
        if met
        else "text-only work: none of the four reasons to run an agent applies"
    )
    return Route(
        endpoint=endpoint,
        task_class=task_class,
        criteria=met,
        model=model,
        baseline_model=baseline,
        credits_saved=credits,
        usd_saved_token_card=round_cents(credits / tokens.options.credits_per_usd)
        if tokens.options.credits_per_usd
        else ZERO,
        ccu_saved=ccu_saved,
        usd_saved_ccu_card=round_cents(ccu_saved * rate),
        reason=why,
    )
