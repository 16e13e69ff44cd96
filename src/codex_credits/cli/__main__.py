"""``python -m codex_credits.cli``."""

from __future__ import annotations

from codex_credits.cli import run

run()
