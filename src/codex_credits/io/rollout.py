"""Real usage from Codex CLI session logs (rollout files).

The Codex CLI writes one JSON Lines *rollout* file per session under
``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`` and moves old ones to
``$CODEX_HOME/archived_sessions/`` (``CODEX_HOME`` is ``~/.codex`` by
default). :func:`read_codex_logs` reads any set of such files or folders into
a :class:`CodexLogs`: a :class:`~codex_credits.core.usage.UsageLog` of one
event per model request, a :class:`RolloutSummary` of what was read, skipped
and de-duplicated, and the latest observed plan windows (:class:`PlanWindow`).

Theory of operation (docs/logs.md): each file is parsed on its own by
:func:`codex_credits.io.rollout_parse.parse_rollout_file` (one line at a
time, small per-file state). Requests are then de-duplicated across files,
because ``codex resume`` and ``codex fork`` copy earlier lines of a session
into a new rollout file:

1. a per-response record counts once per ``response_id``;
2. any other request is identified by the pair (running total, request
   usage) and by the triple (timestamp, running total, request usage). The
   running total is the session's whole history up to that request, so it
   names the request independently of the file and the session it was
   copied into. A request outside copied history counts unless its triple
   was already counted (a verbatim copy keeps its timestamp);
3. a request in copied history (see :mod:`codex_credits.io.rollout_parse`)
   is held back until every file is read, then counted, earliest first, only
   if neither its pair nor its triple was counted. A fork re-stamps the
   timestamps of the history it copies, so the pair is what finds it; and
   when the original file is gone the copy still counts, once.

The keys are kept as 64-bit hashes: a few dozen bytes per request. The
de-duplication and the log's columns are in
:mod:`codex_credits.io.rollout_dedupe`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from stat import S_ISREG
from typing import final

import numpy as np

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import UtcDatetime, epoch_seconds, from_epoch, require_utc
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import UsageDataError
from codex_credits.io.rollout_native import deduplicator
from codex_credits.io.rollout_parse import parse_rollout_file
from codex_credits.io.rollout_records import FileResult, WindowObservation
from codex_credits.io.usagecolumns import gc_paused

__all__ = [
    "CodexLogs",
    "PlanWindow",
    "Progress",
    "RolloutSummary",
    "ccu_meter_view",
    "codex_home",
    "find_rollout_files",
    "read_codex_logs",
    "window_kind",
]

Progress = Callable[[int, int, int, int], None]
"""``progress(files_done, files_total, bytes_done, bytes_total)``."""


def window_kind(minutes: int) -> str:
    """``"5h"`` for a 300-minute window, ``"weekly"`` for 10,080 minutes, else ``"<n>m"``."""
    if minutes == 300:
        return "5h"
    if minutes == 10_080:
        return "weekly"
    return f"{minutes}m"


@final
class PlanWindow(Frozen):
    """The latest observation of one plan window, exactly as the log reported it.

    Codex publishes no absolute limit: only how much of a rolling window is
    used and when it resets. Nothing here is estimated.
    """

    kind: str
    window_minutes: int
    used_percent: Decimal
    resets_at: UtcDatetime | None
    observed_at: UtcDatetime
    limit_id: str | None = None
    plan_type: str | None = None


@final
class RolloutSummary(Frozen):
    """What reading the rollout files found, with every exclusion counted."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    bad_lines: int = 0
    bad_rate_limits: int = 0
    unreadable: int = 0
    problems: tuple[str, ...] = ()
    token_count_events: int = 0
    repeated_totals: int = 0
    total_resets: int = 0
    usage_records: int = 0
    copied_requests: int = 0
    requests: int = 0
    before_since: int = 0
    sessions: int = 0
    unknown_records: int = 0
    unattributed_tool_calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    cache_write_input_tokens: int = 0
    tool_calls: int = 0
    plan_windows: tuple[PlanWindow, ...] = ()

    @property
    def skipped(self) -> int:
        """Everything left out and reported: bad lines, bad rate limits, unreadable paths."""
        return self.bad_lines + self.bad_rate_limits + self.unreadable

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens (cached input is inside input, reasoning inside output)."""
        return self.input_tokens + self.output_tokens


class CodexLogs(Displayed):
    """The result of :func:`read_codex_logs`.

    ``log`` holds the requests with Codex's own figures: ``input_tokens``
    (cached included), ``cached_input_tokens``, ``output_tokens`` (reasoning
    included), ``reasoning_tokens`` (Codex's ``reasoning_output_tokens``),
    ``tool_calls``, ``model``, ``fast``, ``session_id`` and ``project_id``.
    """

    __slots__ = ("log", "summary")

    def __init__(self, log: UsageLog, summary: RolloutSummary) -> None:
        self.log = log
        self.summary = summary

    @property
    def plan_windows(self) -> tuple[PlanWindow, ...]:
        """The latest observation of each plan window (5-hour, weekly, ...)."""
        return self.summary.plan_windows

    def for_card(self, card: RateCard) -> UsageLog:
        """The log mapped onto ``card``.

        A token card prices Codex's figures as they are. On a card with meters
        (the CCU card) reasoning tokens go to the reasoning meter, tool calls
        to the tool meter and the *rest* of the output tokens (output minus
        reasoning, which Codex counts inside output) to the output meter, so
        no token is charged twice.
        """
        if card.meters is None:
            return self.log
        return ccu_meter_view(self.log)


def ccu_meter_view(log: UsageLog) -> UsageLog:
    """``log`` with output tokens reduced by reasoning tokens (see :meth:`CodexLogs.for_card`)."""
    names = (
        "ts_us",
        "ccu_micro",
        "has_ccu",
        "sandbox_micro_minutes",
        "fast",
        "reasoning_tokens",
        "tool_calls",
        "output_tokens",
        "input_tokens",
        "cached_input_tokens",
    )
    columns = {name: log.column(name).copy() for name in names}
    columns["output_tokens"] = np.maximum(columns["output_tokens"] - columns["reasoning_tokens"], 0)
    labels = {}
    for name in (*DIMENSIONS, "sandbox_class"):
        columns[name] = log.column(name).copy()
        labels[name] = log.labels(name)
    return UsageLog(columns, labels, log.summary)


def codex_home(environ: dict[str, str] | None = None) -> Path:
    """``$CODEX_HOME`` if set, else ``~/.codex`` (the CLI's default)."""
    env = os.environ if environ is None else environ
    home = env.get("CODEX_HOME", "").strip()
    return Path(home).expanduser() if home else Path("~/.codex").expanduser()


def find_rollout_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every rollout file under ``paths``, sorted, each once.

    A file is taken as it is. A folder that holds ``sessions/`` or
    ``archived_sessions/`` (a Codex home) is searched there; any other folder
    is searched whole for ``rollout-*.jsonl`` (or, when it has none, ``*.jsonl``).

    A folder that cannot be read is left out; :func:`read_codex_logs` counts
    and names it (``summary.unreadable``).

    Raises:
        UsageDataError: a path does not exist.
    """
    return _discover(paths)[0]


def _discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[str], list[int]]:
    """The rollout files under ``paths``, a problem for each folder that cannot be
    read, and each file's size (0 if it cannot be found again)."""
    found: dict[Path, int] = {}
    problems: dict[str, None] = {}
    for item in paths:
        path = Path(item).expanduser()
        if path.is_file():
            found[path] = _size(path)
            continue
        if not path.is_dir():
            raise UsageDataError(f"{path}: no such file or folder", path=str(path))
        roots = [path / "sessions", path / "archived_sessions"]
        roots = [r for r in roots if r.is_dir()] or [path]
        files: list[tuple[Path, int]] = []
        for root in roots:
            files.extend(_walk(root, "rollout-*.jsonl", problems))
        if not files:
            files = _walk(path, "*.jsonl", problems)
        files.sort(key=_parts)  # the order of paths, one key each
        for file, size in files:
            found.setdefault(file, size)
    return list(found), list(problems), list(found.values())


def _walk(root: Path, pattern: str, problems: dict[str, None]) -> list[tuple[Path, int]]:
    """Files named like ``pattern`` under ``root``, with their sizes (one ``stat``
    each); unreadable folders go to ``problems``."""

    def unreadable(exc: OSError) -> None:
        problems[f"{exc.filename}: cannot read folder: {exc.strerror}"] = None

    files: list[tuple[Path, int]] = []
    for folder, _, names in os.walk(root, onerror=unreadable):
        for name in fnmatch.filter(names, pattern):
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                continue  # gone, or a link to nothing: not a file
            if S_ISREG(info.st_mode):
                files.append((Path(path), info.st_size))
    return files


def read_codex_logs(
    paths: str | Path | Sequence[str | Path] | None = None,
    *,
    since: datetime | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> CodexLogs:
    """Read Codex CLI rollout files into usage events, one per model request.

    Where the optional compiled scanner is built (``codex_credits._rollscan``),
    it reads the files and de-duplicates their requests, with the same result
    as the Python reader (docs/logs.md, "How a rollout is read").

    Args:
        paths: files or folders (a Codex home, its ``sessions`` folder, or any
            folder of rollout files). ``None`` reads :func:`codex_home`.
        since: keep only requests at or after this instant (de-duplication
            still looks at every file).
        progress: called after each file with ``(files_done, files_total,
            bytes_done, bytes_total)``.
        workers: processes that parse files side by side, this one
            included (files are independent; results are merged in file
            order, so the outcome is the same for any number). Default 1;
            benchmarks/bench_logs.py measures 1 and one per CPU.

    Returns:
        :class:`CodexLogs`. Nothing bad stops the import, and nothing is left
        out silently: a bad line (``summary.bad_lines``, also
        ``log.summary.skipped``), a rate-limit window with a value out of range
        (``summary.bad_rate_limits``) and a file or folder that cannot be read
        (``summary.unreadable``) are each skipped, counted and named in
        ``summary.problems``; the good files are all kept.

    Raises:
        UsageDataError: a path given does not exist.
    """
    if paths is None:
        paths = [codex_home()]
    elif isinstance(paths, str | Path):
        paths = [paths]
    files, unreadable, sizes = _discover(paths)
    since_us = None if since is None else _to_us(require_utc(since, "since"))
    total = sum(sizes)
    workers = 1 if workers is None else workers
    reader = deduplicator(since_us)
    reader.unreadable(unreadable)
    done_bytes = 0
    # No garbage collection until the per-request tuples are gone again: they
    # hold no cycles, and a collection would walk them all.
    with gc_paused():
        results = _results(files, sizes, workers)
        for index, (result, size) in enumerate(zip(results, sizes, strict=True)):
            reader.add_file(result)
            done_bytes += size
            if progress is not None:
                progress(index + 1, len(files), done_bytes, total)
        log, counts, sessions = reader.finish()
    windows = tuple(
        _window(obs)
        for obs in sorted(reader.windows.values(), key=lambda o: (o.limit_id or "", o.minutes))
    )
    summary = RolloutSummary(
        files=len(files),
        bytes=total,
        problems=tuple(log.summary.problems),
        sessions=sessions,
        plan_windows=windows,
        **counts,
    )
    return CodexLogs(log, summary)


_CHUNK_BYTES = 8 << 20


def _results(files: list[Path], sizes: list[int], workers: int) -> Iterator[FileResult]:
    """Each file's result, in file order, parsed here and in ``workers - 1`` processes.

    Files are grouped into chunks of about 8 MB. The chunks go to the pool
    last first; this process takes them first first, parsing itself every
    chunk that no worker has started, and waits only for those already taken.
    The two meet in the middle, however fast each side is, and a worker hands
    back only plain tuples (see ``FileResult.__getstate__``).
    """
    if workers <= 1 or len(files) <= 1:
        yield from map(_parse, files)
        return
    chunks: list[list[Path]] = [[]]
    size = 0
    for file, bytes_ in zip(files, sizes, strict=True):
        if size >= _CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(file)
        size += bytes_
    with ProcessPoolExecutor(max_workers=workers - 1) as pool:
        futures = [pool.submit(_parse_all, chunk) for chunk in reversed(chunks)]
        futures.reverse()
        for chunk, future in zip(chunks, futures, strict=True):
            if future.cancel():
                yield from map(_parse, chunk)
            else:
                yield from future.result()


def _parse_all(files: list[Path]) -> list[FileResult]:
    return [_parse(file) for file in files]


def _parse(file: Path) -> FileResult:
    try:
        return parse_rollout_file(file)
    except OSError as exc:
        result = FileResult()
        result.unreadable = 1
        result.problems.append(f"{file}: cannot read rollout file: {exc.strerror}")
        return result


def _window(obs: WindowObservation) -> PlanWindow:
    return PlanWindow(
        kind=window_kind(obs.minutes),
        window_minutes=obs.minutes,
        used_percent=Decimal(str(obs.used_percent)),
        resets_at=None if obs.resets_at is None else from_epoch(obs.resets_at),
        observed_at=_from_us(obs.observed_us),
        limit_id=obs.limit_id,
        plan_type=obs.plan_type,
    )


def _parts(item: tuple[Path, int]) -> tuple[str, ...]:
    return item[0].parts


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _to_us(at: datetime) -> int:
    return epoch_seconds(at) * 1_000_000 + at.microsecond


def _from_us(us: int) -> datetime:
    return from_epoch(0) + timedelta(microseconds=us)
