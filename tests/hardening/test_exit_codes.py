"""Every input that used to crash the CLI now exits in its class with one line.

Each case below reproduces a crash found by fuzzing (a traceback and exit 1,
which ``check`` uses for "a rule failed"); now it must exit 2 (input) or 3
(data), print exactly one line on standard error naming what is wrong, and
never a traceback. A real bug exits 70.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from codex_credits.cli import main
from codex_credits.cli.exitcodes import ExitCode

POLICY = """\
[account]
tier = "pro"
seats = 2
anchor = "2026-06-01T00:00:00Z"
rollover_balance = 0

[[budgets]]
name = "api"
scope = "project"
value = "api"
amount = 9000

[forecast]
method = "linear"
seed = 7

[[batch]]
name = "nightly"
count = 12
ccu = 5
"""

USAGE = """timestamp,ccu,project_id,user_id
2026-06-01T10:00:00Z,60,api,ann
2026-06-02T10:00:00Z,40,api,bob
"""

DEEP = "[" * 100_000 + "]" * 100_000


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("codex-credits: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def usage(tmp_path: Path) -> str:
    path = tmp_path / "usage.csv"
    path.write_text(USAGE, encoding="utf-8")
    return str(path)


def check(
    tmp_path: Path, usage: str, name: str, content: str | bytes, *extra: str
) -> tuple[int, str]:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, _, err = run(
        "check", "--policy", str(path), "--usage", usage, "--at", "2026-06-10T00:00:00Z", *extra
    )
    return code, one_line(err)


POLICY_CASES = {
    "deep JSON": ("policy.json", '{"account": ' + DEEP + "}", "nested deeper than 32"),
    "deep TOML": ("policy.toml", "x = " + "[" * 5000 + "]" * 5000, "nested deeper than 32"),
    "not UTF-8": ("policy.toml", b"[account]\ntier = '\xff'\n", "line 2: not UTF-8"),
    "seats 10**12": (
        "policy.toml",
        POLICY.replace("seats = 2", "seats = 1000000000000"),
        "account.seats: 1000000000000 is above the limit of 100,000 (MAX_SEATS)",
    ),
    "rollover 1e30": (
        "policy.toml",
        POLICY.replace("rollover_balance = 0", "rollover_balance = 1e30"),
        "account.rollover_balance: 1E+30 is above the limit",
    ),
    "anchor in 9999": (
        "policy.toml",
        POLICY.replace("2026-06-01T00:00:00Z", "9999-12-31T23:00:00Z"),
        "account.anchor: 9999-12-31T23:00:00+00:00 is outside the supported years 1970..9000",
    ),
    "seed -1": (
        "policy.toml",
        POLICY.replace("seed = 7", "seed = -1"),
        "forecast.seed: -1 is below the minimum of 0",
    ),
    "batch count 10**9": (
        "policy.toml",
        POLICY.replace("count = 12", "count = 1000000000"),
        "batch.0.count: 1000000000 is above the limit of 100,000 (MAX_BATCH_COUNT)",
    ),
    "budget finer than a micro-CCU": (
        "policy.toml",
        POLICY.replace("amount = 9000", 'amount = "0.0000001"'),
        "budgets.0.amount: 0.0000001 is finer than the micro-unit",
    ),
    "tool = 5 in pyproject": ("pyproject.toml", "tool = 5\n", "has no [tool.codex-credits] table"),
    "tool.codex-credits = 5": (
        "pyproject.toml",
        "[tool]\ncodex-credits = 5\n",
        "[tool.codex-credits] must be a table",
    ),
    "a JSON list": ("policy.json", "[1, 2]", "is invalid"),
    "a 5000-digit number": ("policy.json", '{"account": ' + "9" * 5000 + "}", "policy"),
    "NaN": ("policy.json", '{"account": {"seats": NaN}}', "NaN is not a number"),
}


@pytest.mark.parametrize("case", list(POLICY_CASES))
def test_a_hostile_policy_exits_2_naming_the_file(case: str, tmp_path: Path, usage: str) -> None:
    name, content, expected = POLICY_CASES[case]
    code, line = check(tmp_path, usage, name, content)
    assert code == ExitCode.USAGE_ERROR, line
    assert expected in line
    assert name in line


def _card_text(rate: str) -> str:
    code, out, _ = run("card", "show", "--format", "json")
    assert code == 0
    data = json.loads(out)
    data["meters"]["reasoning_per_1k_tokens"] = rate
    return json.dumps(data)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("card.json", DEEP, "nested deeper than 32"),
        ("card.toml", b"name = '\xfe'", "line 1: not UTF-8"),
        ("card.json", _card_text("1e400"), "meters.reasoning_per_1k_tokens: 1E+400 is above"),
        ("card.json", _card_text("Infinity"), "is not a finite number"),
    ],
)
def test_a_hostile_card_exits_2(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, _, err = run("estimate", "--reasoning-tokens", "1000", "--card", str(path))
    assert code == ExitCode.USAGE_ERROR
    line = one_line(err)
    assert expected in line
    assert name in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (DEEP, "nested deeper than 32"),
        (b"\xff{}", "line 1: not UTF-8"),
        ("{}", "not a check report"),
        (
            '{"rules": [{"name": ["x"], "figures": 5}, 3, {"name": "budget:api", "figures": []}]}',
            "",
        ),
    ],
)
def test_a_hostile_baseline_exits_2_or_is_ignored(
    tmp_path: Path, usage: str, content: str | bytes, expected: str
) -> None:
    baseline = tmp_path / "base.json"
    if isinstance(content, bytes):
        baseline.write_bytes(content)
    else:
        baseline.write_text(content, encoding="utf-8")
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(POLICY, encoding="utf-8")
    argv = ["check", "--policy", str(policy), "--usage", usage, "--at", "2026-06-10T00:00:00Z"]
    code, _, err = run(*argv, "--baseline", str(baseline))
    if expected:
        assert code == ExitCode.USAGE_ERROR
        assert expected in one_line(err)
        assert "base.json" in err
    else:  # malformed rules are ignored, never trusted
        assert code in (ExitCode.OK, ExitCode.CHECK_FAILED), err


def test_a_missing_baseline_says_how_to_create_it(tmp_path: Path, usage: str) -> None:
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(POLICY, encoding="utf-8")
    base = tmp_path / "none" / "base.json"
    argv = ["check", "--policy", str(policy), "--usage", usage, "--at", "2026-06-10T00:00:00Z"]
    code, _, err = run(*argv, "--baseline", str(base))
    assert code == ExitCode.USAGE_ERROR
    assert "--write-baseline" in one_line(err)
    code, _, err = run(*argv, "--baseline", str(base), "--write-baseline", str(base))
    assert code in (ExitCode.OK, ExitCode.CHECK_FAILED)
    assert "no baseline at" in err
    saved = json.loads(base.read_text(encoding="utf-8"))
    assert [r["name"] for r in saved["rules"]]
    code, out, err = run(*argv, "--baseline", str(base), "--format", "json")
    assert code in (ExitCode.OK, ExitCode.CHECK_FAILED), err
    assert json.loads(out)["baseline"] == {}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["simulate", "--tier", "pro", "--anchor", "2026-06-01", "--months", "100000"],
            "--months: 100000 is above the limit of 1,200 (MAX_MONTHS)",
        ),
        (
            ["simulate", "--tier", "pro", "--anchor", "2026-06-01", "--seats", "1000000000000"],
            "--seats: 1000000000000 is above the limit of 100,000 (MAX_SEATS)",
        ),
        (
            ["simulate", "--tier", "pro", "--anchor", "9999-12-01"],
            "--anchor: 9999-12-01T00:00:00+00:00 is outside the supported years",
        ),
        (
            ["simulate", "--tier", "pro", "--anchor", "2026-06-01", "--rollover-balance", "1e30"],
            "--rollover-balance: 1E+30 is above the limit",
        ),
        (
            ["simulate", "--tier", "pro", "--anchor", "2026-06-01", "--reserve", "0.0000001"],
            "--reserve: 0.0000001 is finer than the micro-unit",
        ),
        (
            ["compare", "--anchor", "2026-06-01", "--max-seats", "1000000"],
            "--max-seats: 1000000 is above the limit of 100 (MAX_SEAT_SWEEP)",
        ),
        (
            ["forecast", "--tier", "pro", "--anchor", "2026-06-01", "--paths", "100000000"],
            "--paths: 100000000 is above the limit of 100,000 (MAX_PATHS)",
        ),
    ],
)
def test_options_past_their_limit_exit_2_naming_the_limit(
    usage: str, argv: list[str], expected: str
) -> None:
    code, _, err = run(*argv, "--usage", usage)
    assert code == ExitCode.USAGE_ERROR
    assert expected in one_line(err)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["estimate", "--sandbox-minutes", "1e400"], "--sandbox-minutes: 1E+400 is above"),
        (["estimate", "--reasoning-tokens", str(10**20)], "above the limit of"),
    ],
)
def test_estimate_limits(argv: list[str], expected: str) -> None:
    code, _, err = run(*argv)
    assert code == ExitCode.USAGE_ERROR
    assert expected in one_line(err)


def test_an_internal_error_exits_70_and_says_where_to_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from codex_credits.cli.commands import estimate

    def broken(*args: object) -> int:
        raise TypeError("an internal bug")

    monkeypatch.setattr(estimate, "run", broken)  # the handler main() dispatches to
    code, _, err = run("estimate")
    assert code == ExitCode.INTERNAL_ERROR == 70
    line = one_line(err)
    assert "internal error (TypeError: an internal bug)" in line
    assert "report" in line
    code, _, err = run("estimate", "--debug")
    assert code == 70
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("codex-credits: error: internal error")


def test_a_lone_surrogate_in_data_never_crashes_the_output(tmp_path: Path, usage: str) -> None:
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(POLICY.replace('value = "api"', 'value = "a\\ud800"'), encoding="utf-8")
    code, _, err = run("check", "--policy", str(policy), "--usage", usage)
    assert code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.USAGE_ERROR), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("budgets.json", DEEP, "nested deeper than 32"),
        ("budgets.toml", b"\xff", "line 1: not UTF-8"),
        (
            "budgets.toml",
            '[[budgets]]\nname = "w"\nscope = "project"\nvalue = "web"\namount = "0.0000001"\n',
            "budgets[0].amount: 0.0000001 is finer than the micro-unit",
        ),
        (
            "budgets.toml",
            '[[budgets]]\nname = "w"\nscope = "project"\nvalue = "web"\namount = 1e30\n',
            "budgets[0].amount: 1E+30 is above the limit",
        ),
    ],
)
def test_a_hostile_budgets_file_exits_2(
    tmp_path: Path, usage: str, name: str, content: str | bytes, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    argv = ["simulate", "--usage", usage, "--tier", "pro", "--anchor", "2026-06-01"]
    code, _, err = run(*argv, "--budgets", str(path))
    assert code == ExitCode.USAGE_ERROR
    line = one_line(err)
    assert expected in line
    assert name in line


@pytest.mark.parametrize(
    "content",
    [
        "timestamp,ccu,project_id\n2026-06-01T00:00:00Z,1," + "a" * 140_000 + "\n",
        "timestamp,ccu\n9999-12-31T23:59:59-05:00,1\n",
        '{"timestamp": "2026-06-01T00:00:00Z", "ccu": 1, "x": ' + DEEP + "}\n",
        '{"timestamp": "2026-06-01T00:00:00Z", "ccu": 1, "project_id": "a\\ud800"}\n',
        "timestamp,ccu\n2026-06-01T00:00:00Z," + "9" * 30 + "\n",
    ],
    ids=["csv-field-140k", "year-10000-utc", "deep-jsonl", "lone-surrogate", "huge-ccu"],
)
def test_hostile_usage_files_exit_in_the_data_or_input_class(tmp_path: Path, content: str) -> None:
    suffix = ".jsonl" if content.startswith("{") else ".csv"
    path = tmp_path / f"usage{suffix}"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    for fmt in ("table", "json"):
        code, _, err = run("usage", "--usage", str(path), "--format", fmt)
        assert code in (ExitCode.OK, ExitCode.USAGE_ERROR, ExitCode.DATA_ERROR), err
        assert "Traceback" not in err
        if code != ExitCode.OK:
            one_line(err)
