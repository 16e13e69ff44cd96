"""The compiled de-duplication counts every request as the Python Deduplicator does.

Random candidates from a small key space (so that triples, pairs and response
ids collide across files), copied history, per-response records with and
without their token_count, a ``since`` instant and a low 64-bit limit: both
give the same log, counters, sessions and problems. Real generated histories
(forks, resumes, records, torn lines) are compared through the whole import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits.io import rollout, rollout_dedupe, rollout_native
from codex_credits.io.rollout_dedupe import Deduplicator
from codex_credits.io.rollout_records import Candidate, FileResult
from codex_credits.synthetic_rollouts import write_rollout_history
from tests.io.test_rollout_native import rec, usage

pytestmark = pytest.mark.skipif(
    not rollout_native.AVAILABLE, reason="the compiled scanner is not built"
)

KEY = st.integers(-3, 3)
LABEL = st.sampled_from([None, "a", "b", "c"])


@st.composite
def candidate(draw: st.DrawFn) -> tuple[Any, ...]:
    inp = draw(st.integers(0, 60))
    use = (inp, draw(st.integers(0, inp)), draw(st.integers(0, 30)), draw(st.integers(0, 9)), 0)
    record = draw(st.booleans())
    fields = {
        "cache_write": draw(st.integers(0, 20)),
        "fast": draw(st.booleans()),
        "key_full": draw(KEY),
        "key_totals": draw(KEY),
        "line": draw(st.integers(1, 99)),
        "model": draw(LABEL),
        "paired": draw(st.none() | st.tuples(KEY, KEY)) if record else None,
        "path": "rollout.jsonl",
        "project": draw(LABEL),
        "response_id": draw(st.sampled_from([None, "r1", "r2"])) if record else None,
        "session": draw(LABEL),
        "suspect": draw(st.booleans()),
        "tools": draw(st.integers(0, 4)),
        "ts_us": draw(st.integers(0, 20)),
        "usage": use,
    }
    return tuple(fields[name] for name in Candidate.__slots__)


def outcome(reader: Deduplicator, files: list[list[tuple[Any, ...]]]) -> Any:
    for candidates in files:
        result = FileResult()
        result.candidates = candidates
        reader.add_file(result)
    log, counts, sessions = reader.finish()
    columns = {name: (array.dtype.str, array.tolist()) for name, array in log._columns.items()}
    labels = {name: log.labels(name) for name in ("model", "session_id", "project_id")}
    return columns, labels, counts, sessions, log.summary


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    files=st.lists(st.lists(candidate(), max_size=8), max_size=5),
    since=st.none() | st.integers(0, 20),
    limit=st.sampled_from([2**63 - 1, 150, 40]),
)
def test_random_candidates_are_counted_alike(
    monkeypatch: pytest.MonkeyPatch, files: Any, since: Any, limit: int
) -> None:
    monkeypatch.setattr(rollout_dedupe, "MAX_INT64", limit)
    python = outcome(Deduplicator(since), files)
    compiled = outcome(rollout_native.CompiledDeduplicator(since), files)
    assert compiled == python


@pytest.mark.parametrize("seed", [3, 11])
def test_generated_histories_are_read_alike(tmp_path: Path, seed: int) -> None:
    write_rollout_history(tmp_path, sessions=30, seed=seed, bad_line_rate=0.01)
    files = rollout.find_rollout_files([tmp_path])
    results = [rollout._parse(path) for path in files]
    for since in (None, int(np.median([c[13] for r in results for c in r.candidates]))):
        python = outcome(Deduplicator(since), [r.candidates for r in results])
        compiled = outcome(
            rollout_native.CompiledDeduplicator(since), [r.candidates for r in results]
        )
        assert compiled == python


def test_records_without_a_response_id_in_copied_history(tmp_path: Path) -> None:
    """A per-response record without an id is paired with its token count, then copied."""

    def token_count(second: int, total: Any, last: Any) -> bytes:
        info = {"total_token_usage": total, "last_token_usage": last}
        return rec(second, "event_msg", {"type": "token_count", "info": info})

    own = [
        rec(0, "session_meta", {"id": "parent", "timestamp": "2026-06-01T10:00:00.000Z"}),
        rec(1, "turn_context", {"model": "gpt-5.4"}),
        token_count(2, usage(100, 10, 5), usage(100, 10, 5)),
        rec(2, "token_usage_record", {"usage": usage(100, 10, 5)}),
        token_count(3, usage(160, 10, 8), usage(60, 0, 3)),
    ]
    fork = [
        rec(4, "session_meta", {"id": "child", "timestamp": "2026-06-01T10:00:04.000Z"}),
        rec(4, "session_meta", {"id": "parent"}),
        token_count(4, usage(100, 10, 5), usage(100, 10, 5)),
        token_count(4, usage(160, 10, 8), usage(60, 0, 3)),
        rec(4, "session_meta", {"id": "child"}),
        token_count(7, usage(170, 10, 9), usage(10, 0, 1)),
    ]
    for name, lines in (("a", own), ("b", fork)):
        (tmp_path / f"rollout-{name}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    files = rollout.find_rollout_files([tmp_path])
    results = [rollout._parse(path) for path in files]
    assert any(not isinstance(r.candidates, list) for r in results)  # compiled candidates
    python = outcome(Deduplicator(None), [r.candidates for r in results])
    compiled = outcome(rollout_native.CompiledDeduplicator(None), [r.candidates for r in results])
    assert compiled == python
