from __future__ import annotations

import codex_credits


def test_all_is_sorted_casefold_and_unique() -> None:
    assert codex_credits.__all__ == sorted(set(codex_credits.__all__), key=str.casefold)


def test_every_name_in_all_exists() -> None:
    missing = [name for name in codex_credits.__all__ if not hasattr(codex_credits, name)]
    assert missing == []


def test_public_members_are_in_all() -> None:
    public = {
        name
        for name, value in vars(codex_credits).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("codex_credits")
    }
    assert public <= set(codex_credits.__all__)


def test_exported_classes_belong_to_the_package() -> None:
    for name in codex_credits.__all__:
        value = getattr(codex_credits, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, type):
            assert module is not None
            assert module.startswith("codex_credits"), name
