"""The command line as a person meets it: names, hints, widths, formats, start-up."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from codex_credits.cli import ExitCode, build_parser, main
from codex_credits.cli.args import FORMATS
from codex_credits.cli.commands import MODULES, catalog, load
from codex_credits.cli.parser import CliParser, LazyCommands
from codex_credits.data import sample_usage_path

SAMPLE = str(sample_usage_path())
SRC = str(Path(__file__).resolve().parents[2] / "src")

# Every command run on the sample, as a table (the widest output each one gives).
TABLES = {
    "estimate": ["estimate", "--reasoning-tokens", "12000", "--tool-calls", "20"],
    "usage": ["usage", "--usage", SAMPLE, "--by", "user"],
    "simulate": ["simulate", "--usage", SAMPLE, "--tier", "go", "--anchor", "2026-06-01",
                 "--months", "3", "--budgets", ""],
    "compare": ["compare", "--usage", SAMPLE, "--anchor", "2026-06-01", "--max-seats", "2"],
    "forecast": ["forecast", "--usage", SAMPLE, "--tier", "pro", "--anchor", "2026-06-01",
                 "--at", "2026-06-15", "--paths", "100"],
    "alerts": ["alerts", "--usage", SAMPLE, "--task-threshold", "5", "--tier", "plus",
               "--anchor", "2026-06-01"],
    "report": ["report", "--usage", SAMPLE, "--tier", "plus", "--anchor", "2026-06-01"],
    "card": ["card", "show", "--card", "codex-tokens-2026-04"],
    "demo": ["demo"],
}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([a for a in argv if a != ""])
    out, err = capsys.readouterr()
    return code, out, err


def _drop(argv: list[str], option: str) -> list[str]:
    return [a for a in argv if a not in (option, "")]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_tables_fit_80_columns(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, *_drop(TABLES[name], "--budgets"))
    assert code == ExitCode.OK, err
    widest = max(out.splitlines(), key=len)
    assert len(widest) <= 80, widest


def test_wide_tables_keep_every_digit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = _drop(TABLES["simulate"], "--budgets")
    monkeypatch.setenv("COLUMNS", "60")
    _, narrow, _ = run(capsys, *argv)
    monkeypatch.setenv("COLUMNS", "300")
    _, wide, _ = run(capsys, *argv)
    numbers = [w for w in wide.split() if w[0].isdigit()]
    assert numbers and all(n in narrow.split() for n in numbers)
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert "…" not in narrow and "..." not in narrow


def test_every_parser_refuses_abbreviations() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, LazyCommands))
    sub.configure_all()
    stack: list[argparse.ArgumentParser] = [parser]
    seen = 0
    while stack:
        current = stack.pop()
        assert isinstance(current, CliParser) and current.allow_abbrev is False
        seen += 1
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    assert seen > len(MODULES)


def test_prefixes_are_not_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "simulate", "--usage", SAMPLE, "--tie", "pro", "--mon", "1")
    assert code == ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --tie pro --mon 1" in err
    assert "did you mean --tier?" in err
    assert err.startswith("usage: codex-credits simulate")


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["simulat"], "did you mean 'simulate'?"),
        (["forcast"], "did you mean 'forecast'?"),
        (["estimate", "--reasoning-token", "1"], "did you mean --reasoning-tokens?"),
        (["compare", "--formt", "json"], "did you mean --format?"),
        (["estimate", "--format", "jsn"], "did you mean 'json'?"),
        (["card", "shwo"], "did you mean 'show'?"),
    ],
)
def test_near_misses_get_a_suggestion(
    argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == ExitCode.USAGE_ERROR and hint in err


def test_nothing_close_gets_no_guess(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "--zzzzzz", "1")
    assert code == ExitCode.USAGE_ERROR and "did you mean" not in err


def test_one_format_set_where_it_makes_sense() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, LazyCommands))
    sub.configure_all()
    special = {
        "demo",
        "card",
        "check",
        "audit",
    }  # a tour, a rate card (toml), the CI gate (github), subcommands
    for module, name, _ in catalog():
        if name in special:
            continue
        child = sub.choices[name]
        fmt = next(a for a in child._actions if "--format" in a.option_strings)
        assert tuple(fmt.choices or ()) == FORMATS, (module, fmt.choices)


@pytest.mark.parametrize("fmt", FORMATS)
def test_compare_in_every_format(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *TABLES["compare"], "--format", fmt)
    assert code == ExitCode.OK, err
    assert "pro" in out


def test_the_catalog_matches_the_modules() -> None:
    for module, name, help_text in catalog():
        command = load(module)
        assert (name, help_text) == (command.NAME, command.HELP)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("06/01/2026", "'06/01/2026' is not a date or time; use ISO 8601"),
        ("2026-06-01T09:00", "'2026-06-01T09:00' has no UTC offset; add Z"),
    ],
)
def test_time_errors_quote_what_was_typed(
    typed: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "compare", "--usage", SAMPLE, "--anchor", typed)
    assert code == ExitCode.USAGE_ERROR and said in err
    assert "T00:00:00+00:00" not in err and "datetime(" not in err and "tzinfo" not in err


def test_python_dash_m_codex_credits() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_credits", "estimate", "--reasoning-tokens", "1000"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "reasoning" in done.stdout


def test_help_imports_no_command_and_nothing_heavy() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from codex_credits.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "heavy = [m for m in ('numpy', 'httpx', 'codex_credits.core.account', "
        "'codex_credits.cli.commands.simulate') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.strip() == ""


def test_log_reading_shows_a_bar_only_on_a_terminal() -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    logs = str(Path(__file__).resolve().parents[1] / "data" / "codex-rollout")
    plain_out, plain_err = io.StringIO(), io.StringIO()
    assert main(["logs", logs, "--format", "json"], stdout=plain_out, stderr=plain_err) == 0
    tty_out, tty_err = io.StringIO(), Tty()
    assert main(["logs", logs, "--format", "json"], stdout=tty_out, stderr=tty_err) == 0
    assert "reading logs" in tty_err.getvalue() and "files" in tty_err.getvalue()
    assert "reading logs" not in plain_err.getvalue()
    assert tty_out.getvalue() == plain_out.getvalue()


def test_report_start_is_the_range_unless_it_stands_for_the_anchor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["report", "--usage", SAMPLE, "--tier", "plus", "--format", "json"]
    code, new, err = run(capsys, *argv, "--anchor", "2026-06-01")
    assert code == ExitCode.OK and "deprecated" not in err
    code, old, err = run(capsys, *argv, "--start", "2026-06-01")
    assert code == ExitCode.OK and old == new and "--start is deprecated" in err
    code, _, err = run(capsys, "report", "--usage", SAMPLE, "--start", "2026-06-01")
    assert code == ExitCode.OK and "deprecated" not in err  # no tier: no anchor meant


def test_long_work_shows_progress_on_a_terminal_only() -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    argv = ["compare", "--usage", SAMPLE, "--anchor", "2026-06-01", "--max-seats", "1"]
    tty_out, tty_err = io.StringIO(), Tty()
    assert main(argv, stdout=tty_out, stderr=tty_err) == 0
    assert "reading sample-usage.csv" in tty_err.getvalue()
    assert "replaying every tier" in tty_err.getvalue()
    plain_out, plain_err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=plain_out, stderr=plain_err) == 0
    assert plain_err.getvalue() == "" and plain_out.getvalue() == tty_out.getvalue()


def test_a_naive_time_in_a_file_gets_advice_in_the_file_s_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = tmp_path / "u.csv"
    usage.write_text("timestamp,ccu,project_id\n2026-06-01T09:00:00Z,1.5,a\n", encoding="utf-8")
    policy = tmp_path / "p.toml"
    policy.write_text('[account]\ntier = "pro"\nanchor = "2026-06-01T00:00:00"\n', encoding="utf-8")
    code, _, err = run(capsys, "check", "--policy", str(policy), "--usage", str(usage))
    assert code == ExitCode.USAGE_ERROR
    assert "'2026-06-01T00:00:00' has no timezone offset; add one, e.g. 2026-06-01T00:00:00Z" in err
    assert "datetime(" not in err and "tzinfo" not in err


def test_estimate_starts_without_numpy_or_the_new_commands() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from codex_credits.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['estimate', '--reasoning-tokens', '12000', '--tool-calls', '20'])\n"
        "heavy = [m for m in ('numpy', 'httpx', 'codex_credits.tasks', 'codex_credits.whatif', "
        "'codex_credits.governance') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.strip() == ""
