"""The simulate and compare commands."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import main
from codex_credits.core.statement import STATEMENT_FIELDS

USAGE = """timestamp,ccu,project_id
2026-01-01T09:00:00Z,120,web
2026-01-01T09:30:00Z,100,web
2026-01-02T10:00:00Z,30,api
"""


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def usage(tmp_path: Path) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(USAGE)
    return path


def test_simulate_json_has_exactly_the_statement_fields(usage: Path) -> None:
    code, out, err = _run(
        "simulate",
        "--usage",
        str(usage),
        "--tier",
        "pro",
        "--anchor",
        "2026-01-01T00:00:00Z",
        "--months",
        "2",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["periods", "totals"]
    assert [list(p) for p in data["periods"]] == [list(STATEMENT_FIELDS)] * 2
    assert list(data["totals"]) == list(STATEMENT_FIELDS)
    first = data["periods"][0]
    # hour 9 has no reserve yet beyond 9 idle hours (52.499997): 120 + 100 > 138.88889 + 52.499997
    assert first["consumed"] == "250.000000"
    assert first["rate_limited_ccu"] == "100.000000"
    assert first["rate_limited_events"] == 1
    assert first["start"] == "2026-01-01T00:00:00Z"
    assert first["total_cost"] == "200.00"
    assert all(isinstance(v, str) for k, v in first.items() if k != "rate_limited_events")
    assert Decimal(data["totals"]["total_cost"]) == Decimal("400.00")


def test_simulate_table_and_markdown(usage: Path) -> None:
    for fmt in ("table", "markdown"):
        code, out, _ = _run(
            "simulate",
            "--usage",
            str(usage),
            "--tier",
            "plus",
            "--seats",
            "2",
            "--anchor",
            "2026-01-01",
            "--format",
            fmt,
        )
        assert code == 0
        assert "rollover_out" in out
        assert "plus x2" in out


def test_simulate_budgets_file(usage: Path, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(
        '[[budgets]]\nname = "web"\nscope = "project"\nvalue = "web"\namount = 150\n'
        'control = "hard_stop"\nalert_at = [0.5]\n'
    )
    code, out, err = _run(
        "simulate",
        "--usage",
        str(usage),
        "--tier",
        "pro",
        "--anchor",
        "2026-01-01",
        "--budgets",
        str(budgets),
        "--format",
        "json",
    )
    assert code == 0, err
    period = json.loads(out)["periods"][0]
    # web may spend 150: 120 is served, the 100 that would pass the limit is blocked
    assert period["blocked_ccu"] == "100.000000"
    assert period["consumed"] == "150.000000"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[budgets]]\nname = "a"\nscope = "moon"\nvalue = "x"\namount = 1\n', "budgets[0].scope"),
        ('[[budgets]]\nname = "a"\nscope = "project"\nvalue = "x"\n', "budgets[0].amount"),
        (
            '[[budgets]]\nname = "a"\nscope = "user"\nvalue = "x"\namount = 1\ncontrol = "stop"\n',
            "budgets[0].control",
        ),
        ("budgets = 3\n", "budgets"),
    ],
)
def test_bad_budgets_file_exits_2_naming_the_field(
    usage: Path, tmp_path: Path, text: str, field: str
) -> None:
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(text)
    code, out, err = _run(
        "simulate",
        "--usage",
        str(usage),
        "--tier",
        "pro",
        "--anchor",
        "2026-01-01",
        "--budgets",
        str(budgets),
    )
    assert code == 2
    assert field in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(
    "extra",
    [
        ["--tier", "platinum", "--anchor", "2026-01-01"],
        ["--tier", "plus", "--seats", "6", "--anchor", "2026-01-01"],
        ["--tier", "pro", "--anchor", "2026-01-01T00:30:00Z"],
        ["--tier", "pro", "--anchor", "2026-01-01", "--reserve", "100"],
    ],
)
def test_simulate_user_mistakes_exit_2(usage: Path, extra: list[str]) -> None:
    code, _, err = _run("simulate", "--usage", str(usage), *extra)
    assert code == 2
    assert err.startswith("codex-credits: error:")


def test_compare_ranks_and_recommends(usage: Path) -> None:
    code, out, err = _run(
        "compare",
        "--usage",
        str(usage),
        "--anchor",
        "2026-01-01",
        "--max-seats",
        "2",
        "--tolerance",
        "0.5",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    costs = [Decimal(o["total_cost"]) for o in data["options"]]
    assert costs == sorted(costs)
    # free and go are 1 seat at most; plus and pro are tried with 1 and 2 seats
    assert sorted((o["tier"], o["seats"]) for o in data["options"]) == [
        ("free", 1),
        ("go", 1),
        ("plus", 1),
        ("plus", 2),
        ("pro", 1),
        ("pro", 2),
    ]
    rec = data["recommended"]
    assert Decimal(rec["refused_share"]) <= Decimal("0.5")
    cheaper = [o for o in data["options"] if o["rank"] < rec["rank"]]
    assert all(Decimal(o["refused_share"]) > Decimal("0.5") for o in cheaper)


def test_compare_table(usage: Path) -> None:
    code, out, _ = _run("compare", "--usage", str(usage), "--anchor", "2026-01-01")
    assert code == 0
    assert "Recommended" in out or "No option" in out


def test_demo_shows_a_tier_comparison() -> None:
    code, out, _ = _run("demo")
    assert code == 0
    assert "Recommended" in out
    serving = out.split("Tiers that serve the work")[1].split("Tiers that refuse")[0]
    first = next(line.split() for line in serving.splitlines() if line.startswith("1 "))
    assert first[1] != "free" and first[-1] == "0.00%"  # the cheapest tier that serves the work
    refusing = out.split("Tiers that refuse more than that")[1].split("Recommended")[0]
    assert "free" in refusing
