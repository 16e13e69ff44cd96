"""Chunked reading, the order of same-timestamp events, and bounded-memory summaries."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import RateCard, read_usage, simulate, summarize_usage
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.io import usagetables
from codex_credits.io.usagerows import read_rows_reference

CARD = RateCard.builtin("codex-ccu-2026-06")
HEADER = "timestamp,ccu,tool_calls,project_id,event_id"
row = st.builds(
    lambda s, ccu, tools, project, eid: f"2026-06-01T00:00:{s:02d}Z,{ccu},{tools},{project},{eid}",
    st.integers(0, 3),
    st.sampled_from(["", "1", "0.25", "1.000001", "x"]),
    st.sampled_from(["", "0", "3"]),
    st.sampled_from(["", "a", "b"]),
    st.sampled_from(["", "e1", "e2", "e3"]),
)


def content(log: UsageLog) -> list[Any]:
    return [e.model_dump() for e in log]


@settings(deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=30), size=st.sampled_from([16, 64, 1 << 20]))
def test_chunked_reading_equals_the_reference(
    tmp_path_factory: Any, rows: list[str], size: int
) -> None:
    path = tmp_path_factory.mktemp("c") / "u.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = usagetables.CHUNK_BYTES
    usagetables.CHUNK_BYTES = size
    try:
        fast = read_usage(path, strict=False)
    finally:
        usagetables.CHUNK_BYTES = old
    reference = read_rows_reference(path, "csv", strict=False)
    assert fast.summary == reference.summary
    assert content(fast) == content(reference)


@settings(deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=30), seed=st.integers(0, 1000))
def test_reordering_same_timestamp_rows_changes_nothing(
    tmp_path_factory: Any, rows: list[str], seed: int
) -> None:
    # event ids are unique here: a repeated id keeps its first row, by definition
    rows = [
        r.rsplit(",", 1)[0] + f",id{i}" if i % 2 else r.rsplit(",", 1)[0] + ","
        for i, r in enumerate(rows)
    ]
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    shuffled.sort(key=lambda r: r[:20])  # the same timestamps in the same places, ties reordered
    folder = tmp_path_factory.mktemp("o")
    logs = []
    for name, body in (("a.csv", rows), ("b.csv", shuffled)):
        path = folder / name
        path.write_text(HEADER + "\n" + "\n".join(body) + "\n", encoding="utf-8")
        logs.append(read_usage(path, strict=False))
    assert content(logs[0]) == content(logs[1])
    start = datetime(2026, 6, 1, tzinfo=UTC)
    results = [simulate(log, "free", card=CARD, start=start) for log in logs]
    assert results[0].totals == results[1].totals
    assert results[0].periods == results[1].periods


def test_ties_are_ordered_by_event_id_then_amount(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "timestamp,ccu,event_id\n"
        "2026-06-01T00:00:00Z,2,\n"
        "2026-06-01T00:00:00Z,1,e2\n"
        "2026-06-01T00:00:00Z,3,e1\n"
        "2026-06-01T00:00:00Z,1,\n",
        encoding="utf-8",
    )
    log = read_usage(path)
    assert [(e.event_id, str(e.ccu)) for e in log] == [
        (None, "1.000000"),
        (None, "2.000000"),
        ("e1", "3.000000"),
        ("e2", "1.000000"),
    ]


def test_absent_columns_are_not_materialised(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    body = "".join(f"2026-06-01T00:{i // 60:02d}:{i % 60:02d}Z,0.5,p{i % 3}\n" for i in range(600))
    path.write_text("timestamp,ccu,project_id\n" + body, encoding="utf-8")
    log = read_usage(path)
    assert log.column("tool_calls").strides == (0,)
    assert log.column("user_id").strides == (0,)
    assert log.column("project_id").dtype.itemsize == 2
    stored = sum(log.column(n).nbytes for n in ("ts_us", "ccu_micro", "project_id"))
    assert stored == 600 * 18
    assert log.column("tool_calls").tolist() == [0] * 600
    assert [e.project_id for e in log.take(log.column("ccu_micro") > 0)][:3] == ["p0", "p1", "p2"]


def test_summarize_equals_read_then_sum(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    body = "".join(
        f"2026-06-0{1 + i % 3}T{i % 24:02d}:00:00Z,{i % 7}.25,{i % 4},{'ab'[i % 2]},e{i % 50}\n"
        for i in range(400)
    )
    path.write_text(HEADER + "\n" + body + "bad,row,,,\n", encoding="utf-8")
    old = usagetables.CHUNK_BYTES
    usagetables.CHUNK_BYTES = 512
    try:
        for by in ("day", "hour", "project_id", "total"):
            summary = summarize_usage(path, CARD, by=by, strict=False)
            log = read_usage(path, strict=False)
            assert summary.summary == log.summary
            expected: dict[Any, list[int]] = {}
            amounts = log.amounts_micro(CARD).tolist()
            for event, micro in zip(log, amounts, strict=True):
                key = {
                    "day": event.timestamp.date().isoformat(),
                    "hour": event.timestamp.strftime("%Y-%m-%dT%H:00Z"),
                    "project_id": event.project_id,
                    "total": "total",
                }[by]
                totals = expected.setdefault(key, [0, 0, 0])
                totals[0] += 1
                totals[1] += micro
                totals[2] += event.tool_calls
            got = {k: [t.tasks, t.ccu_micro, t.tool_calls] for k, t in summary.groups.items()}
            assert got == expected
    finally:
        usagetables.CHUNK_BYTES = old
    assert set(DIMENSIONS) >= {"project_id"}
