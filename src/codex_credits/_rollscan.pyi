"""Codex rollout files read in compiled code (see codex_credits.io.rollout_native)."""

from collections.abc import Callable
from typing import Any

def scan(
    data: bytes,
    path: str,
    session: str | None,
    loads: Callable[[bytes], Any],
    parse_ts: Callable[[str], int],
    stable_key: Callable[[str], int],
    bad_line: type[BaseException],
    max_tokens: int,
    min_seconds: int,
    max_seconds: int,
) -> tuple[Any, ...] | None:
    """One file's lines read with the reader's rules; None when the Python reader must read it."""

def keys(ts_us: int, total: tuple[int, ...] | None, last: tuple[int, ...]) -> tuple[int, int]:
    """``(hash((total or (), last)), hash((ts_us, total or (), last)))``."""
