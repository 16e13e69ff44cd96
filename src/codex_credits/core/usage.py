"""Usage records: what was (or will be) used, and when.

A :class:`UsageEvent` is one request or task: an aware timestamp, and either
an amount (``ccu``, in the card's unit) or meter quantities that a rate card
prices. When both are present the amount wins and the meters are kept for
reports (usage API buckets carry both).

A :class:`UsageLog` is an ordered collection of events stored as columns
(NumPy arrays of integers, and interned labels for dimensions), so a million
events cost a few tens of megabytes and can be priced in one vectorised pass
(:meth:`UsageLog.amounts_micro`). Iterating a log yields ``UsageEvent`` values.
A column holding one value throughout (a meter a file does not have, a label
never given) is stored as that one value (a read-only broadcast view), and
label codes take 16 bits while a dimension has fewer than 32,768 labels, so
a log of timestamps, amounts and one label costs about 18 bytes an event.

Events are in time order; events with the same timestamp are in a fixed order
of their content (:meth:`UsageLog.sorted`), so the order of a file's rows
never changes the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from codex_credits.core.keysort import pack_keys, sort_words
from codex_credits.core.logpricing import price_log
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import epoch_us, from_epoch_us
from codex_credits.core.units import from_micro, to_micro
from codex_credits.core.usageevent import DIMENSIONS, INT_METERS, LogSummary, UsageEvent
from codex_credits.display import Displayed
from codex_credits.errors import UsageDataError

__all__ = [
    "DIMENSIONS",
    "LogSummary",
    "UsageEvent",
    "UsageLog",
    "compact_column",
    "join_columns",
]


Int64Array = npt.NDArray[np.int64]
_MAX_INT64 = 2**63 - 1


class UsageLog(Displayed, Sequence[UsageEvent]):
    """An ordered, immutable collection of usage events, stored as columns.

    Build one with :meth:`from_events`, :func:`codex_credits.read_usage` or a
    :class:`~codex_credits.core.usagebuilder.UsageLogBuilder`. ``summary`` says how
    many rows were read, skipped and dropped as duplicates.
    """

    __slots__ = ("_columns", "_labels", "summary")

    def __init__(
        self,
        columns: dict[str, npt.NDArray[Any]],
        labels: dict[str, tuple[str | None, ...]],
        summary: LogSummary | None = None,
    ) -> None:
        self._columns = columns
        self._labels = labels
        self.summary = summary if summary is not None else LogSummary(events=len(columns["ts_us"]))
        for name, array in columns.items():
            if name in labels and array.dtype.itemsize > 2 and len(labels[name]) <= _INT16_MAX:
                array = array.astype(np.int16)
            array = compact_column(array)
            array.setflags(write=False)
            columns[name] = array

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_events(cls, events: Iterable[UsageEvent]) -> UsageLog:
        """A log of ``events``, sorted by time; duplicate event_ids are dropped and counted."""
        from codex_credits.core.usagebuilder import UsageLogBuilder  # it builds UsageLogs

        builder = UsageLogBuilder()
        for event in events:
            builder.summary_rows += 1
            builder.add_event(event)
        return builder.build()

    @classmethod
    def empty(cls) -> UsageLog:
        """A log with no events."""
        from codex_credits.core.usagebuilder import UsageLogBuilder

        return UsageLogBuilder().build()

    # -- sequence protocol -------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._columns["ts_us"].shape[0])

    @overload
    def __getitem__(self, index: int) -> UsageEvent: ...

    @overload
    def __getitem__(self, index: slice) -> UsageLog: ...

    def __getitem__(self, index: int | slice) -> UsageEvent | UsageLog:
        if isinstance(index, slice):
            return self.take(np.arange(len(self))[index])
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"event index {index} out of range for a log of {n}")
        return self._event(index)

    def __iter__(self) -> Iterator[UsageEvent]:
        for i in range(len(self)):
            yield self._event(i)

    def __repr__(self) -> str:
        if not len(self):
            return "UsageLog(0 events)"
        return f"UsageLog({len(self)} events, {self.start.isoformat()} .. {self.end.isoformat()})"

    def _event(self, i: int) -> UsageEvent:
        c = self._columns
        label = self.label
        return UsageEvent(
            timestamp=from_epoch_us(int(c["ts_us"][i])),
            ccu=from_micro(int(c["ccu_micro"][i])) if c["has_ccu"][i] else None,
            reasoning_tokens=int(c["reasoning_tokens"][i]),
            tool_calls=int(c["tool_calls"][i]),
            sandbox_minutes=_micro_quantity(int(c["sandbox_micro_minutes"][i])),
            sandbox_class=label("sandbox_class", i),
            output_tokens=int(c["output_tokens"][i]),
            input_tokens=int(c["input_tokens"][i]),
            cached_input_tokens=int(c["cached_input_tokens"][i]),
            fast=bool(c["fast"][i]),
            **{name: label(name, i) for name in DIMENSIONS},
        )

    # -- columns -----------------------------------------------------------------------------

    def column(self, name: str) -> npt.NDArray[Any]:
        """A raw, read-only column (``ts_us``, ``ccu_micro``, a meter, or a label's codes)."""
        try:
            return self._columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self._columns)}") from None

    def labels(self, name: str) -> tuple[str | None, ...]:
        """The label table of a dimension: ``labels(name)[code]``; code 0 is None."""
        return self._labels[name]

    def label(self, name: str, i: int) -> str | None:
        """The label of dimension ``name`` for event ``i``."""
        return self._labels[name][int(self._columns[name][i])]

    def dimension_values(self, name: str) -> list[str | None]:
        """The label of dimension ``name`` for every event, in order."""
        table = self._labels[name]
        return [table[code] for code in self._columns[name].tolist()]

    @property
    def timestamps_us(self) -> Int64Array:
        """Event times as integer microseconds since the Unix epoch (UTC), ascending."""
        return self._columns["ts_us"]

    @property
    def start(self) -> datetime:
        """Time of the first event."""
        return from_epoch_us(int(self._columns["ts_us"][0]))

    @property
    def end(self) -> datetime:
        """Time of the last event."""
        return from_epoch_us(int(self._columns["ts_us"][-1]))

    # -- derived logs ------------------------------------------------------------------------

    def take(self, indices: npt.NDArray[Any]) -> UsageLog:
        """A new log of the events at ``indices`` (an integer or boolean array)."""
        columns = _select(self._columns, indices)
        n = len(columns["ts_us"])
        return UsageLog(columns, self._labels, LogSummary(rows=n, events=n))

    def sorted(self) -> UsageLog:
        """The log in a fixed order. Returns ``self`` when already in it.

        Events are ordered by time. Events with the same timestamp are ordered
        by ``event_id`` (none first), then by amount (none first), the meters
        (reasoning, tool calls, output, input, cached input, sandbox minutes),
        fast mode, and the other labels in ``DIMENSIONS`` order and the sandbox
        class (by text, none first). Rows equal in all of these are the same
        event in any order; so no reordering of a file's rows changes the log.
        """
        ts = self._columns["ts_us"]
        if ts.size < 2:
            return self
        steps = ts[1:] >= ts[:-1]
        if bool(np.all(steps)):
            if not bool(np.any(ts[1:] == ts[:-1])):
                return self
            order = np.arange(ts.size)
        else:
            order = np.argsort(ts, kind="stable")
        order = self._ties_in_order(order)
        if bool(np.all(order[1:] > order[:-1])):
            return self
        return UsageLog(_select(self._columns, order), self._labels, self.summary)

    def _ties_in_order(self, order: Int64Array) -> Int64Array:
        """``order`` (by time) with each run of equal timestamps ordered by content.

        The tied rows are sorted by their run (the timestamp), then by the keys of
        ``_TIE_KEYS``; every key is an offset from its least value among the tied rows,
        packed most significant first into as few 64-bit words as hold them
        (:func:`~codex_credits.core.keysort.pack_keys`), so the sort is over a word or two rather than ten keys
        (:func:`~codex_credits.core.keysort.sort_words`: the rows still tied on the first word are sorted by the
        next, and so on).
        """
        ts = self._columns["ts_us"][order]
        same = ts[1:] == ts[:-1]
        if not same.any():
            return order
        tied = np.zeros(ts.size, dtype=np.bool_)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)
        rows = order[at]
        keys: list[npt.NDArray[Any]] = []  # most significant first
        for name in _TIE_KEYS:
            column = self._columns[name]
            if column.strides[0] == 0 and column.size:
                continue  # one value throughout: decides nothing
            if name in self._labels:
                keys.append(_label_ranks(self._labels[name])[column[rows]])
            else:
                keys.append(column[rows])
        if not keys:
            return order
        t = ts[at]
        run = np.zeros(len(at), dtype=np.int64)  # which run of equal timestamps
        np.cumsum(t[1:] != t[:-1], out=run[1:])
        within = sort_words(pack_keys([run, *keys]))
        result = order.copy()
        result[at] = rows[within]
        return result

    def between(self, start: datetime | None = None, end: datetime | None = None) -> UsageLog:
        """Events in ``[start, end)``; either bound may be omitted."""
        ts = self._columns["ts_us"]
        lo = 0 if start is None else int(np.searchsorted(ts, epoch_us(start), side="left"))
        hi = len(ts) if end is None else int(np.searchsorted(ts, epoch_us(end), side="left"))
        return self.take(np.arange(lo, hi))

    # -- pricing -----------------------------------------------------------------------------

    def amounts_micro(self, card: RateCard) -> Int64Array:
        """Every event's amount in integer micro-units of ``card``'s unit.

        Equal, event for event, to ``to_micro(event.amount(card))``. Rates with
        at most six decimals are priced in one vectorised integer pass; other
        cards fall back to exact per-event Decimal pricing.
        """
        c = self._columns
        if bool(np.all(c["has_ccu"])):
            return c["ccu_micro"]
        try:
            prices = price_log(self, card)
        except OverflowError:  # one category of one event is past 64 bits
            prices = None
        if prices is None or sum(int(v.max()) for v in prices.categories.values()) > _MAX_INT64:
            for event in self:  # an event may cost more than a column holds: name it
                _fits(to_micro(event.amount(card)), event)
        assert prices is not None
        priced = prices.total
        priced.setflags(write=False)
        return priced

    def amounts(self, card: RateCard) -> list[Decimal]:
        """Every event's amount as an exact Decimal."""
        return [from_micro(v) for v in self.amounts_micro(card).tolist()]


_INT16_MAX = 32_767
_TIE_KEYS = (
    "event_id",
    "has_ccu",
    "ccu_micro",
    *INT_METERS,
    "sandbox_micro_minutes",
    "fast",
    *(name for name in DIMENSIONS if name != "event_id"),
    "sandbox_class",
)


def compact_column(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``array``, or its one value as a read-only broadcast view when all values are equal."""
    if array.ndim != 1 or array.size < 2 or array.strides[0] == 0:
        return array
    first = array[:1]
    if not bool((array == first[0]).all()):
        return array
    return np.broadcast_to(first.copy(), array.shape)


def join_columns(pieces: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """The pieces end to end; one broadcast value when every piece holds the same one."""
    if len(pieces) == 1:
        return pieces[0]
    n = sum(len(p) for p in pieces)
    filled = [p for p in pieces if p.size]
    if filled and all(p.strides[0] == 0 for p in filled):
        value = filled[0][:1]
        if all(p[0] == value[0] for p in filled):
            return np.broadcast_to(value.copy(), (n,))
    dtype = np.result_type(*pieces)
    return np.concatenate(pieces).astype(dtype, copy=False)


def _select(columns: dict[str, npt.NDArray[Any]], rows: npt.NDArray[Any]) -> dict[str, Any]:
    """Every column at ``rows`` (integers or a mask); one-value columns stay one value."""
    ts = np.ascontiguousarray(columns["ts_us"][rows])
    result: dict[str, npt.NDArray[Any]] = {}
    for name, column in columns.items():
        if name == "ts_us":
            result[name] = ts
        elif column.strides[0] == 0 and column.size:
            result[name] = np.broadcast_to(column[:1].copy(), ts.shape)
        else:
            result[name] = np.ascontiguousarray(column[rows])
    return result


def _label_ranks(table: tuple[str | None, ...]) -> Int64Array:
    """For each code of ``table``, its rank by text (None first)."""
    order = sorted(range(len(table)), key=lambda code: (table[code] is not None, table[code] or ""))
    ranks = np.empty(len(table), dtype=np.int64)
    ranks[order] = np.arange(len(table))
    return ranks


def _fits(micro: int, event: UsageEvent) -> int:
    """``micro`` when a 64-bit column holds it; else a data error naming the event."""
    if micro > _MAX_INT64:
        raise UsageDataError(
            f"the event at {event.timestamp.isoformat()} costs {from_micro(micro)}, beyond "
            f"the largest amount a column holds ({from_micro(_MAX_INT64)})",
            field="amount",
        )
    return micro


def _micro_quantity(micro: int) -> Decimal:
    return from_micro(micro).normalize() if micro else Decimal(0)
