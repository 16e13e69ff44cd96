"""The optional C extension ``codex_credits._rollscan`` is built where the tests run.

The extension is optional: without a compiler the package installs and runs in pure
Python, and this test skips. With ``CI`` set (.ci/run installs the project editable,
which compiles the extension into ``src/codex_credits/``) a missing extension fails,
so CI always tests the compiled path.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import codex_credits

REASON = (
    "the optional C extension codex_credits._rollscan is not built; build it in place "
    "with `python3 -m pip install -e .` (or `python3 setup.py build_ext --inplace`)"
)


def test_the_compiled_extension_imports_from_the_package_under_test() -> None:
    rollscan = pytest.importorskip("codex_credits._rollscan", reason=REASON)
    built = Path(rollscan.__file__ or "")
    assert any(built.name.endswith(suffix) for suffix in EXTENSION_SUFFIXES), built
    assert built.parent == Path(codex_credits.__file__).parent
