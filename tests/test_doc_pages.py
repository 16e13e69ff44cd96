"""The Python snippets of the task, lever, what-if, governance, audit and scale pages run.

Each page runs top to bottom in one namespace, as a reader pastes it into a
notebook, in a folder holding a copy of ``examples/`` (the pages read its files).
A block whose first line is ``# needs a cluster (network)`` is skipped: it
connects to a machine a test does not have. Shown results (``# value`` on the
line after an expression) are checked, as for the README.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.snippets import ROOT, blocks, run_python

DOCS = ROOT / "docs"
PAGES = sorted(
    [
        *(DOCS / "tasks").glob("*.md"),
        *(DOCS / "levers").glob("*.md"),
        DOCS / "what-if.md",
        DOCS / "governance.md",
        DOCS / "audit.md",
        DOCS / "scale.md",
    ]
)
NETWORK = "# needs a cluster (network)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_snippets_run_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks(page, "python"):
        if block.startswith(NETWORK):
            continue
        run_python(block, namespace)


def test_the_marker_is_used_only_for_a_cluster() -> None:
    marked = [b for page in PAGES for b in blocks(page, "python") if b.startswith(NETWORK)]
    assert all("Client(" in b or "spark" in b.lower() for b in marked)
    assert sum(len(blocks(page, "python")) for page in PAGES) - len(marked) >= 10
