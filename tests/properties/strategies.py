"""Hypothesis strategies for traces, budgets and overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from codex_credits import Budget, Control, Override, UsageEvent

START = datetime(2026, 1, 31, tzinfo=UTC)
PROJECTS = ("a", "b", "c")
TIERS = ("free", "go", "plus", "pro")


@st.composite
def amounts(draw: st.DrawFn, top: int = 60) -> Decimal:
    """Amounts from 0 to ``top`` CCU with up to six decimals, small ones likely."""
    scale = draw(st.sampled_from([1, 10, 100, top]))
    micro = draw(st.integers(min_value=0, max_value=scale * 1_000_000))
    return Decimal(micro).scaleb(-6)


@st.composite
def traces(
    draw: st.DrawFn, days: int = 40, max_events: int = 60, metered: bool = False
) -> list[UsageEvent]:
    """Bursty traces: events clustered in a few hours over ``days`` days.

    With ``metered``, about half the events carry meter quantities (reasoning
    tokens, tool calls, sandbox minutes by class, output tokens, fast mode)
    instead of a CCU amount, so the sandbox part of a request is exercised.
    """
    hours = draw(st.lists(st.integers(0, days * 24 - 1), min_size=1, max_size=6))
    n = draw(st.integers(0, max_events))
    events = []
    for _ in range(n):
        hour = draw(st.sampled_from(hours))
        second = draw(st.integers(0, 3599))
        labels = {
            "timestamp": START + timedelta(hours=hour, seconds=second),
            "project_id": draw(st.sampled_from(PROJECTS)),
            "user_id": draw(st.sampled_from(("u1", "u2"))),
        }
        if metered and draw(st.booleans()):
            events.append(UsageEvent(**labels, **draw(meter_sets())))
        else:
            events.append(UsageEvent(**labels, ccu=draw(amounts())))
    return events


@st.composite
def meter_sets(draw: st.DrawFn) -> dict[str, object]:
    """Meter quantities of one task on the CCU card."""
    return {
        "reasoning_tokens": draw(st.integers(0, 40_000)),
        "tool_calls": draw(st.integers(0, 30)),
        "sandbox_minutes": Decimal(draw(st.integers(0, 3000))).scaleb(-2),
        "sandbox_class": draw(st.sampled_from([None, "small", "medium", "large", "xlarge"])),
        "output_tokens": draw(st.integers(0, 8000)),
        "fast": draw(st.booleans()),
    }


@st.composite
def budget_sets(draw: st.DrawFn) -> list[Budget]:
    """Zero to three budgets on projects or users, any control."""
    chosen = draw(st.lists(st.sampled_from((*PROJECTS, "u1")), max_size=3, unique=True))
    budgets = []
    for i, value in enumerate(chosen):
        budgets.append(
            Budget(
                name=f"b{i}",
                scope="user" if value == "u1" else "project",
                value=value,
                amount=draw(amounts(top=200)),
                control=draw(st.sampled_from(list(Control))),
                alert_at=tuple(
                    draw(st.lists(st.sampled_from(["0.5", "0.8", "1", "1.5"]), max_size=2))
                ),
            )
        )
    return budgets


@st.composite
def override_sets(draw: st.DrawFn, budgets: list[Budget], days: int = 40) -> list[Override]:
    """Up to two overrides for the given budgets."""
    if not budgets:
        return []
    return [
        Override(
            budget=draw(st.sampled_from([b.name for b in budgets])),
            at=START + timedelta(minutes=draw(st.integers(0, days * 24 * 60))),
            amount=draw(amounts(top=200)),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
