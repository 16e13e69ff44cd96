"""``import codex_credits`` is cheap; every public name still resolves, typed and listed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import codex_credits

INIT = Path(codex_credits.__file__)


def test_every_export_is_mapped_and_listed() -> None:
    exports = codex_credits._EXPORTS
    assert set(exports) == set(codex_credits.__all__) - {"__version__"}
    assert list(exports) == sorted(exports, key=str.casefold)


def test_type_checkers_see_every_name() -> None:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    imported = {
        alias.asname or alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == codex_credits._EXPORTS


def test_names_come_from_their_modules() -> None:
    for name, module in codex_credits._EXPORTS.items():
        assert getattr(codex_credits, name) is getattr(sys.modules[module], name)
    assert set(codex_credits.__all__) <= set(dir(codex_credits))


def test_submodules_load_on_first_use() -> None:
    assert codex_credits.data.sample_usage_path().exists()
    assert callable(codex_credits.plots.plot_forecast)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        codex_credits.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, codex_credits\n"
        "print(','.join(m for m in ('numpy', 'pydantic', 'httpx', 'codex_credits.core') "
        "if m in sys.modules))"
    )
    src = str(INIT.parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.strip() == ""
