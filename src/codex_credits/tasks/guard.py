"""Quality gates in process: stop a running task at its iteration, file, time or CCU cap.

Theory of operation (docs/tasks/guard.md): a :class:`TaskGuard` is fed the
events of one running task, in order: :class:`Metered` (credits spent),
:class:`IterationStarted` (a test-fix iteration began: a test run),
:class:`FileTouched` and :class:`Tick` (time passed). It reads no clock and
does no I/O. After each event it answers :class:`GuardVerdict` ``continue``
or ``stop`` with the reason, checked in this order:

* ``iteration_cap``: iteration ``max_iterations + 1`` begins (the seed's
  test-fix loop explosion; 5 by default, the top of its 3-5 range);
* ``outside_scope``: a file outside the spec's ``file_scope`` (paths or
  globs) is touched (context scope creep); ``file_count``: more distinct files
  than ``max_files``;
* ``timeout``: more than ``timeout`` minutes since the task began (a silent
  sandbox hang);
* ``ccu_cap``: the credits spent pass ``max_ccu``.

Once stopped the guard stays stopped, and keeps counting what the task
spends after the stop (``ccu_beyond``): replayed over a finished log, that is
what the guard would have saved.

>>> guard = TaskGuard(max_iterations=1)
>>> guard.feed(IterationStarted()).action, guard.feed(IterationStarted()).reason
('continue', 'iteration_cap')
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from codex_credits.core.timeutil import require_utc
from codex_credits.core.units import ZERO
from codex_credits.display import Displayed
from codex_credits.tasks.spec import TaskSpec

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "FileTouched",
    "GuardEvent",
    "GuardVerdict",
    "IterationStarted",
    "Metered",
    "TaskGuard",
    "Tick",
]

DEFAULT_MAX_ITERATIONS = 5
"""The cap for a spec that sets none: the top of the seed's 3-5 for well scoped tasks."""


@dataclass(frozen=True, slots=True, repr=False)
class Metered(Displayed):
    """The task spent ``ccu`` (in the card's unit)."""

    ccu: Decimal
    at: datetime | None = None


@dataclass(frozen=True, slots=True, repr=False)
class IterationStarted(Displayed):
    """A test-fix iteration began (a test run)."""

    at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True, repr=False)
class FileTouched(Displayed):
    """The task read or wrote ``path``."""

    path: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Tick(Displayed):
    """Time passed: the task is still running at ``at``."""

    at: datetime


GuardEvent = Metered | IterationStarted | FileTouched | Tick
"""Anything a guard is fed."""


@dataclass(frozen=True, slots=True, repr=False)
class GuardVerdict(Displayed):
    """``continue`` or ``stop`` after one event, with the figures so far."""

    action: Literal["continue", "stop"]
    reason: str | None
    message: str
    ccu: Decimal
    iterations: int
    files: int
    elapsed: timedelta


class TaskGuard(Displayed):
    """Caps for one running task; feed it events, obey its verdicts.

    Args:
        max_iterations: iterations allowed (None: no cap).
        file_scope: paths or globs the task may touch (empty: anywhere).
        max_files: distinct files allowed (None: no cap).
        timeout_minutes: minutes allowed from ``start`` (None: no cap).
        max_ccu: credits allowed (None: no cap).
        start: when the task began (default: the first event with a time).
    """

    def __init__(
        self,
        *,
        max_iterations: int | None = DEFAULT_MAX_ITERATIONS,
        file_scope: tuple[str, ...] = (),
        max_files: int | None = None,
        timeout_minutes: Decimal | None = None,
        max_ccu: Decimal | None = None,
        start: datetime | None = None,
    ) -> None:
        self.max_iterations = max_iterations
        self.file_scope = tuple(p.removeprefix("./") for p in file_scope)
        self.max_files = max_files
        self.timeout = (
            None
            if timeout_minutes is None
            else timedelta(microseconds=int(Decimal(timeout_minutes) * 60_000_000))
        )
        self.max_ccu = max_ccu
        self.start = None if start is None else require_utc(start, "start")
        self.ccu = ZERO
        self.ccu_beyond = ZERO
        self.iterations = 0
        self.files: set[str] = set()
        self.last: datetime | None = self.start
        self.stopped: GuardVerdict | None = None

    @classmethod
    def from_spec(
        cls, spec: TaskSpec, *, default_iterations: int = DEFAULT_MAX_ITERATIONS
    ) -> TaskGuard:
        """A guard holding ``spec``'s caps (its iteration cap, or ``default_iterations``)."""
        return cls(
            max_iterations=spec.max_iterations or default_iterations,
            file_scope=spec.file_scope,
            max_files=spec.max_files,
            timeout_minutes=spec.timeout,
            max_ccu=spec.max_ccu,
        )

    @property
    def elapsed(self) -> timedelta:
        """Time from the start to the latest event seen."""
        if self.start is None or self.last is None:
            return timedelta(0)
        return self.last - self.start

    def feed(self, event: GuardEvent) -> GuardVerdict:
        """Take one event; continue or stop (and, once stopped, stay stopped)."""
        at = event.at
        if at is not None:
            at = require_utc(at)
            if self.start is None:
                self.start = at
            self.last = at if self.last is None else max(self.last, at)
        if self.stopped is not None:
            if isinstance(event, Metered):
                self.ccu_beyond += event.ccu
            return self.stopped
        reason: tuple[str, str] | None = None
        if isinstance(event, Metered):
            self.ccu += event.ccu
        elif isinstance(event, IterationStarted):
            self.iterations += 1
            cap = self.max_iterations
            if cap is not None and self.iterations > cap:
                reason = (
                    "iteration_cap",
                    f"iteration {self.iterations} would pass the cap of {cap}",
                )
        elif isinstance(event, FileTouched):
            reason = self._file(event.path)
        if reason is None and self.timeout is not None and self.elapsed > self.timeout:
            reason = ("timeout", f"running for {self.elapsed}, past the timeout of {self.timeout}")
        if reason is None and self.max_ccu is not None and self.ccu > self.max_ccu:
            reason = ("ccu_cap", f"{self.ccu} spent, past the cap of {self.max_ccu}")
        if reason is None:
            return self._verdict("continue", None, "within every cap")
        self.stopped = self._verdict("stop", *reason)
        return self.stopped

    def _file(self, path: str) -> tuple[str, str] | None:
        path = path.removeprefix("./")
        if self.file_scope and not any(_within(path, p) for p in self.file_scope):
            return ("outside_scope", f"{path} is outside the file scope")
        self.files.add(path)
        if self.max_files is not None and len(self.files) > self.max_files:
            return (
                "file_count",
                f"{len(self.files)} files touched, past the cap of {self.max_files}",
            )
        return None

    def _verdict(
        self, action: Literal["continue", "stop"], reason: str | None, message: str
    ) -> GuardVerdict:
        return GuardVerdict(
            action=action,
            reason=reason,
            message=message,
            ccu=self.ccu,
            iterations=self.iterations,
            files=len(self.files),
            elapsed=self.elapsed,
        )


def _within(path: str, pattern: str) -> bool:
    """True when ``path`` is ``pattern``, under it (a folder) or matches it (a glob)."""
    if path == pattern or fnmatch.fnmatchcase(path, pattern):
        return True
    folder = pattern.rstrip("/") + "/"
    return path.startswith(folder) or path.endswith("/" + pattern)
