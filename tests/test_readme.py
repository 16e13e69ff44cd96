"""The README's snippets run as written, on the bundled sample."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.snippets import ROOT, blocks, run_python, run_shell, shell_commands

README = ROOT / "README.md"
# These two need what a test machine does not have: a Codex home and the usage API.
NEEDS_ELSEWHERE = ("~/.codex", "OPENAI_ADMIN_KEY=")


def test_readme_names_the_bundled_sample() -> None:
    assert "sample_usage_path()" in README.read_text(encoding="utf-8")


def test_python_snippets_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    code = blocks(README, "python")
    assert len(code) >= 3
    for block in code:
        run_python(block, namespace)
    assert (tmp_path / "forecast.png").stat().st_size > 0
    import matplotlib.pyplot as plt

    plt.close("all")


def test_command_line_snippets_run(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    cli = next(b for b in blocks(README, "sh") if "codex-credits simulate" in b)
    commands = [c for c in shell_commands(cli) if not any(s in c for s in NEEDS_ELSEWHERE)]
    assert len(commands) >= 7
    for command in commands:
        done = run_shell(command, tmp_path)
        # check exits 1 when the sample breaks the example policy, plan when it refuses
        # the unbounded example task: that is their verdict.
        verdict = " check " in command or " plan " in command
        assert done.returncode in ((0, 1) if verdict else (0,)), (
            command,
            done.stderr,
        )
        assert done.stdout.strip() or command.startswith("cp "), command
    assert (tmp_path / "usage.csv").exists()


def test_the_opening_commands_are_the_two_ci_reads() -> None:
    first = blocks(README, "sh")[0].splitlines()
    assert first == [
        "python3 -m pip install . && codex-credits demo",
        'python3 -m pip install -e ".[test]" && python3 -m pytest',
    ]
