"""In CI every extra is installed: a test that needs a missing one fails instead of skipping."""

from __future__ import annotations

import os

import pytest


def test_a_missing_extra_fails_in_ci_and_skips_elsewhere() -> None:
    expected = pytest.fail.Exception if os.environ.get("CI") else pytest.skip.Exception
    with pytest.raises(expected):
        pytest.importorskip("codex_credits_no_such_extra")


def test_ci_has_every_extra() -> None:
    for module in ("pandas", "polars", "matplotlib", "rich", "mkdocs", "mkdocstrings"):
        pytest.importorskip(module)
