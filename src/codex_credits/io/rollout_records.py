"""What one rollout file yields, and the reading state of one file.

:class:`Candidate` is one request found in a file, :class:`FileResult` all
that one file yielded (candidates, counts, problems, plan-window
observations), and :class:`FileState` the small state carried from line to
line while one file is read (:mod:`codex_credits.io.rollout_parse`). A
:class:`FileResult` pickles as plain tuples, so worker processes hand back
data that is quick to send and to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

__all__ = [
    "Candidate",
    "FileResult",
    "FileState",
    "Packed",
    "Usage",
    "Window",
    "WindowObservation",
]

Usage = tuple[int, int, int, int, int]
"""input, cached input, output, reasoning output, total tokens."""


Window = tuple[int, int | float, int | None]
"""A checked window: minutes, used percent, reset time (Unix seconds) or None."""


Packed = tuple[Any, ...]
"""A :class:`Candidate` as a tuple of its fields, in slot order (:meth:`Candidate.pack`).

A file's candidates are kept and handed on in this form: cheap to make (the
compiled scanner makes them directly), to send between processes and to read.
The positions are named below (``TOOLS``, ``TS_US``, ...)."""


class Candidate:
    """One request found in a file, before de-duplication across files."""

    __slots__ = (
        "cache_write",
        "fast",
        "key_full",
        "key_totals",
        "line",
        "model",
        "paired",
        "path",
        "project",
        "response_id",
        "session",
        "suspect",
        "tools",
        "ts_us",
        "usage",
    )

    def __init__(
        self,
        ts_us: int,
        usage: Usage,
        key_totals: int,
        key_full: int,
        state: FileState,
        line: int,
        response_id: str | None = None,
        cache_write: int = 0,
    ) -> None:
        self.ts_us = ts_us
        self.usage = usage
        self.key_totals = key_totals
        self.key_full = key_full
        self.model = state.model
        self.fast = state.fast
        self.session = state.session
        self.project = state.project
        self.suspect = state.replay or state.forked or ts_us < state.start_us
        self.tools = 0
        self.line = line
        self.path = state.path
        self.response_id = response_id
        self.cache_write = cache_write
        self.paired: tuple[int, int] | None = None
        """``(key_full, key_totals)`` of the token_count this record stands for."""

    def pack(self) -> Packed:
        """The fields as one tuple, in slot order (cheap to send between processes)."""
        return _pack(self)


_pack = attrgetter(*Candidate.__slots__)
(
    CACHE_WRITE,
    FAST,
    KEY_FULL,
    KEY_TOTALS,
    LINE,
    MODEL,
    PAIRED,
    PATH,
    PROJECT,
    RESPONSE_ID,
    SESSION,
    SUSPECT,
    TOOLS,
    TS_US,
    USAGE,
) = range(len(Candidate.__slots__))


class WindowObservation:
    """A plan window seen in a ``rate_limits`` object (raw values, converted later)."""

    __slots__ = ("limit_id", "minutes", "observed_us", "plan_type", "resets_at", "used_percent")

    def __init__(
        self,
        observed_us: int,
        limit_id: str | None,
        minutes: int,
        used_percent: float | int,
        resets_at: int | None,
        plan_type: str | None,
    ) -> None:
        self.observed_us = observed_us
        self.limit_id = limit_id
        self.minutes = minutes
        self.used_percent = used_percent
        self.resets_at = resets_at
        self.plan_type = plan_type

    def pack(self) -> tuple[int, str | None, int, float | int, int | None, str | None]:
        """The constructor's arguments, in order."""
        return (
            self.observed_us,
            self.limit_id,
            self.minutes,
            self.used_percent,
            self.resets_at,
            self.plan_type,
        )


class FileResult:
    """What one file yielded: candidates, counters, problems and window observations."""

    __slots__ = (
        "bad_lines",
        "bad_rate_limits",
        "candidates",
        "duplicate_records",
        "lines",
        "problems",
        "records",
        "repeats",
        "resets",
        "token_counts",
        "unattributed_tools",
        "unknown",
        "unreadable",
        "windows",
    )

    def __init__(self) -> None:
        self.candidates: Sequence[Packed] = []
        """Packed candidates: a list, or the compiled scanner's sequence of them."""
        self.bad_rate_limits = 0
        self.unreadable = 0
        self.duplicate_records = 0
        self.lines = 0
        self.bad_lines = 0
        self.problems: list[str] = []
        self.records = 0
        self.repeats = 0
        self.resets = 0
        self.token_counts = 0
        self.unattributed_tools = 0
        self.unknown = 0
        self.windows: dict[tuple[str, int], WindowObservation] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        """Plain data: a worker hands back tuples, quick to pickle and load."""
        return (
            list(self.candidates),
            [(key, obs.pack()) for key, obs in self.windows.items()],
            _counts(self),
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        packed, windows, counts = state
        for name, value in zip(_COUNTS, counts, strict=True):
            setattr(self, name, value)
        self.candidates = packed
        self.windows = {key: WindowObservation(*obs) for key, obs in windows}


_COUNTS = tuple(name for name in FileResult.__slots__ if name not in ("candidates", "windows"))
_counts = attrgetter(*_COUNTS)


class FileState:
    """What one file's reading carries from line to line."""

    __slots__ = (
        "candidates",
        "duplicate_records",
        "fast",
        "forked",
        "last",
        "limits",
        "model",
        "observing",
        "path",
        "pending_tools",
        "prev_total",
        "project",
        "replay",
        "replay_us",
        "responses",
        "root_id",
        "session",
        "start_us",
    )

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.session: str | None = _session_from_name(path)
        self.root_id: str | None = None
        self.project: str | None = None
        self.model: str | None = None
        self.fast = False
        self.forked = False
        self.replay = False
        self.replay_us = 0
        self.observing = True
        self.start_us = -(2**62)
        self.prev_total: Usage | None = None
        self.last: Candidate | None = None
        self.candidates: list[Candidate] = []
        """The requests found so far, but for per-response records."""
        self.pending_tools = 0
        self.responses: dict[str, Candidate] = {}
        self.duplicate_records = 0
        self.limits: dict[tuple[Any, str], tuple[int, Window, str | None, str | None]] = {}


def _session_from_name(path: Path) -> str:
    stem = path.stem
    # rollout-2025-11-22T20-45-35-<uuid>: the uuid is the last five dash groups.
    parts = stem.split("-")
    if stem.startswith("rollout-") and len(parts) >= 6:
        return "-".join(parts[-5:])
    return stem
