"""The core stays sans-I/O: importing the package must not pull in httpx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
    ).stdout
    return set(out.split())


def test_import_package_does_not_import_httpx() -> None:
    assert "httpx" not in _modules_after("import codex_credits")


def test_core_imports_no_io_libraries() -> None:
    loaded = _modules_after("import codex_credits.core.usage, codex_credits.core.periods")
    assert "httpx" not in loaded
    assert "codex_credits.cli" not in loaded
