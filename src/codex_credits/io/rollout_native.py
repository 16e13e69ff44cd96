"""Rollout files read, and their requests de-duplicated, by compiled code when it is built.

``codex_credits._rollscan`` is an optional C extension (built on install where
a C compiler is found; the package works without it). :func:`scan_file` reads
a whole file with the rules of :mod:`codex_credits.io.rollout_parse`: a strict
JSON scanner checks every line in full (so every broken line is still found)
and picks out only the fields the rules read. It handles the usual shapes of
every record; a file with a line it does not handle the same way (a field the
Python reader would report as a problem, an unusual shape, a line it is not
sure is valid JSON that the decoder accepts) is declined as a whole and read
by the Python reader instead. Lines it is not sure of are handed to the same
JSON decoder as the Python reader uses, so both agree on what a broken line
is. :class:`CompiledDeduplicator` counts the requests of all files with the
rules of :class:`~codex_credits.io.rollout_dedupe.Deduplicator`. Property
tests hold the compiled and the Python code equal (docs/logs.md, "How a
rollout is read").
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from types import ModuleType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from codex_credits.io import rollout_dedupe
from codex_credits.io.bounds import MAX_SECONDS, MIN_SECONDS
from codex_credits.io.rollout_dedupe import Coded, Deduplicator
from codex_credits.io.rollout_fields import MAX_TOKENS, BadLine, loads, parse_ts, stable_key
from codex_credits.io.rollout_limits import observe_windows
from codex_credits.io.rollout_records import FileResult, FileState, Packed

__all__ = [
    "AVAILABLE",
    "NOT_JSON",
    "NOT_OBJECT",
    "CompiledDeduplicator",
    "deduplicator",
    "finish_file",
    "scan_file",
]

NOT_JSON: Final = "not valid JSON (a truncated or corrupt line)"
NOT_OBJECT: Final = "not a JSON object"
_MESSAGES: Final = (NOT_JSON, NOT_OBJECT)


def _load() -> ModuleType | None:
    try:
        _rollscan = import_module("codex_credits._rollscan")
    except ImportError:
        return None
    # The compiled keys restate Python's hash of tuples of ints and the record
    # key; use them only where they agree with this interpreter's.
    last = (7, 3, 2, 1, 9)
    for ts_us, total in ((1_764_000_000_123_456, (70, 30, 20, 10, 90)), (-5, None), (-1, last)):
        same = (total or (), last)
        if _rollscan.keys(ts_us, total, last) != (hash(same), hash((ts_us, *same))):
            return None
    for text in ("", "resp_0199e5c27a3b", "é" * 200):
        if _rollscan.stable_key(text) != stable_key(text):
            return None
    return _rollscan


_native: Final = _load()
AVAILABLE: Final = _native is not None
"""Whether the compiled scanner is built and agrees with this interpreter."""


def scan_file(state: FileState, data: bytes) -> tuple[FileResult, list[tuple[int, str]]] | None:
    """The file's result and its broken lines (line, problem); None if declined.

    ``state`` is the fresh state of the file (its path and the session its
    name gives).
    """
    if _native is None:
        return None
    scanned: Any = _native.scan(
        data,
        state.path,
        state.session,
        loads,
        parse_ts,
        BadLine,
        MAX_TOKENS,
        MIN_SECONDS,
        MAX_SECONDS,
    )
    if scanned is None:
        return None
    result = FileResult()
    (
        result.lines,
        result.token_counts,
        result.repeats,
        result.resets,
        result.records,
        result.unknown,
        state.duplicate_records,
        state.pending_tools,
        bad,
        result.candidates,
        limits,
    ) = scanned
    state.limits = dict(limits)
    broken = [(line, _MESSAGES[code]) for line, code in bad]
    return finish_file(state, result), broken


def finish_file(state: FileState, result: FileResult) -> FileResult:
    """Move what the file's state holds at its end into its result."""
    result.unattributed_tools = state.pending_tools
    result.duplicate_records = state.duplicate_records
    observe_windows(state, result)
    return result


class CompiledDeduplicator(Deduplicator):
    """:class:`~codex_credits.io.rollout_dedupe.Deduplicator` with its rows kept in C.

    The candidates of each file are counted by ``codex_credits._rollscan.Dedupe``
    as :class:`Deduplicator` counts them (a property test holds the two equal);
    the counted rows are plain C values until :meth:`finish` makes the columns.
    """

    def __init__(self, since_us: int | None) -> None:
        super().__init__(since_us)
        assert _native is not None
        self._rows: Any = _native.Dedupe(since_us, rollout_dedupe.MAX_INT64)

    def _count(self, candidates: Sequence[Packed]) -> None:
        problems = self._rows.add(candidates)
        if problems:
            self._overflowed(problems)

    def _overflowed(self, problems: list[str]) -> None:
        self.counts["bad_lines"] += len(problems)
        self.skipped += len(problems)
        self._note(problems)

    def _columns(self) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Coded]]:
        done: dict[str, Any] = self._rows.finish()
        self._rows = None
        self._overflowed(done["problems"])
        c = self.counts
        c["copied_requests"] += done["copied_requests"]
        c["before_since"] += done["before_since"]
        self.inp = done["input_tokens"]
        self.out = done["output_tokens"]
        self.reasoning = done["reasoning_output_tokens"]
        self.cache_write = done["cache_write_input_tokens"]
        table = np.frombuffer(done["numbers"], dtype=np.int64).reshape(6, -1)
        numbers = {
            "ts_us": table[0],
            "fast": np.frombuffer(done["fast"], dtype=np.bool_),
            "reasoning_tokens": table[4],
            "tool_calls": table[5],
            "output_tokens": table[3],
            "input_tokens": table[1],
            "cached_input_tokens": table[2],
        }
        labelled = {
            name: (
                np.frombuffer(done[name][0], dtype=np.intc).astype(np.int32),
                tuple(done[name][1]),
            )
            for name in ("model", "session_id", "project_id")
        }
        return numbers, labelled


def deduplicator(since_us: int | None) -> Deduplicator:
    """The compiled de-duplication where the scanner is built, else the Python one."""
    return Deduplicator(since_us) if _native is None else CompiledDeduplicator(since_us)
