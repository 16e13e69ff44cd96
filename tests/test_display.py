from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_credits.display import REPR_LIMIT, ROWS_SHOWN, short_repr
from codex_credits.tabular import tabulate
from tests.showcase import every_result

RESULTS = every_result()
TABLED = [name for name, value in RESULTS.items() if hasattr(value, "_repr_html_")]


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_repr_is_short(name: str) -> None:
    value = RESULTS[name]
    assert len(repr(value)) <= 1_000, (name, len(repr(value)))
    values = value if isinstance(value, tuple) else [value]
    for item in values:
        text = repr(item)
        assert len(text) <= 1_000, (name, len(text))
        assert text.startswith(type(item).__name__ + "(")


def test_summaries_say_what_matters() -> None:
    r = RESULTS["simulation"]
    text = repr(r)
    assert f"{r.plan.tier} x{r.plan.seats}" in text
    assert format(r.totals.total_cost, "f") in text and format(r.totals.consumed, "f") in text
    assert f"{len(r.timeline)} hours" in repr(r.timeline)
    c = RESULTS["comparison"]
    assert c.recommended is not None
    assert f"recommended {c.recommended.tier} x{c.recommended.seats}" in repr(c)
    f = RESULTS["forecast"]
    assert all(format(v, "f") in repr(f) for v in (f.p10, f.p50, f.p90))


def test_a_fan_or_alerts_display_like_one_result() -> None:
    fan = RESULTS["fan"]
    assert fan == tuple(fan) and isinstance(fan, tuple)
    text = repr(fan)
    assert text.startswith(f"({len(fan)} FanPoint: ") and format(fan[-1].p50, "f") in text
    assert fan._repr_html_().count("<tr>") == min(len(fan), ROWS_SHOWN + 1) + 1
    alerts = RESULTS["alerts"]
    assert len(alerts) > 1_000 and len(repr(alerts)) <= REPR_LIMIT


def test_long_reprs_are_cut_at_the_limit() -> None:
    class Wide:
        __dataclass_fields__ = {f"field_{i}": None for i in range(200)}  # noqa: RUF012

        def __getattr__(self, name: str) -> Any:
            return "x" * 20

    text = short_repr(Wide())
    assert len(text) == REPR_LIMIT and text.endswith("...)")


@pytest.mark.parametrize(
    "name",
    [
        "simulation",
        "statement",
        "comparison",
        "forecast",
        "report",
        "usage_report",
        "timeline",
        "outcomes",
        "usage",
    ],
)
def test_notebook_tables(name: str) -> None:
    value = RESULTS[name]
    table = tabulate(value)
    html = value._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    assert html.count("<th>") == len(table.columns)
    rows = html.count("<tr>") - 1  # the header row
    assert rows == min(len(table), ROWS_SHOWN + 1)
    markdown = value._repr_markdown_()
    lines = markdown.splitlines()
    assert lines[2].count("|") == len(table.columns) + 1
    assert len(lines) == 4 + min(len(table), ROWS_SHOWN + 1)


def test_html_is_escaped() -> None:
    from codex_credits import UsageEvent, UsageLog, build_report
    from tests.test_frames_plots import T0

    log = UsageLog.from_events([UsageEvent(timestamp=T0, ccu=1, project_id="<b>x</b>")])
    html = build_report(log, by="project")._repr_html_()
    assert "<b>x" not in html and "&lt;b&gt;x" in html
    assert re.search(r"<td>1\.000000</td>", html)


def test_results_defined_outside_the_display_module_carry_its_manners() -> None:
    # Imported straight from their modules, before any public name is used.
    code = (
        "from codex_credits.core.forecast.calibration import Calibration\n"
        "from codex_credits.core.logpricing import LogPrices\n"
        "from codex_credits.core.sweep import SweepResult\n"
        "from codex_credits.io.rollout import CodexLogs\n"
        "from codex_credits.display import Displayed\n"
        "for cls in (Calibration, LogPrices, SweepResult, CodexLogs):\n"
        "    assert cls.__repr__ is Displayed.__repr__, cls\n"
        "    assert cls._repr_html_ is Displayed._repr_html_, cls\n"
    )
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
