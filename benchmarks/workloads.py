"""Generated usage for the engine benchmarks (no files: columns straight into a ``UsageLog``).

``busy_year(events, load)`` is the shape of ``bench_simulate.py``: busy weekday hours,
quiet nights, 120 burst hours; ``load`` scales every amount, so the same number of
events can be quiet (``load`` 0.2) or saturated (``load`` 1 with 5,000,000 events:
about a quarter of the requests rate limited on one pro seat). ``per_event_load``
keeps the CCU of the whole log fixed while the event count changes (amounts divided
by ``events / 1,000,000``), so time against events is measured at a fixed load.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from codex_credits import UsageLog

START = datetime(2026, 1, 1, tzinfo=UTC)
PROJECTS = ("api", "web", "mobile", "infra", "data")
HOUR_US = 3_600_000_000
_START_US = int(START.timestamp()) * 1_000_000
_INT = ("reasoning_tokens", "tool_calls", "output_tokens", "input_tokens", "cached_input_tokens")
_LABELS = ("event_id", "user_id", "project_id", "task_type", "feature", "model", "session_id")


def log_from_columns(
    ts_us: np.ndarray, micro: np.ndarray, labels: dict[str, tuple[np.ndarray, tuple[str, ...]]]
) -> UsageLog:
    """A log of amount-only events; ``labels`` maps a dimension to (codes from 1, names)."""
    order = np.argsort(ts_us, kind="stable")
    n = len(ts_us)
    columns: dict[str, np.ndarray] = {
        "ts_us": np.ascontiguousarray(ts_us[order], dtype=np.int64),
        "ccu_micro": np.ascontiguousarray(micro[order], dtype=np.int64),
        "has_ccu": np.ones(n, dtype=np.bool_),
        "sandbox_micro_minutes": np.zeros(n, dtype=np.int64),
        "fast": np.zeros(n, dtype=np.bool_),
        "sandbox_class": np.zeros(n, dtype=np.int32),
    }
    for name in _INT:
        columns[name] = np.zeros(n, dtype=np.int64)
    tables: dict[str, tuple[str | None, ...]] = {"sandbox_class": (None,)}
    from codex_credits.core.usage import DIMENSIONS

    for name in DIMENSIONS:
        if name in labels:
            codes, names = labels[name]
            columns[name] = np.ascontiguousarray(codes[order], dtype=np.int32)
            tables[name] = (None, *names)
        else:
            columns[name] = np.zeros(n, dtype=np.int32)
            tables[name] = (None,)
    return UsageLog(columns, tables)


def busy_year(events: int, load: float = 1.0, days: int = 365, seed: int = 7) -> UsageLog:
    """``events`` requests over ``days`` days; ``load`` scales every amount."""
    rng = np.random.default_rng(seed)
    hours = days * 24
    hour_index = np.arange(hours)
    weekday = ((hour_index // 24) + 3) % 7 < 5  # 2026-01-01 is a Thursday
    local = hour_index % 24
    weight = np.where(weekday & (local >= 8) & (local < 19), 10.0, 1.0)
    weight /= weight.sum()
    bursts = rng.choice(hours, size=max(1, 120 * days // 365), replace=False)
    burst_events = events // 10
    chosen = np.concatenate(
        [rng.choice(hours, size=events - burst_events, p=weight), rng.choice(bursts, burst_events)]
    )
    ts = _START_US + chosen.astype(np.int64) * HOUR_US + rng.integers(0, HOUR_US, size=events)
    mean = np.where(np.isin(chosen, bursts), -1.8, -2.9)
    micro = (rng.lognormal(mean=mean, sigma=0.9) * 1_000_000 * load).astype(np.int64)
    projects = rng.integers(1, len(PROJECTS) + 1, size=events).astype(np.int32)
    return log_from_columns(ts, micro, {"project_id": (projects, PROJECTS)})


def per_event_load(events: int, days: int = 365) -> float:
    """The load that keeps the log's CCU at that of 1,000,000 events."""
    return 1_000_000 / events * days / 365


def hourly_accounts(accounts: int, days: int = 365, seed: int = 11, load: float = 1.0) -> UsageLog:
    """One event per busy account-hour, ``account_id`` labelled, loads spread over tiers.

    Account sizes are log-uniform from a few CCU to about 40,000 CCU a month, so every
    tier is the cheapest for some accounts and the small tiers saturate on large ones;
    ``load`` scales every amount (``load`` 0.001: almost no lane-hour is busy).
    """
    rng = np.random.default_rng(seed)
    hours = days * 24
    hour_index = np.arange(hours)
    weekday = ((hour_index // 24) + 3) % 7 < 5
    local = hour_index % 24
    shape = np.where(weekday & (local >= 8) & (local < 19), 1.0, 0.08)
    monthly = np.exp(rng.uniform(np.log(5.0), np.log(40_000.0), accounts))
    per_hour = monthly / (shape.sum() * 30 / days)
    busy = rng.random((accounts, hours)) < np.minimum(1.0, 0.3 + shape)
    amount = rng.gamma(2.0, 0.5, (accounts, hours)) * shape * per_hour[:, np.newaxis]
    micro = (amount * 1_000_000 * load).astype(np.int64)
    acct, hour = np.nonzero(busy & (micro > 0))
    ts = _START_US + hour.astype(np.int64) * HOUR_US + rng.integers(0, HOUR_US, size=len(hour))
    names = tuple(f"acct-{i:04d}" for i in range(accounts))
    return log_from_columns(
        ts, micro[acct, hour], {"account_id": ((acct + 1).astype(np.int32), names)}
    )
