"""The documentation covers the public API and links only to pages that exist."""

from __future__ import annotations

import re

import codex_credits
from tests.snippets import ROOT

DOCS = ROOT / "docs"
API = DOCS / "api"


def _reference() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(API.glob("*.md")))


def test_every_public_name_is_in_the_api_reference() -> None:
    reference = _reference()
    documented = set(re.findall(r"^::: ([\w.]+)$", reference, re.MULTILINE))
    missing = [
        f"{name} (add '::: {module}.{name}' to a page of docs/api/)"
        for name, module in codex_credits._EXPORTS.items()
        if f"{module}.{name}" not in documented
    ]
    assert missing == []
    assert "__version__" in reference


def test_reference_entries_point_at_real_objects() -> None:
    import importlib

    for target in re.findall(r"^::: ([\w.]+)$", _reference(), re.MULTILINE):
        module, _, name = target.rpartition(".")
        assert hasattr(importlib.import_module(module), name), target


def test_every_page_is_in_the_site_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", config, re.MULTILINE))
    assert pages - listed == set()
    assert listed - pages == set()


def test_api_reference_is_linked_from_the_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "api/index.md" in index and "tutorials/notebook.md" in index
