"""What every what-if change shares: its scope, its selection, and its report.

Theory of operation (docs/what-if.md): a change is a small frozen value
object with one pure method, ``apply(log, scope) -> Applied``: it reads the
log's columns and returns a new log (same events, some moved in time or with
fewer or cheaper meters) and a :class:`Saving` that reports what it modelled.
Changes never simulate; :func:`~codex_credits.whatif.run.what_if` replays the
result through the engine, so the same changes run on any engine.

A selection (``where``) says which events a change may touch: a mapping of
dimension to accepted labels (``{"task_type": ("tests", "docs")}``), or a
predicate taking the log and returning a boolean mask; ``None`` selects all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.halfeven import div_half_even
from codex_credits.core.logpricing import LogPrices, price_log
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod, period_at, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import ZERO, Ccu, from_micro
from codex_credits.core.usage import DIMENSIONS, LogSummary, UsageLog
from codex_credits.errors import ConfigError

__all__ = [
    "Applied",
    "Change",
    "Saving",
    "Scope",
    "Where",
    "fraction_of",
    "replace_columns",
    "round_share",
    "select",
]

BoolArray = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]

Where = Mapping[str, str | Sequence[str]] | Callable[[UsageLog], BoolArray] | None
"""Which events a change may touch: labels per dimension, a predicate, or all (None)."""

_ALIASES = {"repository": "project_id", "project": "project_id", "user": "user_id"}


@final
@dataclass(frozen=True)
class Scope:
    """What a change may need besides the log: the card and the billing anchor.

    It also remembers the prices of the logs it has priced, so a chain of
    changes prices each intermediate log once.
    """

    card: RateCard
    anchor: datetime
    _prices: dict[int, tuple[UsageLog, LogPrices]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def prices(self, log: UsageLog) -> LogPrices:
        """``price_log(log, card)``, computed once per log."""
        found = self._prices.get(id(log))
        if found is not None and found[0] is log:
            return found[1]
        prices = price_log(log, self.card)
        self._prices[id(log)] = (log, prices)
        return prices

    def period(self, index: int) -> BillingPeriod:
        """Billing period ``index`` (0 is the one starting at the anchor)."""
        return period_at(self.anchor, index)

    def period_containing(self, at: datetime) -> BillingPeriod:
        """The billing period that contains ``at``."""
        return period_containing(self.anchor, at)


@final
class Saving(Frozen):
    """What one change modelled, on the whole log, priced on the scope's card.

    ``saved`` is the demand the change removed (priced before minus after,
    over every event it kept); ``displaced`` the demand it took out of Codex
    altogether (events removed). ``sum(after) = sum(before) - saved -
    displaced``, exactly.
    """

    change: str
    events: int = 0
    moved: int = 0
    saved: Ccu = ZERO
    displaced: Ccu = ZERO
    displaced_events: int = 0
    note: str = ""


@final
@dataclass(frozen=True, eq=False)
class Applied:
    """A changed log and what the change modelled."""

    log: UsageLog
    saving: Saving


class Change(Protocol):
    """A what-if transformation: a pure function of a log and a scope."""

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """The changed log and its saving."""
        ...

    def describe(self) -> str:
        """One line for reports."""
        ...


def dimension(name: str) -> str:
    """A dimension name, with ``repository`` meaning ``project_id``."""
    name = _ALIASES.get(name, name)
    if name not in DIMENSIONS:
        raise ConfigError(f"unknown dimension {name!r}; dimensions: {', '.join(DIMENSIONS)}")
    return name


def select(log: UsageLog, where: Where) -> BoolArray:
    """The events ``where`` selects, as a boolean mask over ``log``."""
    n = len(log)
    if where is None:
        return np.ones(n, dtype=np.bool_)
    if callable(where):
        mask = np.asarray(where(log), dtype=np.bool_)
        if mask.shape != (n,):
            raise ConfigError(f"a where predicate must return {n} booleans, got {mask.shape}")
        return mask
    mask = np.ones(n, dtype=np.bool_)
    for raw, wanted in where.items():
        name = dimension(raw)
        values = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        table = log.labels(name)
        codes = [i for i, label in enumerate(table) if label in values]
        mask &= np.isin(log.column(name), np.array(codes, dtype=np.int64))
    return mask


def describe_where(where: Where) -> str:
    """A short text for a selection."""
    if where is None:
        return "all tasks"
    if callable(where):
        return "tasks chosen by a predicate"
    parts = []
    for name, wanted in where.items():
        values = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        parts.append(f"{name} in {{{', '.join(values)}}}")
    return " and ".join(parts)


def fraction_of(value: Decimal | int | str, name: str, *, upper: int | None = 1) -> Fraction:
    """An exact fraction from a Decimal share, checked to lie in ``[0, upper]``."""
    if isinstance(value, float):
        raise ConfigError(f"{name} must be a Decimal, int or str, not a float")
    share = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not share.is_finite() or share < 0 or (upper is not None and share > upper):
        bound = f"between 0 and {upper}" if upper is not None else ">= 0"
        raise ConfigError(f"{name} must be {bound}, got {value}")
    return Fraction(share)


def round_share(tokens: Int64Array, share: Fraction) -> Int64Array:
    """``tokens x share`` rounded half-even to whole tokens."""
    return div_half_even(tokens * share.numerator, share.denominator)


def columns_of(log: UsageLog) -> dict[str, npt.NDArray[Any]]:
    """Every column of ``log`` (the extra what-if columns included)."""
    return dict(log._columns)


def labels_of(log: UsageLog) -> dict[str, tuple[str | None, ...]]:
    """Every label table of ``log``."""
    return dict(log._labels)


def replace_columns(
    log: UsageLog,
    columns: Mapping[str, npt.NDArray[Any]],
    labels: Mapping[str, tuple[str | None, ...]] | None = None,
    keep: BoolArray | None = None,
) -> UsageLog:
    """A new log: ``log``'s columns with ``columns`` replaced, rows ``keep``, sorted by time."""
    merged = columns_of(log)
    merged.update({name: np.array(values, copy=True) for name, values in columns.items()})
    if keep is not None:
        merged = {name: np.ascontiguousarray(values[keep]) for name, values in merged.items()}
    tables = labels_of(log)
    if labels:
        tables.update(labels)
    n = len(merged["ts_us"])
    return UsageLog(merged, tables, LogSummary(rows=n, events=n)).sorted()


def priced_sum(log: UsageLog, scope: Scope) -> int:
    """The log's demand on the scope's card in micro-units."""
    return int(scope.prices(log).total.sum())


def ccu(micro: int) -> Decimal:
    """Micro-units as a Decimal amount."""
    return from_micro(micro)


def context_on_input(log: UsageLog, card: RateCard) -> BoolArray:
    """Which metered events carry their context as input tokens (else as reasoning tokens).

    On a token card every task's context is its input. On a CCU card it is the
    input when the task has input tokens and the card prices them; otherwise
    the reasoning tokens stand for the context (the seed names context length
    as what drives the reasoning meter).
    """
    has_input = np.asarray(log.column("input_tokens")) > 0
    if card.meters is None:
        return np.ones(len(log), dtype=np.bool_)
    if card.meters.input_per_1k_tokens > 0:
        return has_input
    return np.zeros(len(log), dtype=np.bool_)


def finish(
    change: str,
    before: UsageLog,
    after: UsageLog,
    scope: Scope,
    *,
    events: int,
    moved: int = 0,
    displaced_micro: int = 0,
    displaced_events: int = 0,
    note: str = "",
) -> Applied:
    """Price both logs and report the change: ``saved = before - after - displaced``."""
    saved = priced_sum(before, scope) - priced_sum(after, scope) - displaced_micro
    return Applied(
        log=after,
        saving=Saving(
            change=change,
            events=events,
            moved=moved,
            saved=ccu(saved),
            displaced=ccu(displaced_micro),
            displaced_events=displaced_events,
            note=note,
        ),
    )
