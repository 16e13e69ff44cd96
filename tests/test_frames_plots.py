from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from codex_credits import UsageEvent, UsageLog, build_report
from codex_credits.frames import to_dataframe

T0 = datetime(2026, 6, 1, tzinfo=UTC)
LOG = UsageLog.from_events(
    [
        UsageEvent(timestamp=T0, ccu=Decimal("1.5"), project_id="a"),
        UsageEvent(timestamp=T0.replace(hour=2), ccu=Decimal("2.25"), project_id="b"),
    ]
)


def test_dataframe_keeps_exact_amounts() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe(LOG, card=None)
    assert list(frame["project_id"]) == ["a", "b"]
    from codex_credits import RateCard

    priced = to_dataframe(LOG, RateCard.default())
    assert list(priced["amount"]) == [Decimal("1.5"), Decimal("2.25")]
    rows = to_dataframe(build_report(LOG, by="project"))
    assert list(rows["key"]) == ["b", "a"]


def test_missing_extra_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"codex-credits\[pandas\]"):
        to_dataframe(LOG)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    from codex_credits.plots import plot_spend

    with pytest.raises(ImportError, match=r"codex-credits\[plot\]"):
        plot_spend(build_report(LOG, by="project"))


def test_plots_draw() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from codex_credits import RateCard
    from codex_credits.plots import plot_burndown, plot_reserve, plot_spend

    ax = plot_burndown(LOG, RateCard.default(), Decimal("10"), start=T0)
    assert ax.get_title() == "Burn-down against the pool"
    plot_reserve([T0], [Decimal("1")], cap=Decimal("4"))
    assert plot_spend(build_report(LOG, by="project")).get_title() == "Spend by project"
    import matplotlib.pyplot as plt

    plt.close("all")
