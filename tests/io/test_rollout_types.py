"""Any field of a real rollout line may hold a value of any JSON type: the reader never fails.

Lines come from the real Codex CLI fixtures and the synthetic history; a
random field (or the whole payload, or the line) is replaced by a value of
another type. Reading such a file must not raise, and the fast path must
equal the line-by-line reference on it.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits.io.rollout_parse import parse_rollout_file
from codex_credits.synthetic_rollouts import write_rollout_history
from tests.hardening.test_fuzz_parsers import _paths

DATA = Path(__file__).parent.parent / "data" / "codex-rollout"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))


def _lines() -> list[Any]:
    found = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        write_rollout_history(tmp, sessions=4, seed=1)
        for path in [*sorted(DATA.glob("*.jsonl")), *sorted(tmp.rglob("*.jsonl"))]:
            for raw in path.read_bytes().splitlines():
                try:
                    found.append(json.loads(raw))
                except ValueError:
                    continue
    # response items (most lines) carry little the reader looks at: keep a few
    items = [line for line in found if line.get("type") == "response_item"]
    return [line for line in found if line.get("type") != "response_item"] + items[:20]


LINES = _lines()
ODD = st.sampled_from(
    (
        *(None, True, False, 0, -1, 1.5, 10**30, -(10**20), 1e300, "", "x", "priority"),
        *([], [1], {}, {"a": 1}, [[{}]], "2026-06-01T00:00:00Z"),
    )
)


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value = copy.deepcopy(value)
    holder = value
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = new
    return value


@st.composite
def confused_line(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(LINES))
    for _ in range(draw(st.integers(0, 2))):
        paths = _paths(line)
        if draw(st.booleans()):  # a field near the top (the record's own) half of the time
            paths = [path for path in paths if len(path) <= 2]
        line = _replace(line, draw(st.sampled_from(paths)), draw(ODD))
    return json.dumps(line)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(confused_line(), min_size=1, max_size=15))
def test_a_value_of_any_type_in_any_field_never_fails_the_reader(
    tmp_path_factory: Any, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("types") / "rollout.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = parse_rollout_file(path, reference=True).__getstate__()
    for compiled in (True, False):
        assert parse_rollout_file(path, compiled=compiled).__getstate__() == expected


SETTINGS_LINE = {
    "timestamp": "2026-06-01T10:00:00.000Z",
    "type": "event_msg",
    "payload": {"type": "thread_settings_applied", "thread_settings": {"service_tier": "fast"}},
}


def _merge(into: Any, line: Any) -> Any:
    """``into`` with the keys of ``line`` it lacks, at every depth."""
    if not (isinstance(into, dict) and isinstance(line, dict)):
        return into
    merged = dict(into)
    for key, value in line.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    return merged


def _kinds() -> dict[tuple[str, str], Any]:
    """Per record type and payload type: one line holding every key any such line has."""
    kinds: dict[tuple[str, str], Any] = {}
    for line in [*LINES, SETTINGS_LINE]:
        payload = line.get("payload")
        kind = (
            str(line.get("type")),
            str(payload.get("type") if isinstance(payload, dict) else None),
        )
        kinds[kind] = _merge(kinds.get(kind, line), line)
    return kinds


KINDS = _kinds()
TYPES = (None, True, 7, -1, 2.5, "x", "priority", [], ["priority"], {}, {"a": [1]})


@pytest.mark.parametrize("kind", sorted(KINDS), ids=lambda kind: f"{kind[0]}-{kind[1]}")
def test_every_field_of_every_record_holding_every_type(tmp_path: Path, kind: Any) -> None:
    """Each field of one record of this kind replaced in turn by a value of each JSON type."""
    base = KINDS[kind]
    lines = [
        json.dumps(_replace(base, path, value)) for path in _paths(base) if path for value in TYPES
    ]
    path = tmp_path / "rollout.jsonl"
    path.write_text("\n".join([json.dumps(base), *lines, json.dumps(base)]) + "\n")
    expected = parse_rollout_file(path, reference=True).__getstate__()
    for compiled in (True, False):
        assert parse_rollout_file(path, compiled=compiled).__getstate__() == expected
