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

from tests.snippets import ROOT, blocks, run_python

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
