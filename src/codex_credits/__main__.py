"""``python -m codex_credits``: the ``codex-credits`` command."""

from __future__ import annotations

from codex_credits.cli import run

if __name__ == "__main__":
    run()
