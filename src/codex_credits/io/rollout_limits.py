"""Plan windows in a token count's ``rate_limits``: checked, and the latest kept.

Codex publishes no absolute limit, only how much of a rolling window is used
and when it resets. Each window is checked (minutes, used percentage, reset
time, each within its limits); a bad one is skipped and reported, a ``null``
one is no observation. Of the good ones, each file keeps its latest per limit
and window.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

from codex_credits.io.bounds import MAX_SECONDS, MIN_SECONDS
from codex_credits.io.rollout_records import FileResult, FileState, Window, WindowObservation

__all__ = ["observe_windows", "read_rate_limits"]

_MAX_PERCENT: Final = 1000  # a used percentage beyond this is not an observation
_MAX_WINDOW_MINUTES: Final = 10_000_000  # about 19 years


class _BadWindow(Exception):
    pass


_NO_PROBLEMS: Final[list[str]] = []  # shared, never appended to


def read_rate_limits(limits: Any, ts_us: int, state: FileState) -> list[str]:
    """Keep the file's latest good window of each limit; returns the bad windows' problems.

    A ``null`` window (a limit without windows) is no observation and is skipped
    silently; a window with a value out of range is skipped and reported.
    """
    if type(limits) is not dict:
        return []  # tolerated: rate limits never decide token usage
    limit_id = limits.get("limit_id")
    if type(limit_id) is not str:
        limit_id = None  # tolerated: only a string names a limit
    plan = limits.get("plan_type")
    plan = plan if type(plan) is str else None
    problems: list[str] = _NO_PROBLEMS
    seen_limits = state.limits
    for name in ("primary", "secondary"):
        window = limits.get(name)
        if window is None:
            window = _flat_window(limits, name)
            if window is None:
                continue
        try:
            checked = _check_window(window, ts_us)
        except _BadWindow as exc:
            if problems is _NO_PROBLEMS:
                problems = []
            problems.append(f"rate_limits.{name}: {exc}; the observation is skipped")
            continue
        key = (limit_id, name)
        seen = seen_limits.get(key)
        if seen is None or seen[0] <= ts_us:
            seen_limits[key] = (ts_us, checked, limit_id, plan)
    return problems


def _check_window(window: Any, ts_us: int) -> Window:
    """The window's minutes, used percentage and reset time, each within its limits."""
    if type(window) is dict:  # the usual shape, all in range: no further look
        minutes = window.get("window_minutes")
        used = window.get("used_percent")
        resets_at = window.get("resets_at")
        if (
            type(minutes) is int
            and type(resets_at) is int
            and (type(used) is float or type(used) is int)
            and 0 < minutes <= _MAX_WINDOW_MINUTES
            and 0 <= used <= _MAX_PERCENT
            and MIN_SECONDS <= resets_at <= MAX_SECONDS
        ):
            return minutes, used, resets_at
    else:
        raise _BadWindow("is not an object")
    minutes = window.get("window_minutes")
    if type(minutes) is not int or not 0 < minutes <= _MAX_WINDOW_MINUTES:
        raise _BadWindow(
            f"window_minutes {minutes!r} is not a whole number in 1..{_MAX_WINDOW_MINUTES}"
        )
    used = window.get("used_percent")
    if not (type(used) is int or type(used) is float) or not 0 <= used <= _MAX_PERCENT:
        raise _BadWindow(f"used_percent {used!r} is not a number in 0..{_MAX_PERCENT}")
    resets_at = window.get("resets_at")
    if resets_at is None or type(resets_at) is float:
        after = window.get("resets_in_seconds")
        if after is None:
            after = window.get("reset_after_seconds")
        if after is None:
            return minutes, used, None
        if not _is_number(after) or not -MAX_SECONDS <= after <= MAX_SECONDS:
            raise _BadWindow(f"resets_in_seconds {after!r} is out of range")
        resets_at = ts_us // 1_000_000 + int(after)
    elif type(resets_at) is not int:
        raise _BadWindow(f"resets_at {resets_at!r} is not Unix seconds")
    if not MIN_SECONDS <= resets_at <= MAX_SECONDS:
        raise _BadWindow(f"resets_at {resets_at!r} is outside the years 1 to 9999")
    return minutes, used, resets_at


def observe_windows(state: FileState, result: FileResult) -> None:
    for ts_us, (minutes, used, resets_at), limit_id, plan in state.limits.values():
        # CLIs before limit ids reported only the Codex limit itself.
        key = (limit_id or "codex", minutes)
        seen = result.windows.get(key)
        if seen is None or seen.observed_us <= ts_us:
            result.windows[key] = WindowObservation(ts_us, limit_id, minutes, used, resets_at, plan)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return type(value) is int or type(value) is float


def _flat_window(limits: dict[str, Any], name: str) -> dict[str, Any] | None:
    used = limits.get(f"{name}_used_percent")
    if used is None:
        return None
    return {
        "used_percent": used,
        "window_minutes": limits.get(f"{name}_window_minutes"),
        "resets_in_seconds": limits.get(f"{name}_resets_in_seconds")
        or limits.get(f"{name}_reset_after_seconds"),
    }
