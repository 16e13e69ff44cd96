"""From API payloads to the library's values: usage events and the account's state.

Theory of operation (docs/api-client.md, "Into the core"):

* Every result of every usage bucket becomes one :class:`UsageEvent` stamped at
  the bucket's start, with ``ccu`` = ``compute_units_consumed`` (exact, so no
  rate card is needed), the meters copied and the grouped ids as labels.
* Its ``event_id`` is derived from the bucket and the group only, so fetching
  the same range twice yields the same ids and a :class:`UsageLog` drops the
  second copy instead of counting it twice. Two results with the same group in
  one bucket are told apart by their order (``#2``, ``#3``...).
* :func:`account_status` joins ``GET /usage/codex`` and the subscription into
  one frozen :class:`AccountStatus` (defined in the core, in
  :mod:`codex_credits.core.status`; :mod:`codex_credits.core.statefromstatus`
  turns it into an engine state): tier,
  seats, current period, consumed, remaining, rollover balance and savings reserve.

Pure: no I/O, no httpx.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from codex_credits.client._models import CodexUsageBucket, CreditStatus, Subscription
from codex_credits.core.status import AccountStatus
from codex_credits.core.timeutil import from_epoch
from codex_credits.core.units import to_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder

__all__ = [
    "AccountStatus",
    "account_status",
    "bucket_event_id",
    "unique_buckets",
    "usage_events",
    "usage_log",
]

_EVENT_ID_PREFIX = "codex-usage"


def bucket_event_id(
    start_time: int,
    end_time: int,
    user_id: str | None,
    project_id: str | None,
    task_type: str | None,
) -> str:
    """The deterministic id of one bucket x group.

    For example ``codex-usage:1717200000-1717203600:u=alice:p=:t=review``.
    """
    return (
        f"{_EVENT_ID_PREFIX}:{start_time}-{end_time}"
        f":u={user_id or ''}:p={project_id or ''}:t={task_type or ''}"
    )


def _ids(buckets: Iterable[CodexUsageBucket]) -> Iterator[tuple[CodexUsageBucket, int, str]]:
    for bucket in buckets:
        seen: dict[str, int] = {}
        for index, result in enumerate(bucket.results):
            base = bucket_event_id(
                bucket.start_time,
                bucket.end_time,
                result.user_id,
                result.project_id,
                result.task_type,
            )
            count = seen.get(base, 0) + 1
            seen[base] = count
            yield bucket, index, base if count == 1 else f"{base}#{count}"


def _unique(
    ids: Iterable[tuple[CodexUsageBucket, int, str]],
) -> Iterator[tuple[CodexUsageBucket, int, str]]:
    """The one rule for a bucket served twice: its first copy counts, later ones are dropped."""
    seen: set[str] = set()
    for bucket, index, event_id in ids:
        if event_id not in seen:
            seen.add(event_id)
            yield bucket, index, event_id


def unique_buckets(buckets: Iterable[CodexUsageBucket]) -> tuple[CodexUsageBucket, ...]:
    """The buckets with every bucket x group seen before dropped.

    A server can hand the same bucket out on several pages; every consumer
    (``usage``, ``report``, ``simulate``, :func:`usage_log`,
    :func:`usage_events`) counts it once, by this same rule: the identity of a
    result is its :func:`bucket_event_id`.
    """
    kept: dict[int, tuple[CodexUsageBucket, list[int]]] = {}
    for bucket, index, _event_id in _unique(_ids(buckets)):
        kept.setdefault(id(bucket), (bucket, []))[1].append(index)
    out = []
    for bucket, indices in kept.values():
        if len(indices) == len(bucket.results):
            out.append(bucket)
        else:
            results = [bucket.results[i] for i in indices]
            out.append(bucket.model_copy(update={"results": results}))
    return tuple(out)


def usage_events(buckets: Iterable[CodexUsageBucket]) -> Iterator[UsageEvent]:
    """One :class:`UsageEvent` per bucket x group, stamped at the bucket's start;
    a bucket x group served twice yields one event."""
    for bucket, index, event_id in _unique(_ids(buckets)):
        result = bucket.results[index]
        yield UsageEvent(
            timestamp=bucket.start,
            ccu=result.compute_units_consumed,
            reasoning_tokens=result.reasoning_tokens,
            tool_calls=result.tool_calls,
            sandbox_minutes=result.sandbox_minutes,
            output_tokens=result.output_tokens,
            event_id=event_id,
            user_id=result.user_id,
            project_id=result.project_id,
            task_type=result.task_type,
        )


def usage_log(buckets: Iterable[CodexUsageBucket]) -> UsageLog:
    """The buckets as a :class:`UsageLog` (built column by column; same events as
    :func:`usage_events`). A bucket x group seen twice is counted once."""
    builder = UsageLogBuilder()
    for bucket, index, event_id in _ids(buckets):  # the builder drops (and counts) repeats
        result = bucket.results[index]
        builder.summary_rows += 1
        builder.add(
            bucket.start_time * 1_000_000,
            ccu_micro=to_micro(result.compute_units_consumed),
            reasoning_tokens=result.reasoning_tokens,
            tool_calls=result.tool_calls,
            output_tokens=result.output_tokens,
            sandbox_micro_minutes=to_micro(result.sandbox_minutes),
            event_id=event_id,
            user_id=result.user_id,
            project_id=result.project_id,
            task_type=result.task_type,
        )
    return builder.build()


def _instant(seconds: int | None) -> datetime | None:
    return None if seconds is None else from_epoch(seconds)


def account_status(status: CreditStatus, subscription: Subscription | None = None) -> AccountStatus:
    """Join the credit status and (when given) the subscription into one value.

    The subscription is authoritative for tier, seats, period and rates; the
    credit status for consumption, balances and the reserve.
    """
    sub = subscription
    return AccountStatus(
        tier=sub.tier if sub else status.tier,
        seats=sub.seats if sub else status.seats,
        period_start=_instant(
            sub.current_period_start
            if sub and sub.current_period_start is not None
            else status.current_period_start
        ),
        period_end=_instant(
            sub.current_period_end
            if sub and sub.current_period_end is not None
            else status.current_period_end
        ),
        monthly_ccu=sub.codex_monthly_ccu if sub else None,
        consumed_ccu=status.current_period_ccu_consumed,
        remaining_ccu=status.current_period_ccu_remaining,
        rollover_ccu=status.rollover_ccu_balance,
        reserve_ccu=status.savings_reserve_ccu,
        overage_usd_per_ccu=sub.codex_overage_rate if sub else None,
        days_elapsed=status.billing_period_days_elapsed,
        days_total=status.billing_period_days_total,
    )
