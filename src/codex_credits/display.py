"""Notebook manners: a short ``repr`` for every result, HTML and Markdown tables.

A result class gets them from the :class:`Displayed` mixin (a dataclass also
needs ``repr=False``, so the mixin's ``__repr__`` is kept). ``repr`` is a line
or a few, never the whole timeline: at most :data:`REPR_LIMIT` characters.
``_repr_html_`` and ``_repr_markdown_`` show the result's table
(:func:`codex_credits.tabular.tabulate`), its first and last rows when long.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

__all__ = [
    "REPR_LIMIT",
    "Displayed",
    "RowList",
    "Rows",
    "capped_repr",
    "html_table",
    "markdown_table",
    "short_repr",
]

_T = TypeVar("_T")

REPR_LIMIT = 600
"""The longest ``repr`` of a result, in characters."""

ROWS_SHOWN = 20
"""Tables longer than this show their first and last ten rows."""


def text(value: Any) -> str:
    """A value as a table cell or in a summary: Decimals in full, times in ISO form."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _brief(value: Any) -> str:
    """One field's value in a few characters: collections by their size."""
    if isinstance(value, Decimal | datetime | Enum | float | timedelta) or value is None:
        return text(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | bool):
        return repr(value)
    if isinstance(value, Sequence | dict) or hasattr(value, "shape"):
        items = len(value)
        kind = type(value[0]).__name__ if isinstance(value, Sequence) and items else "item"
        return f"<{items} {kind}{'' if items == 1 else 's'}>"
    return f"{type(value).__name__}(...)"


def _fields(value: Any) -> list[str]:
    fields = getattr(type(value), "model_fields", None) or getattr(
        value, "__dataclass_fields__", {}
    )
    return [f"{name}={_brief(getattr(value, name))}" for name in fields]


def _span(start: datetime, end: datetime) -> str:
    return f"{text(start)} to {text(end)}"


def _simulation(r: Any) -> str:
    t = r.totals
    return (
        f"{len(r.periods)} period(s) {_span(t.start, t.end)}, {r.plan.tier} x{r.plan.seats}: "
        f"consumed {text(t.consumed)}, overage {text(t.overage_ccu)}, "
        f"total cost {text(t.total_cost)} USD; {len(r.timeline)} hours, "
        f"{len(r.outcomes)} events, {len(r.alerts)} alerts"
    )


def _statement(s: Any) -> str:
    return (
        f"{_span(s.start, s.end)}: granted {text(s.granted)}, consumed {text(s.consumed)}, "
        f"overage {text(s.overage_ccu)}, total cost {text(s.total_cost)} USD"
    )


def micro_sum(column: Any) -> str:
    """The exact sum of an integer micro-unit column, as a decimal with six places."""
    return format(Decimal(int(column.sum())).scaleb(-6), "f")


def _timeline(t: Any) -> str:
    if not len(t):
        return "0 hours"
    return f"{len(t)} hours from {text(t.hour(0))}, served {micro_sum(t.served)}"


def _outcomes(o: Any) -> str:
    served, asked = micro_sum(o.served), micro_sum(o.requested)
    return f"{len(o)} events, served {served} of {asked} requested"


def _comparison(c: Any) -> str:
    best = c.recommended
    chosen = "none within the tolerance" if best is None else f"{best.tier} x{best.seats}"
    return f"{len(c.options)} options, tolerance {text(c.tolerance)}, recommended {chosen}"


def _option(o: Any) -> str:
    return (
        f"#{o.rank} {o.tier} x{o.seats}: {text(o.total_cost)} USD, refused {text(o.refused_share)}"
    )


def _forecast(f: Any) -> str:
    return (
        f"{f.method.value} at {text(f.at)}, period {_span(f.period.start, f.period.end)}: "
        f"P10 {text(f.p10)}, P50 {text(f.p50)}, P90 {text(f.p90)} of "
        f"{text(f.credits_at_period_start)} credits, P(overage) {f.probability_overage:.2f}"
    )


def _report(r: Any) -> str:
    return f"by {r.by}: {len(r.rows)} rows, total {text(r.total)} {r.unit}, {r.events} events"


def _usage_report(r: Any) -> str:
    return (
        f"{_span(r.start, r.end)}: consumed {text(r.consumed)} of {text(r.period_budget)} "
        f"{r.unit}, {r.events} events, {len(r.by_dimension)} breakdowns"
    )


def _backtest(b: Any) -> str:
    return f"{b.method.value}: {len(b.cases)} cases, MAPE {b.mape:.2f}%, coverage {b.coverage:.0%}"


def _check(c: Any) -> str:
    counts = {s: sum(1 for r in c.rules if r.status == s) for s in ("fail", "warn", "pass")}
    return f"at {text(c.at)}: {len(c.rules)} rules, " + ", ".join(
        f"{n} {s}" for s, n in counts.items()
    )


_SUMMARIES: dict[str, Callable[[Any], str]] = {
    "SimulationResult": _simulation,
    "PeriodStatement": _statement,
    "Timeline": _timeline,
    "EventOutcomes": _outcomes,
    "TierComparison": _comparison,
    "TierOption": _option,
    "PeriodForecast": _forecast,
    "Report": _report,
    "UsageReport": _usage_report,
    "BacktestReport": _backtest,
    "CheckResult": _check,
}


def short_repr(value: Any) -> str:
    """``Name(summary)`` in at most :data:`REPR_LIMIT` characters."""
    name = type(value).__name__
    summary = _SUMMARIES.get(name)
    if summary is None:
        from codex_credits.summaries import SUMMARIES

        summary = SUMMARIES.get(name)
    body = summary(value) if summary is not None else ", ".join(_fields(value))
    text = f"{name}({body})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 4] + "...)"


def capped_repr(value: Any, full: str) -> str:
    """``full`` (a value's own ``repr``) while it is short, else :func:`short_repr`."""
    return full if len(full) <= REPR_LIMIT else short_repr(value)


def _rows(count: int) -> list[int | None]:
    """Row indexes to show; None marks the gap."""
    if count <= ROWS_SHOWN:
        return list(range(count))
    half = ROWS_SHOWN // 2
    return [*range(half), None, *range(count - half, count)]


def html_table(value: Any) -> str:
    """An HTML table of ``value`` with its ``repr`` (a short summary) as the caption."""
    from codex_credits.tabular import tabulate

    table = tabulate(value)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in table.names)
    body = []
    for i in _rows(len(table)):
        if i is None:
            body.append(f'<tr><td colspan="{len(table.columns)}">&hellip;</td></tr>')
            continue
        cells = "".join(f"<td>{html.escape(text(table.cell(c, i)))}</td>" for c in table.columns)
        body.append(f"<tr>{cells}</tr>")
    caption = html.escape(repr(value))
    return (
        f"<table><caption>{caption} &middot; {len(table)} {html.escape(table.title)} row(s)"
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def markdown_table(value: Any) -> str:
    """A Markdown table of ``value`` under its ``repr`` (a short summary)."""
    from codex_credits.tabular import tabulate

    table = tabulate(value)
    lines = [f"`{value!r}`", "", "| " + " | ".join(table.names) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    for i in _rows(len(table)):
        cells = (
            ["..."] * len(table.columns)
            if i is None
            else [text(table.cell(c, i)).replace("|", "\\|") for c in table.columns]
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Displayed:
    """Mixin: a short ``repr`` and notebook tables (HTML, Markdown) for a result."""

    __slots__ = ()

    def __repr__(self) -> str:
        return short_repr(self)

    def _repr_html_(self) -> str:
        return html_table(self)

    def _repr_markdown_(self) -> str:
        return markdown_table(self)


def _many(items: Sequence[Any], brackets: str) -> str:
    """``(count Kind: first .. last)``, each end in its short form."""
    if not items:
        return brackets
    kind = type(items[0]).__name__
    first, last = short_repr(items[0]), short_repr(items[-1])
    ends = first if len(items) == 1 else f"{first} .. {last}"
    text = f"{brackets[0]}{len(items)} {kind}: {ends}{brackets[1]}"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 4] + "..." + brackets[1]


class Rows(Displayed, tuple[_T, ...]):
    """A tuple of results of one kind (a forecast fan, alerts) that displays like one result.

    It is a plain tuple in every other way: it compares equal to a tuple of the same items.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return _many(self, "()")


class RowList(Displayed, list[_T]):
    """A list of results of one kind (lint findings, task records) that displays like one result.

    It is a plain list in every other way: it compares equal to a list of the same items.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return _many(self, "[]")
