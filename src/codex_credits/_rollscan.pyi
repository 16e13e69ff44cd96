"""Codex rollout files read in compiled code (see codex_credits.io.rollout_native)."""

from collections.abc import Callable, Sequence
from typing import Any, overload

def scan(
    data: bytes,
    path: str,
    session: str | None,
    loads: Callable[[bytes], Any],
    parse_ts: Callable[[str], int],
    bad_line: type[BaseException],
    max_tokens: int,
    min_seconds: int,
    max_seconds: int,
) -> tuple[Any, ...] | None:
    """One file's lines read with the reader's rules; None when the Python reader must read it."""

def stable_key(text: str) -> int:
    """``rollout_fields.stable_key``: BLAKE2b of the UTF-8 text, 8 bytes, little-endian, signed."""

def keys(ts_us: int, total: tuple[int, ...] | None, last: tuple[int, ...]) -> tuple[int, int]:
    """``(hash((total or (), last)), hash((ts_us, total or (), last)))``."""

class Candidates(Sequence[tuple[Any, ...]]):
    """A file's candidates as C values: a read-only sequence of packed candidates."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[Any, ...]]: ...

class Dedupe:
    """Requests de-duplicated across rollout files (see ``rollout_dedupe.Deduplicator``)."""

    def __init__(self, since_us: int | None, limit: int) -> None: ...
    def add(self, candidates: list[tuple[Any, ...]] | Candidates) -> list[str]:
        """Count one file's candidates (files in file order); the problems it found."""

    def finish(self) -> dict[str, Any]:
        """Count the copied history, earliest first; the log's columns and the counters."""
