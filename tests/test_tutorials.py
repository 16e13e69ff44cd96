"""The tutorials run top to bottom as written, like notebooks (their shown results checked)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.snippets import ROOT, blocks, run_python, run_shell, shell_commands

TUTORIALS = ROOT / "docs" / "tutorials"


def test_notebook_walk_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks(TUTORIALS / "notebook.md", "python"):
        run_python(block, namespace)
    for image in ("burndown.png", "tiers.png", "forecast.png"):
        assert (tmp_path / image).read_bytes().startswith(b"\x89PNG")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_internal_tool_guide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks(TUTORIALS / "internal-tool.md", "python"):
        run_python(block, namespace)


def test_ci_gate_guide(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "codex-credits.toml", tmp_path / "codex-credits.toml")
    ran = 0
    for block in blocks(TUTORIALS / "ci-gate.md", "sh"):
        for command in shell_commands(block):
            if command.startswith(("python3 -m pip", "OPENAI_ADMIN_KEY")):
                continue  # installing, and the live API: not on a test machine
            done = run_shell(command, tmp_path)
            assert done.returncode in (0, 1), (command, done.stderr)
            ran += 1
    assert ran >= 3
