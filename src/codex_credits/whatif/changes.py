"""Three what-if levers that reprice or move tasks: caching, off-peak shifting, routing.

Theory of operation (docs/levers/): each change is a frozen value object whose
``apply(log, scope)`` is a pure, vectorised function of the log's columns.

* :class:`CacheContext` raises each task's cached share of context to
  ``hit_rate``: on input tokens, ``cached = max(cached, round(input x hit_rate))``
  priced at the cached-input rate; on a CCU task without priced input, the
  reasoning tokens stand for the context and ``round(reasoning x hit_rate)`` of
  them are priced at ``cached_context_per_1k_tokens``.
* :class:`ShiftOffPeak` moves each selected task that is outside the window to
  the window's next opening (local time, so daylight saving is honoured), when
  that is at most ``max_delay`` later. The card's windows price the new times;
  the engine applies the reserve and the rate limit to the new hours.
* :class:`RouteModels` relabels tasks with a lighter model by task type (or
  another dimension); the card prices the model (model tiers on a CCU card,
  model rates on a token card).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import final

import numpy as np

from codex_credits.core.logpricing import CACHED_CONTEXT
from codex_credits.core.timeofday import PricingWindow, next_opening
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ConfigError
from codex_credits.whatif.base import (
    Applied,
    Scope,
    Where,
    context_on_input,
    describe_where,
    dimension,
    finish,
    fraction_of,
    replace_columns,
    round_share,
    select,
)

__all__ = ["CacheContext", "RouteModels", "ShiftOffPeak"]

_US = 1_000_000


def _micro_seconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


@final
@dataclass(frozen=True)
class CacheContext:
    """Serve ``hit_rate`` of every selected task's context from a cache."""

    hit_rate: Decimal | int | str
    where: Where = None

    def describe(self) -> str:
        """One line for reports."""
        return f"cache context, hit rate {self.hit_rate} ({describe_where(self.where)})"

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """Raise the cached share of context; see the module docs."""
        share = fraction_of(self.hit_rate, "hit_rate")
        metered = ~np.asarray(log.column("has_ccu"))
        chosen = select(log, self.where) & metered
        on_input = context_on_input(log, scope.card) & chosen
        on_reasoning = chosen & ~on_input
        inputs = np.asarray(log.column("input_tokens"), dtype=np.int64)
        cached = np.asarray(log.column("cached_input_tokens"), dtype=np.int64)
        new_cached = np.where(on_input, np.maximum(cached, round_share(inputs, share)), cached)
        columns = {"cached_input_tokens": new_cached}
        changed = on_input & (new_cached != cached)
        if np.any(on_reasoning):
            if scope.card.meters is None or scope.card.meters.cached_context_per_1k_tokens is None:
                raise ConfigError(
                    f"card {scope.card.name} has no cached_context_per_1k_tokens: "
                    "caching the context of CCU tasks needs that price"
                )
            reasoning = np.asarray(log.column("reasoning_tokens"), dtype=np.int64)
            try:
                old = np.asarray(log.column(CACHED_CONTEXT), dtype=np.int64)
            except KeyError:
                old = np.zeros(len(log), dtype=np.int64)
            new = np.where(on_reasoning, np.maximum(old, round_share(reasoning, share)), old)
            columns[CACHED_CONTEXT] = new
            changed |= new != old
        after = replace_columns(log, columns)
        return finish(self.describe(), log, after, scope, events=int(changed.sum()))


@final
@dataclass(frozen=True)
class ShiftOffPeak:
    """Move tasks that can wait into the cheapest time-of-day window.

    ``window`` is a window of the card (by name), a :class:`PricingWindow`, or
    ``None`` for the card's window with the largest discount.
    """

    window: str | PricingWindow | None = None
    max_delay: timedelta = field(default=timedelta(hours=12))
    where: Where = None

    def resolve(self, scope: Scope) -> PricingWindow:
        """The window tasks move into."""
        if isinstance(self.window, PricingWindow):
            return self.window
        return scope.card.window(self.window)

    def describe(self) -> str:
        """One line for reports."""
        name = self.window.name if isinstance(self.window, PricingWindow) else self.window
        return (
            f"shift off-peak into {name or 'the cheapest window'}, at most "
            f"{self.max_delay} later ({describe_where(self.where)})"
        )

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """Move selected tasks to the window's next opening; see the module docs."""
        if self.max_delay < timedelta(0):
            raise ConfigError(f"max_delay must be >= 0, got {self.max_delay}")
        window = self.resolve(scope)
        ts = np.asarray(log.timestamps_us, dtype=np.int64)
        target = next_opening(window, ts)
        delay = target - ts
        moved = select(log, self.where) & (delay > 0) & (delay <= _micro_seconds(self.max_delay))
        after = replace_columns(log, {"ts_us": np.where(moved, target, ts)})
        count = int(moved.sum())
        return finish(self.describe(), log, after, scope, events=count, moved=count)


@final
@dataclass(frozen=True)
class RouteModels:
    """Reprice tasks on another model: ``policy`` maps a label of ``by`` to a model."""

    policy: Mapping[str, str]
    by: str = "task_type"
    where: Where = None

    def describe(self) -> str:
        """One line for reports."""
        pairs = ", ".join(f"{k} -> {v}" for k, v in sorted(self.policy.items()))
        return f"route models by {self.by}: {pairs}"

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """Relabel the model of tasks the policy covers; see the module docs."""
        card = scope.card
        if card.meters is not None and not card.model_tiers:
            raise ConfigError(
                f"card {card.name} has no model_tiers: routing models changes no price on it"
            )
        by = dimension(self.by)
        models = list(log.labels("model"))
        for model in self.policy.values():
            if card.meters is not None and model not in card.model_tiers:
                raise ConfigError(f"model {model!r} is not a model tier of card {card.name}")
            if card.meters is None:
                card.model_rates(model)  # an unknown model is an error, never a silent 0
            if model not in models:
                models.append(model)
        table = log.labels(by)
        target = np.arange(len(table), dtype=np.int64) * 0 - 1
        for code, label in enumerate(table):
            if label is not None and label in self.policy:
                target[code] = models.index(self.policy[label])
        current = np.asarray(log.column("model"), dtype=np.int64)
        wanted = target[np.asarray(log.column(by), dtype=np.int64)]
        metered = ~np.asarray(log.column("has_ccu"))
        routed = select(log, self.where) & metered & (wanted >= 0) & (wanted != current)
        new = np.where(routed, wanted, current).astype(np.int32)
        after = replace_columns(log, {"model": new}, {"model": tuple(models)})
        return finish(self.describe(), log, after, scope, events=int(routed.sum()))
