"""The Python snippets of every documentation page run as written.

Each page runs top to bottom in one namespace, as a reader pastes it into a
notebook, in a folder holding a copy of ``examples/`` (the pages read its files).
A block whose first line is ``# needs ... (network)`` is skipped: it connects to
a machine a test does not have (a cluster, the usage API). Shown results
(``# value`` on the line after an expression) are checked, as for the README.
The tutorials have their own tests (tests/test_tutorials.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from codex_credits.data import sample_usage_path
from codex_credits.synthetic_rollouts import write_rollout_history
from tests.snippets import ROOT, blocks, run_python, run_shell, shell_commands

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "tutorials" not in p.parts)
NETWORK = re.compile(r"# needs [^\n]*\(network\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_snippets_run_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks(page, "python"):
        if NETWORK.match(block):
            continue
        run_python(block, namespace)


def test_the_marker_is_used_only_for_the_network() -> None:
    marked = [b for page in PAGES for b in blocks(page, "python") if NETWORK.match(b)]
    assert all("Client(" in b or "usage_df" in b for b in marked)
    assert len(marked) <= 4
    assert sum(len(blocks(page, "python")) for page in PAGES) - len(marked) >= 25


# Commands that need what a test machine has not: the usage API, an installer; and
# the project's own tool chain (run by CI itself). A Codex home is made up (HOME).
ELSEWHERE = ("OPENAI_ADMIN_KEY", "--from-api", "--state-from-api", "pip install",
             "bash .ci", "mkdocs", "pytest", "ruff", "mypy")  # fmt: skip


def test_shell_snippets_run_as_written(tmp_path: Path) -> None:
    """Every page's commands, in a folder like the README's: usage.csv, the examples."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(sample_usage_path(), tmp_path / "usage.csv")
    for name in ("codex-credits.toml", "tasks.toml"):
        shutil.copy(ROOT / "examples" / name, tmp_path / name)
    namespace: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as patch:  # audit.md writes the log the commands read
        patch.chdir(tmp_path)
        for block in blocks(DOCS / "audit.md", "python"):
            run_python(block, namespace)
    home = tmp_path / "home"
    write_rollout_history(home / ".codex", sessions=4)
    setting = f"export HOME={home} AUDIT_KEY='read me from a secret store';"
    ran = 0
    for page in [*PAGES, *(DOCS / "tutorials").glob("*.md")]:
        for command in (c for b in blocks(page, "sh") for c in shell_commands(b)):
            if command.startswith("export ") or any(s in command for s in ELSEWHERE):
                continue
            done = run_shell(f"{setting} {command}", tmp_path)
            # 1 is a verdict (a failed check, a refused task, a stopped session)
            assert done.returncode in (0, 1), (page.name, command, done.stderr)
            ran += 1
    assert ran >= 20
