"""Every public result type: a frame with numeric amounts, exact on request, a short repr, tables.

The result types are found, not listed: every public record class that a public
function or method of ``codex_credits`` returns (tests/result_types.py). Each
must have an instance in the showcases, built through the public functions on
the bundled sample, so a new result type fails here until it is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import codex_credits as cc
from codex_credits.display import REPR_LIMIT, Rows
from codex_credits.frames import to_dataframe, to_polars
from codex_credits.tabular import tabulate
from tests.result_types import result_types
from tests.showcase import every_result
from tests.showcase_merged import WELL, merged_results

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    first, more = every_result(), merged_results(tmp_path_factory.mktemp("showcase"))
    assert not set(first) & set(more), "one name per showcase value"
    return {**first, **more}


def _instances(showcase: dict[str, Any]) -> dict[str, Any]:
    """Type name -> one instance (items of a sequence count as instances of their type)."""
    found: dict[str, Any] = {}
    for value in showcase.values():
        found.setdefault(type(value).__name__, value)
        if isinstance(value, list | tuple):
            for item in value:
                found.setdefault(type(item).__name__, item)
    return found


RESULT_TYPES = sorted(result_types())


def test_every_result_type_is_shown(showcase: dict[str, Any]) -> None:
    assert len(RESULT_TYPES) > 50
    missing = set(RESULT_TYPES) - set(_instances(showcase))
    assert not missing, f"add an instance of each to tests/showcase_merged.py: {sorted(missing)}"


def _amounts(value: Any) -> list[str]:
    return [c.name for c in tabulate(value).columns if c.kind in ("micro", "decimal")]


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_a_frame_with_numeric_amounts_exact_on_request(name: str, showcase: dict[str, Any]) -> None:
    value = _instances(showcase)[name]
    frame = to_dataframe(value)
    assert len(frame) == len(tabulate(value)) > 0
    for column in _amounts(value):
        assert frame[column].dtype == "float64", column
    exact = to_dataframe(value, exact=True)
    assert list(exact.columns) == list(frame.columns)
    for column in _amounts(value):
        assert all(v is None or isinstance(v, Decimal) for v in exact[column]), column


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_a_short_repr_and_notebook_tables(name: str, showcase: dict[str, Any]) -> None:
    value = _instances(showcase)[name]
    text = repr(value)
    assert len(text) < 1_000 and text.startswith(name + "("), text[:200]
    html = value._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") >= 2
    assert value._repr_markdown_().count("|") > 2


def test_amounts_are_the_declared_decimal_fields(showcase: dict[str, Any]) -> None:
    """A Decimal field is an amount column even when every row holds None."""
    roi = showcase["roi"]
    assert roi.value_usd is None
    frame = to_dataframe(roi)
    assert frame["value_usd"].dtype == "float64" and frame["value_usd"].isna().all()
    assert frame["cost_usd"].iloc[0] == float(roi.cost_usd)
    quality = to_dataframe(showcase["quality"])
    assert quality["mape"].dtype == "float64"


def test_result_tables_have_one_row_per_thing(showcase: dict[str, Any]) -> None:
    plan = showcase["plan"]
    frame = to_dataframe(plan, exact=True)
    assert list(frame["verdict"]) == [d.verdict for d in plan.decisions]
    assert sum(frame["cost"], Decimal(0)) == plan.total_cost
    sweep = showcase["sweep"]
    assert len(to_dataframe(sweep)) == len(sweep.statements)
    summary = showcase["usage_summary"]
    groups = to_dataframe(summary, exact=True)
    priced = Decimal(int(showcase["log_prices"].total.sum())).scaleb(-6)
    assert sum(groups["amount"], Decimal(0)) == priced  # the same sample on the same card
    assert list(groups["tasks"]) == [g.tasks for g in summary.groups.values()]
    what_if = showcase["what_if"]
    periods = to_dataframe(what_if, exact=True)
    assert list(periods["change_total_cost"]) == [p.change["total_cost"] for p in what_if.periods]
    hold = showcase["hold"]
    assert len(to_dataframe(hold)) == len(hold.schedule.starts)
    assert to_dataframe(hold)["refused"].sum() == hold.schedule.refused_count


def test_polars_frames_match(showcase: dict[str, Any]) -> None:
    pytest.importorskip("polars")
    for name in ("plan", "what_if", "sweep", "usage_summary", "log_prices", "roi", "quality"):
        value = showcase[name]
        frame = to_dataframe(value)
        polars = to_polars(value)
        assert polars.columns == list(frame.columns) and polars.height == len(frame), name


def test_large_results_keep_short_reprs(showcase: dict[str, Any]) -> None:
    plan, decision = showcase["plan"], showcase["decision"]
    big_plan = cc.TaskPlan(
        at=plan.at,
        specs=(WELL,) * 10_000,
        decisions=(decision,) * 10_000,
        final_state=plan.final_state,
    )
    anchor = datetime(2026, 6, 1, tzinfo=UTC)
    one_each = cc.UsageLog.from_events(
        cc.UsageEvent(timestamp=anchor, ccu=Decimal(1), account_id=f"acct-{i}")
        for i in range(1_000)
    )
    big_sweep = cc.simulate_many(one_each, start=anchor)
    entries = Rows([showcase["audit_entry"]] * 1_000_000)
    for value in (big_plan, big_sweep, entries):
        assert len(repr(value)) < REPR_LIMIT + 1
    assert "10000 tasks" in repr(big_plan) and "1000 accounts" in repr(big_sweep)
    assert repr(entries).startswith("(1000000 AuditEntry: ")
    assert big_plan._repr_html_().count("<tr>") == 22  # header, ten first, the gap, ten last


def test_a_model_repr_is_pydantic_s_while_short(showcase: dict[str, Any]) -> None:
    split = showcase["split"]
    assert repr(split).startswith("StatusSplit(from_rollover=Decimal(")
    organisation = showcase["organisation"]
    user = organisation.users[0]
    users = tuple(type(user)(**{**dict(user), "id": f"u{i}"}) for i in range(5_000))
    fields = {name: getattr(organisation, name) for name in type(organisation).model_fields}
    big = type(organisation)(**{**fields, "users": (*organisation.users, *users)})
    assert len(repr(big)) <= REPR_LIMIT and "<5003 Users>" in repr(big)


def test_lists_and_tuples_of_results_stay_lists_and_tuples(showcase: dict[str, Any]) -> None:
    findings = showcase["findings"]
    assert isinstance(findings, list) and findings == list(findings)
    assert cc.lint_task(WELL) == [] and repr(cc.lint_task(WELL)) == "[]"
    rows = showcase["access_rows"]
    assert isinstance(rows, tuple) and rows == tuple(rows)


def test_empty_sequences_give_empty_frames() -> None:
    assert len(to_dataframe(())) == 0


def test_anything_else_is_a_type_error_naming_what_is_supported() -> None:
    with pytest.raises(TypeError, match="supported: UsageLog"):
        to_dataframe(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(TypeError, match="TaskPlan"):
        to_dataframe(Path("."))


amounts = st.decimals(min_value=0, max_value=10**6, places=6)


@given(st.lists(st.tuples(amounts, amounts, amounts, amounts), min_size=1, max_size=30))
def test_record_frames_keep_every_amount(cases: list[tuple[Decimal, ...]]) -> None:
    """Any sequence of results: one row each, floats for analysis, the exact values on request."""
    forecasts = [
        cc.forecast_rollover(allocation=a, projected=p, current_rollover=r, cap=c)
        for a, p, r, c in cases
    ]
    exact = to_dataframe(forecasts, exact=True)
    floats = to_dataframe(forecasts)
    assert len(exact) == len(floats) == len(forecasts)
    for name in ("allocation", "new_rollover", "cap_headroom"):
        assert list(exact[name]) == [getattr(f, name) for f in forecasts]
        assert list(floats[name]) == [float(getattr(f, name)) for f in forecasts]


@given(st.integers(min_value=0, max_value=5_000), st.text(max_size=300))
def test_a_row_collection_repr_is_short_whatever_its_size(count: int, label: str) -> None:
    entry = cc.UsageEvent(
        timestamp=datetime(2026, 6, 1, tzinfo=UTC), ccu=Decimal(1), project_id=label or None
    )
    rows = Rows([entry] * count)
    assert len(repr(rows)) <= REPR_LIMIT
    assert rows == tuple(rows)
