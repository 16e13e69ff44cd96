from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from ast import literal_eval
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import RateCard, read_codex_logs
from codex_credits.io.rollout import find_rollout_files
from codex_credits.synthetic_rollouts import usage_object as usage
from codex_credits.synthetic_rollouts import write_rollout_history

SRC = Path(__file__).resolve().parents[2] / "src"

DATA = Path(__file__).resolve().parent.parent / "data" / "codex-rollout"
HEAD = DATA / "rtchess-cli-0.60.1-head.jsonl"
TOOLS = DATA / "rtchess-cli-0.60.1-tools.jsonl"
NAZAR = DATA / "nazar-tray-cli-0.153.4-token-count.jsonl"
PREMIUM = DATA / "nazar-tray-cli-0.153.4-premium-null.jsonl"


def line(ts: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload})


def meta(ts: str, sid: str, cwd: str = "/w/proj", **extra: Any) -> str:
    return line(ts, "session_meta", {"id": sid, "timestamp": ts, "cwd": cwd, **extra})


def ctx(ts: str, model: str = "gpt-5.4", **extra: Any) -> str:
    return line(ts, "turn_context", {"cwd": "/w/proj", "model": model, **extra})


def tc(ts: str, total: dict[str, int], last: dict[str, int], limits: Any = None) -> str:
    info = {"total_token_usage": total, "last_token_usage": last}
    return line(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": limits})


def tool(ts: str, kind: str = "function_call") -> str:
    return line(ts, "response_item", {"type": kind, "name": "shell", "call_id": "c"})


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(item + "\n" for item in lines), encoding="utf-8")
    return path


def totals(log: Any) -> tuple[int, int, int, int, int]:
    return (
        int(log.column("input_tokens").sum()),
        int(log.column("cached_input_tokens").sum()),
        int(log.column("output_tokens").sum()),
        int(log.column("reasoning_tokens").sum()),
        int(log.column("tool_calls").sum()),
    )


# -- the real samples ---------------------------------------------------------------------------


def test_real_session_repeats_are_not_requests(tmp_path: Path) -> None:
    result = read_codex_logs(shutil.copy(HEAD, tmp_path / "head.jsonl"))
    # 6 token_counts carry usage; the 3 after each turn context repeat the totals.
    assert result.summary.token_count_events == 6
    assert result.summary.repeated_totals == 3
    assert len(result.log) == 3
    # sum of the requests == the session's final running total (no reset in between)
    assert totals(result.log) == (11027, 9216, 98, 0, 3)
    first = result.log[0]
    assert first.model == "gpt-5.1-codex-max"
    assert first.session_id == "019aad50-a7e6-7422-b7a8-0b384290624f"
    assert first.project_id == "rtchess"
    assert first.fast is False


def test_real_session_priced_on_token_card(tmp_path: Path) -> None:
    log = read_codex_logs(shutil.copy(HEAD, tmp_path / "head.jsonl")).log
    card = RateCard.builtin("codex-tokens-2026-04")
    # first request: 487 uncached x 31.25 + 3072 cached x 3.125 + 31 out x 250, per million
    # = 0.01521875 -> 0.015219, 0.0096, 0.00775
    assert log[0].amount(card) == Decimal("0.032569")


def test_tool_calls_go_to_the_request_that_made_them(tmp_path: Path) -> None:
    log = read_codex_logs(shutil.copy(TOOLS, tmp_path / "tools.jsonl")).log
    # update_plan precedes the first request in this excerpt, apply_patch follows it
    assert [e.tool_calls for e in log] == [2, 0]


def test_newer_cli_sample_and_plan_windows(tmp_path: Path) -> None:
    result = read_codex_logs(shutil.copy(NAZAR, tmp_path / "n.jsonl"))
    assert len(result.log) == 13
    assert totals(result.log) == (1054635, 1015168, 13679, 6182, 0)
    windows = {w.kind: w for w in result.plan_windows}
    assert windows["5h"].used_percent == Decimal("54.0")
    assert windows["5h"].resets_at == datetime.fromtimestamp(1788751044, UTC)
    assert windows["weekly"].used_percent == Decimal("70.0")
    assert windows["weekly"].resets_at == datetime.fromtimestamp(1788783892, UTC)
    assert windows["weekly"].plan_type == "plus"
    assert windows["weekly"].observed_at == datetime(2026, 9, 6, 22, 55, 5, 479000, UTC)


def test_null_windows_are_skipped_not_taken_as_latest(tmp_path: Path) -> None:
    shutil.copy(NAZAR, tmp_path / "a.jsonl")
    shutil.copy(PREMIUM, tmp_path / "b.jsonl")
    only_premium = read_codex_logs(tmp_path / "b.jsonl")
    assert only_premium.plan_windows == ()
    assert len(only_premium.log) == 1
    both = read_codex_logs(tmp_path)
    assert {w.kind for w in both.plan_windows} == {"5h", "weekly"}


# -- traps ---------------------------------------------------------------------------------------


def test_compaction_reset_is_not_negative_usage(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        meta("2026-06-01T10:00:00.000Z", "s1"),
        ctx("2026-06-01T10:00:01.000Z"),
        tc("2026-06-01T10:00:02.000Z", usage(100, 50, 10), usage(100, 50, 10)),
        tc("2026-06-01T10:00:03.000Z", usage(300, 150, 30), usage(200, 100, 20)),
        line("2026-06-01T10:00:04.000Z", "compacted", {"message": "summary"}),
        tc("2026-06-01T10:00:05.000Z", usage(40, 0, 5), usage(40, 0, 5)),
        ctx("2026-06-01T10:00:06.000Z"),
        tc("2026-06-01T10:00:07.000Z", usage(40, 0, 5), usage(40, 0, 5)),
    )
    result = read_codex_logs(path)
    assert result.summary.total_resets == 1
    assert result.summary.repeated_totals == 1
    assert totals(result.log) == (340, 150, 35, 0, 0)


def test_missing_last_usage_uses_the_change_of_the_total(tmp_path: Path) -> None:
    info = {"total_token_usage": usage(300, 100, 30)}
    path = write(
        tmp_path / "s.jsonl",
        tc("2026-06-01T10:00:02.000Z", usage(100, 50, 10), usage(100, 50, 10)),
        line("2026-06-01T10:00:03.000Z", "event_msg", {"type": "token_count", "info": info}),
    )
    assert totals(read_codex_logs(path).log) == (300, 100, 30, 0, 0)


def parent_lines() -> list[str]:
    return [
        meta("2026-06-01T10:00:00.000Z", "parent"),
        ctx("2026-06-01T10:00:01.000Z"),
        tc("2026-06-01T10:00:02.000Z", usage(100, 0, 10), usage(100, 0, 10)),
        tool("2026-06-01T10:00:02.000Z"),
        ctx("2026-06-01T10:00:03.000Z"),
        tc("2026-06-01T10:00:04.000Z", usage(300, 0, 30), usage(200, 0, 20)),
    ]


def test_fork_replay_with_new_timestamps_counts_once(tmp_path: Path) -> None:
    write(tmp_path / "sessions" / "rollout-a.jsonl", *parent_lines())
    replay = []
    for raw in parent_lines():
        obj = json.loads(raw)
        obj["timestamp"] = "2026-06-02T09:00:00.000Z"
        replay.append(json.dumps(obj))
    child = [
        meta("2026-06-02T09:00:00.000Z", "child", forked_from_id="parent"),
        *replay,
        ctx("2026-06-02T09:00:01.000Z", model="gpt-5.5"),
        tc("2026-06-02T09:00:02.000Z", usage(1300, 0, 130), usage(1000, 0, 100)),
    ]
    write(tmp_path / "sessions" / "rollout-b.jsonl", *child)
    result = read_codex_logs(tmp_path)
    assert totals(result.log) == (1300, 0, 130, 0, 1)
    assert result.summary.copied_requests == 2
    by_day = {e.timestamp.date().isoformat(): e.input_tokens for e in result.log}
    assert by_day == {"2026-06-01": 200, "2026-06-02": 1000}
    assert result.log[-1].session_id == "child"
    assert result.log[-1].model == "gpt-5.5"


def test_two_forks_of_a_deleted_parent_count_the_history_once(tmp_path: Path) -> None:
    for name in ("x", "y"):
        write(
            tmp_path / f"rollout-{name}.jsonl",
            meta("2026-06-02T09:00:00.000Z", name, forked_from_id="parent"),
            *parent_lines()[1:],
        )
    assert totals(read_codex_logs(tmp_path).log) == (300, 0, 30, 0, 1)


def test_resume_copy_with_old_timestamps_counts_once(tmp_path: Path) -> None:
    write(tmp_path / "archived_sessions" / "rollout-1.jsonl", *parent_lines())
    write(
        tmp_path / "sessions" / "rollout-2.jsonl",
        *parent_lines(),
        ctx("2026-06-03T09:00:01.000Z"),
        tc("2026-06-03T09:00:02.000Z", usage(310, 0, 31), usage(10, 0, 1)),
    )
    result = read_codex_logs(tmp_path)
    assert totals(result.log) == (310, 0, 31, 0, 1)
    assert result.summary.copied_requests == 2


@pytest.mark.parametrize("copied_tools", [0, 1, 3])
def test_a_copy_keeps_the_fuller_tool_count_of_its_request(
    tmp_path: Path, copied_tools: int
) -> None:
    # the original wrote one tool call after its first request; a resume made
    # later copies that request with ``copied_tools`` tool calls after it
    write(tmp_path / "archived_sessions" / "rollout-1.jsonl", *parent_lines())
    first, second = parent_lines()[:3], parent_lines()[4:]
    copied = [*first, *[tool("2026-06-01T10:00:02.500Z")] * copied_tools, *second]
    write(tmp_path / "sessions" / "rollout-2.jsonl", *copied)
    result = read_codex_logs(tmp_path)
    tools = max(1, copied_tools)  # the most any sighting of the request holds
    assert [e.tool_calls for e in result.log] == [tools, 0]
    assert result.summary.tool_calls == tools
    assert result.summary.copied_requests == 2


def test_fast_mode_from_service_tier_doubles_on_token_card(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        ctx("2026-06-01T10:00:01.000Z", model="gpt-5.1-codex-max", service_tier="priority"),
        tc("2026-06-01T10:00:02.000Z", usage(3559, 3072, 31), usage(3559, 3072, 31)),
        ctx("2026-06-01T10:00:03.000Z", model="gpt-5.1-codex-max", service_tier="default"),
        tc("2026-06-01T10:00:04.000Z", usage(7118, 6144, 62), usage(3559, 3072, 31)),
    )
    log = read_codex_logs(path).log
    card = RateCard.builtin("codex-tokens-2026-04")
    assert [e.fast for e in log] == [True, False]
    # each category doubled, then quantized: 0.030438 + 0.019200 + 0.015500
    assert [e.amount(card) for e in log] == [Decimal("0.065138"), Decimal("0.032569")]


def test_both_forms_of_reset_time(tmp_path: Path) -> None:
    old = {"primary": {"used_percent": 12.5, "window_minutes": 300, "resets_in_seconds": 600}}
    new = {"secondary": {"used_percent": 3, "window_minutes": 10080, "resets_at": 1780000000}}
    path = write(
        tmp_path / "s.jsonl",
        tc("2026-06-01T10:00:00.500Z", usage(1, 0, 1), usage(1, 0, 1), old),
        tc("2026-06-01T10:00:02.000Z", usage(2, 0, 2), usage(1, 0, 1), new),
    )
    windows = {w.kind: w for w in read_codex_logs(path).plan_windows}
    assert windows["5h"].resets_at == datetime(2026, 6, 1, 10, 10, tzinfo=UTC)
    assert windows["5h"].used_percent == Decimal("12.5")
    assert windows["weekly"].resets_at == datetime.fromtimestamp(1780000000, UTC)


def test_per_response_records_replace_token_counts(tmp_path: Path) -> None:
    record = {"response_id": "resp_1", "usage": usage(500, 100, 50, 20)}
    path = write(
        tmp_path / "s.jsonl",
        ctx("2026-06-01T10:00:01.000Z"),
        tc("2026-06-01T10:00:02.000Z", usage(500, 100, 50, 20), usage(500, 100, 50, 20)),
        line("2026-06-01T10:00:02.100Z", "token_usage_record", record),
        tool("2026-06-01T10:00:02.200Z", "local_shell_call"),
        line("2026-06-01T10:00:02.300Z", "token_usage_record", record),
        tc("2026-06-01T10:00:03.000Z", usage(600, 100, 60, 20), usage(100, 0, 10)),
    )
    result = read_codex_logs(path)
    assert result.summary.usage_records == 1
    assert totals(result.log) == (600, 100, 60, 20, 1)
    assert len(result.log) == 2


def test_bad_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    good = HEAD.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "broken.jsonl"
    lines = [
        *good[:8],
        "{not json",
        *good[8:],
        "[1, 2]",
        '{"timestamp":"2025-11-22T20:49:00.000Z","ty',
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 3
    assert result.log.summary.skipped == 3
    assert result.summary.problems[0].startswith(f"{path}:9: ")
    assert result.summary.problems[1].startswith(f"{path}:30: ")
    assert totals(result.log) == (11027, 9216, 98, 0, 3)


def test_a_bad_field_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        tc("2026-06-01T10:00:02.000Z", usage(-1, 0, 1), usage(1, 0, 1)),
        tc("2026-06-01T10:00:03.000Z", usage(1, 0, 1), usage(1, 0, 1)),
    )
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 1
    assert "total_token_usage.input_tokens" in result.summary.problems[0]
    assert len(result.log) == 1


def test_unknown_records_and_fields_are_tolerated(tmp_path: Path) -> None:
    obj = json.loads(tc("2026-06-01T10:00:02.000Z", usage(5, 0, 1), usage(5, 0, 1)))
    obj["payload"]["info"]["new_field"] = {"x": 1}
    obj["ordinal"] = 7
    path = write(
        tmp_path / "s.jsonl",
        line("2026-06-01T10:00:01.000Z", "something_new", {"a": 1}),
        json.dumps(obj),
    )
    result = read_codex_logs(path)
    assert result.summary.unknown_records == 1
    assert result.summary.bad_lines == 0
    assert len(result.log) == 1


def test_since_keeps_later_requests(tmp_path: Path) -> None:
    path = shutil.copy(NAZAR, tmp_path / "n.jsonl")
    result = read_codex_logs(path, since=datetime(2026, 9, 6, 22, 54, tzinfo=UTC))
    assert len(result.log) == 3
    assert result.summary.before_since == 10


def test_ccu_card_mapping_moves_reasoning_out_of_output(tmp_path: Path) -> None:
    result = read_codex_logs(shutil.copy(TOOLS, tmp_path / "t.jsonl"))
    card = RateCard.default()
    first = result.for_card(card)[0]
    # 4315 output of which 4224 reasoning; 2 tool calls
    assert (first.reasoning_tokens, first.output_tokens, first.tool_calls) == (4224, 91, 2)
    # 4.224 x 0.8 + 2 x 0.3 + 0.091 x 0.15 = 3.3792 + 0.6 + 0.01365
    assert first.amount(card) == Decimal("3.992850")
    assert result.for_card(RateCard.builtin("codex-tokens-2026-04")) is result.log


def test_discovery_of_a_codex_home(tmp_path: Path) -> None:
    a = write(tmp_path / "sessions" / "2026" / "06" / "01" / "rollout-a.jsonl", "")
    b = write(tmp_path / "archived_sessions" / "rollout-b.jsonl", "")
    write(tmp_path / "log" / "other.jsonl", "")
    assert find_rollout_files([tmp_path]) == [b, a]


# -- every trap at once, against the generator's truth ---------------------------------------


def by_day_model(log: Any) -> dict[tuple[str, str], list[int]]:
    got: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for e in log:
        row = got[(e.timestamp.date().isoformat(), e.model)]
        values = (1, e.input_tokens, e.cached_input_tokens, e.output_tokens)
        for i, v in enumerate((*values, e.reasoning_tokens, e.tool_calls)):
            row[i] += v
    return dict(got)


@settings(max_examples=12)
@given(seed=st.integers(0, 2**32))
def test_generated_history_totals_are_exact(tmp_path_factory: Any, seed: int) -> None:
    root = tmp_path_factory.mktemp("home")
    truth = write_rollout_history(root, sessions=6, turns=(1, 4), seed=seed, bad_line_rate=0.01)
    result = read_codex_logs(root)
    assert by_day_model(result.log) == truth.by_day_model
    assert result.summary.bad_lines == truth.bad_lines
    assert int(result.log.column("fast").sum()) == truth.fast_requests
    windows = {w.window_minutes: w for w in result.plan_windows}
    for minutes, (used, resets, observed) in truth.latest_windows.items():
        assert windows[minutes].used_percent == Decimal(str(used))
        assert windows[minutes].resets_at == datetime.fromtimestamp(resets, UTC)
        assert windows[minutes].observed_at == observed.replace(
            microsecond=observed.microsecond // 1000 * 1000
        )


@pytest.mark.parametrize("seed", [3, 17])
def test_file_order_does_not_change_totals(tmp_path: Path, seed: int) -> None:
    truth = write_rollout_history(tmp_path / "a", sessions=8, seed=seed)
    files = find_rollout_files([tmp_path / "a"])
    flat = tmp_path / "b"
    flat.mkdir()
    for index, path in enumerate(reversed(files)):  # reversed order, one flat folder
        shutil.copy(path, flat / f"rollout-{index:03d}-{path.name}")
    assert by_day_model(read_codex_logs(flat).log) == truth.by_day_model


def test_parallel_parsing_gives_the_same_log(tmp_path: Path) -> None:
    truth = write_rollout_history(tmp_path, sessions=6, seed=11)
    one = read_codex_logs(tmp_path, workers=1)
    two = read_codex_logs(tmp_path, workers=2)
    assert by_day_model(two.log) == by_day_model(one.log) == truth.by_day_model
    assert two.summary == one.summary


@pytest.mark.parametrize("seed", [57, 84])
def test_fork_shapes_other_readers_miscount(tmp_path: Path, seed: int) -> None:
    # 57: a fork made before the parent's first request; 84: a fork replaying a
    # compaction reset and per-response records (docs/logs.md, ccusage comparison)
    truth = write_rollout_history(tmp_path, sessions=12, turns=(3, 12), seed=seed)
    assert by_day_model(read_codex_logs(tmp_path).log) == truth.by_day_model


def test_the_json_fallback_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import codex_credits.io.rollout_parse as parse

    truth = write_rollout_history(tmp_path, sessions=4, seed=2, bad_line_rate=0.02)
    monkeypatch.setattr(parse, "loads", json.loads)
    result = read_codex_logs(tmp_path)
    assert by_day_model(result.log) == truth.by_day_model
    assert result.summary.bad_lines == truth.bad_lines


def test_a_limit_id_that_is_not_a_string_is_tolerated(tmp_path: Path) -> None:
    window = {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1780000000}
    path = write(
        tmp_path / "s.jsonl",
        tc(
            "2026-06-01T10:00:02.000Z",
            usage(5, 0, 1),
            usage(5, 0, 1),
            {"limit_id": {"odd": [1]}, "primary": window},
        ),
        tc("2026-06-01T10:00:03.000Z", usage(9, 0, 2), usage(4, 0, 1), {"limit_id": ["x"]}),
    )
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 0
    assert totals(result.log) == (9, 0, 2, 0, 0)
    windows = [(w.window_minutes, w.used_percent) for w in result.plan_windows]
    assert windows == [(300, Decimal("12.5"))]


def test_record_keys_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    """Worker processes started with spawn salt str hashes differently from the parent."""
    record = {"response_id": "resp_1", "usage": usage(500, 100, 50, 20)}
    anonymous = {"usage": usage(7, 0, 1)}
    path = write(
        tmp_path / "s.jsonl",
        line("2026-06-01T10:00:02.100Z", "token_usage_record", record),
        line("2026-06-01T10:00:03.100Z", "token_usage_record", anonymous),
    )
    script = (
        "import sys; from pathlib import Path; "
        "from codex_credits.io.rollout_parse import parse_rollout_file; "
        "from codex_credits.io.rollout_records import KEY_FULL, KEY_TOTALS; "
        "print([[(c[KEY_TOTALS], c[KEY_FULL]) for c in "
        "parse_rollout_file(Path(sys.argv[1]), compiled=compiled).candidates] "
        "for compiled in (True, False)])"
    )
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(SRC)}
        run = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        compiled, python = literal_eval(run.stdout)
        assert compiled == python  # the compiled scanner keys requests as Python does
        seen.add(run.stdout)
    assert len(seen) == 1
