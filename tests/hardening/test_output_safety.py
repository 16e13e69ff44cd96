"""Text from data is escaped for the medium it is printed in: GitHub workflow
commands, Markdown, a terminal."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.cli import main
from codex_credits.escape import (
    markdown,
    markdown_code,
    terminal,
    workflow_data,
    workflow_property,
)

HOSTILE = [
    "api\n::error::injected",
    "api\r\n::set-output name=x::1",
    "50%0A::warning::x",
    "a|b|c",
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "`code` **bold** _em_ ~~s~~",
    "@octocat please look",
    "\x1b[2J\x1b]0;pwned\x07title",
    "\u202eevil\u202c",
    "tab\there",
    "lone \ud800 surrogate",
    "nul\x00byte\x7f\x9b",
]


def _outside_code(text: str) -> str:
    """Markdown without its code spans (where HTML is shown, never rendered)."""
    return re.sub(r"`[^`]*`", "", text)


def _command_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.lstrip().startswith("::")]


@pytest.mark.parametrize("text", HOSTILE)
def test_workflow_escaping_keeps_one_command_per_line(text: str) -> None:
    line = f"::error title={workflow_property(text)}::{workflow_data(text)}"
    assert "\n" not in line and "\r" not in line
    assert _command_lines(line) == [line]
    title = line.split("::")[1]
    assert title.count(":") == 0  # ``::`` cannot close the properties early
    assert "," not in title.removeprefix("error title=")


def test_workflow_escaping_follows_githubs_rules() -> None:
    assert workflow_data("100%\r\n") == "100%25%0D%0A"
    assert workflow_property("a:b,c%") == "a%3Ab%2Cc%25"
    assert workflow_data("\x1b[31m") == "\\x1b[31m"


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_escaping_keeps_one_cell(text: str) -> None:
    cell = markdown(text)
    assert "\n" not in cell and "\r" not in cell
    assert re.search(r"(?<!\\)\|", cell) is None  # every pipe escaped
    assert re.search(r"(?<!\\)<", cell) is None  # no HTML tag can open
    assert "@" not in cell
    assert "\x1b" not in cell
    code = markdown_code(text)
    assert code.startswith("`") and code.endswith("`") and code.count("`") == 2
    assert re.search(r"(?<!\\)\|", code) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_escaping_leaves_no_control_character(text: str) -> None:
    shown = terminal(text)
    assert not any(ord(c) < 32 and c != "\t" for c in shown)
    assert not any(0x7F <= ord(c) <= 0x9F for c in shown)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in shown)
    assert "\u202e" not in shown
    shown.encode("utf-8")  # always writable


@given(st.text())
def test_escapes_are_total_and_printable(text: str) -> None:
    for escaped in (terminal(text), markdown(text), workflow_data(text), workflow_property(text)):
        escaped.encode("utf-8")
        assert "\n" not in escaped and "\r" not in escaped
        assert "\x1b" not in escaped


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))))
def test_terminal_keeps_ordinary_text(text: str) -> None:
    bidi = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F))}
    bidi |= set(map(chr, range(0x2066, 0x206A)))
    if not set(text) & bidi:
        assert terminal(text) == text


# -- check's outputs with a hostile policy ----------------------------------------------------

POLICY = """\
[account]
tier = "pro"
anchor = "2026-06-01T00:00:00Z"

[[budgets]]
name = "api\\n::error::injected <b>|x|</b> \\u001b[31m"
scope = "project"
value = "api"
amount = 10
"""

USAGE = """timestamp,ccu,project_id,user_id,event_id
2026-06-01T10:00:00Z,60,api,ann,e1
"""


def _run(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(POLICY, encoding="utf-8")
    usage = tmp_path / "usage.csv"
    usage.write_text(USAGE, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    argv = ["check", "--policy", str(policy), "--usage", str(usage), "--at", "2026-06-10"]
    code = main([*argv, *extra], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_github_format_prints_only_annotations(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path, "--format", "github")
    assert code == 1
    lines = out.strip().split("\n")
    assert all(line.startswith("::") for line in lines), out
    assert len(lines) == 2  # the failing budget and the summary notice
    assert lines[0].startswith("::error title=codex-credits budget%3Aapi%0A%3A%3Aerror%3A%3A")
    assert "\x1b" not in out


def test_the_markdown_summary_goes_to_a_file_or_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, _, _ = _run(tmp_path, "--format", "github")
    assert code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ❌ codex-credits check FAILED")
    assert _command_lines(text) == []
    assert "<b>" not in _outside_code(text) and "\x1b" not in text
    row = next(line for line in text.split("\n") if "budget:api" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four cells, no more
    other = tmp_path / "report.md"
    _run(tmp_path, "--format", "github", "--summary", str(other))
    assert other.read_text(encoding="utf-8").startswith("### ❌")
    assert summary.read_text(encoding="utf-8") == text  # --summary wins over the environment


def test_markdown_and_table_formats_escape_the_name(tmp_path: Path) -> None:
    _, out, _ = _run(tmp_path, "--format", "markdown")
    assert _command_lines(out) == []
    assert "<b>" not in _outside_code(out)
    _, out, _ = _run(tmp_path, "--format", "table")
    assert "\x1b" not in out
    assert _command_lines(out) == []
    _, out, _ = _run(tmp_path, "--format", "json")
    data = json.loads(out)
    assert data["rules"][0]["name"].startswith("budget:api\n::error::")  # JSON keeps the data


def test_cli_tables_escape_labels_from_the_usage_file(tmp_path: Path) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_text(
        'timestamp,ccu,project_id\n2026-06-01T10:00:00Z,5,"evil\x1b[2J\x1b]0;x\x07|<b>@you"\n',
        encoding="utf-8",
    )
    for fmt in ("table", "markdown"):
        out, err = io.StringIO(), io.StringIO()
        argv = ["usage", "--usage", str(usage), "--by", "project", "--format", fmt]
        code = main(argv, stdout=out, stderr=err)
        assert code == 0, err.getvalue()
        assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "<b>" not in out.getvalue()
    assert "@you" not in out.getvalue()
