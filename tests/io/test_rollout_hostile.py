"""Hostile Codex logs: a bad value or an unreadable path is skipped, counted and reported."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from codex_credits import read_codex_logs
from codex_credits.cli import ExitCode, main
from codex_credits.io import rollout, rollout_dedupe
from codex_credits.io.rollout_parse import MAX_TOKENS
from codex_credits.synthetic_rollouts import usage_object as usage
from tests.io.test_rollout import ctx, line, meta, tc, totals, write

T0 = "2026-06-01T10:00:00.000Z"


def window(**values: Any) -> dict[str, Any]:
    return {"primary": {"used_percent": 5, "window_minutes": 300, "resets_at": 1, **values}}


def good_file(path: Path, *extra: str) -> Path:
    return write(
        path,
        meta(T0, "s-" + path.stem),
        ctx("2026-06-01T10:00:01.000Z"),
        tc("2026-06-01T10:00:02.000Z", usage(100, 10, 5), usage(100, 10, 5)),
        *extra,
    )


@pytest.mark.parametrize(
    "limits",
    [
        window(resets_at=10**15),
        window(resets_at=None, resets_in_seconds=1e300),
        window(used_percent=1e308),
        window(used_percent=-1),
        window(window_minutes=10**30),
        window(window_minutes="300"),
        window(resets_at="soon"),
        {"primary": "full"},
    ],
)
def test_a_bad_rate_limit_is_skipped_and_counted(tmp_path: Path, limits: Any) -> None:
    path = good_file(
        tmp_path / "a.jsonl",
        tc("2026-06-01T10:00:03.000Z", usage(150, 10, 9), usage(50, 0, 4), limits),
    )
    result = read_codex_logs(path)
    assert result.summary.bad_rate_limits == 1
    assert result.summary.bad_lines == 0
    assert result.summary.skipped == 1
    assert result.plan_windows == ()
    assert result.summary.problems[0].startswith(f"{path}:4: rate_limits.primary")
    # the request on the same line is kept
    assert totals(result.log) == (150, 10, 9, 0, 0)


def test_a_good_window_after_a_bad_one_is_the_latest(tmp_path: Path) -> None:
    path = good_file(
        tmp_path / "a.jsonl",
        tc("2026-06-01T10:00:03.000Z", usage(150, 10, 9), usage(50, 0, 4), window(used_percent=7)),
        tc(
            "2026-06-01T10:00:04.000Z",
            usage(160, 10, 9),
            usage(10, 0, 0),
            window(resets_at=-(10**13)),
        ),
    )
    result = read_codex_logs(path)
    assert [w.used_percent for w in result.plan_windows] == [7]
    assert result.summary.bad_rate_limits == 1


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (usage(2**63, 0, 1), "input_tokens"),
        (usage(MAX_TOKENS + 1, 0, 1), "input_tokens"),
        (usage(5, 0, 2**64), "output_tokens"),
    ],
)
def test_a_token_count_beyond_the_limit_is_a_bad_line(
    tmp_path: Path, bad: dict[str, int], field: str
) -> None:
    path = good_file(tmp_path / "a.jsonl", tc("2026-06-01T10:00:03.000Z", bad, bad))
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 1
    assert field in result.summary.problems[0]
    assert totals(result.log) == (100, 10, 5, 0, 0)


def test_requests_summing_past_64_bits_are_skipped_not_wrapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollout_dedupe, "MAX_INT64", 150)
    path = good_file(
        tmp_path / "a.jsonl",
        tc("2026-06-01T10:00:03.000Z", usage(200, 10, 9), usage(100, 0, 4)),
        tc("2026-06-01T10:00:04.000Z", usage(240, 10, 9), usage(40, 0, 0)),
    )
    result = read_codex_logs(path)
    # 100 + 100 would pass the limit: that request is skipped; 100 + 40 is kept
    assert result.summary.input_tokens == 140
    assert result.summary.bad_lines == 1
    assert "past 150" in result.summary.problems[0]
    assert int(result.log.column("input_tokens").sum()) == 140


@pytest.mark.parametrize("stamp", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_outside_years_1_to_9999_is_a_bad_line(tmp_path: Path, stamp: str) -> None:
    path = good_file(tmp_path / "a.jsonl", tc(stamp, usage(150, 10, 9), usage(50, 0, 4)))
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 1
    assert "years 1 to 9999" in result.summary.problems[0]


def test_deep_nesting_and_lone_surrogates_are_bad_lines(tmp_path: Path) -> None:
    surrogate = json.dumps(
        {"timestamp": T0, "type": "turn_context", "payload": {"model": "\ud800"}}
    )
    path = good_file(tmp_path / "a.jsonl", "[" * 50_000 + "]" * 50_000, surrogate)
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 2
    assert [e.model for e in result.log] == ["gpt-5.4"]


def test_an_unreadable_file_is_skipped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_file(tmp_path / "sessions" / "rollout-a.jsonl")
    broken = good_file(tmp_path / "sessions" / "rollout-b.jsonl")
    real = rollout.parse_rollout_file

    def parse(path: Path) -> Any:
        if path == broken:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(rollout, "parse_rollout_file", parse)
    result = read_codex_logs(tmp_path)
    assert result.summary.unreadable == 1
    assert result.summary.problems == (f"{broken}: cannot read rollout file: Permission denied",)
    assert totals(result.log) == (100, 10, 5, 0, 0)


def test_an_unreadable_folder_is_skipped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_file(tmp_path / "sessions" / "2026" / "rollout-a.jsonl")
    hidden = tmp_path / "sessions" / "2027"
    good_file(hidden / "rollout-b.jsonl")
    real_walk = os.walk

    def walk(top: Any, onerror: Any = None, **kw: Any) -> Any:
        for folder, dirs, names in real_walk(top, onerror=onerror, **kw):
            if Path(folder) == hidden:
                onerror(PermissionError(13, "Permission denied", str(hidden)))
                continue
            yield folder, dirs, names

    monkeypatch.setattr(rollout.os, "walk", walk)
    result = read_codex_logs(tmp_path)
    assert result.summary.unreadable == 1
    assert result.summary.problems == (f"{hidden}: cannot read folder: Permission denied",)
    assert result.summary.files == 1
    assert totals(result.log) == (100, 10, 5, 0, 0)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_without_read_permission_is_counted(tmp_path: Path) -> None:  # pragma: no cover
    good_file(tmp_path / "rollout-a.jsonl")
    locked = good_file(tmp_path / "rollout-b.jsonl")
    locked.chmod(0)
    try:
        result = read_codex_logs(tmp_path)
    finally:
        locked.chmod(0o600)
    assert result.summary.unreadable == 1


def test_cli_logs_warns_shows_a_footer_and_strict_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good_file(
        tmp_path / "rollout-a.jsonl",
        tc(
            "2026-06-01T10:00:03.000Z",
            usage(150, 10, 9),
            usage(50, 0, 4),
            window(used_percent=1e308),
        ),
        line("2026-06-01T10:00:04.000Z", "event_msg", {"type": "token_count", "info": 5}),
    )
    code = main(["logs", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK
    assert "warning: skipped 1 bad line(s), 1 bad rate limit(s)" in err
    assert "Skipped and reported" in out
    code = main(["logs", str(tmp_path), "--format", "json"])
    data = json.loads(capsys.readouterr()[0])
    assert code == ExitCode.OK
    assert data["skipped"]["total"] == 2
    assert data["skipped"]["bad_rate_limits"] == 1
    assert data["summary"]["input_tokens"] == 150
    code = main(["logs", str(tmp_path), "--strict"])
    out, err = capsys.readouterr()
    assert code == ExitCode.DATA_ERROR
    assert "--strict" in err and out == ""


@pytest.mark.parametrize("kind", [[1], {"a": 1}])
def test_a_record_type_that_is_not_text_is_an_unknown_record(tmp_path: Path, kind: Any) -> None:
    odd = json.dumps({"timestamp": T0, "type": kind, "payload": {}})
    item = json.dumps({"timestamp": T0, "type": "response_item", "payload": {"type": kind}})
    result = read_codex_logs(good_file(tmp_path / "a.jsonl", odd, item))
    assert result.summary.unknown_records == 1
    assert result.summary.bad_lines == 0
    assert result.summary.requests == 1


@pytest.mark.parametrize("tier", [["priority"], {"a": 1}, 3, None])
def test_a_service_tier_that_is_not_text_is_not_fast_mode(tmp_path: Path, tier: Any) -> None:
    context = json.dumps(
        {"timestamp": T0, "type": "turn_context", "payload": {"model": "m", "service_tier": tier}}
    )
    settings = json.dumps(
        {
            "timestamp": T0,
            "type": "event_msg",
            "payload": {
                "type": "thread_settings_applied",
                "thread_settings": {"service_tier": tier},
            },
        }
    )
    fast = json.dumps(
        {"timestamp": T0, "type": "turn_context", "payload": {"service_tier": "priority"}}
    )
    later = tc("2026-06-01T10:00:09.000Z", usage(300, 10, 9), usage(200, 0, 4))
    path = good_file(tmp_path / "a.jsonl", fast, context, settings, later)
    result = read_codex_logs(path)
    assert result.summary.bad_lines == 0
    assert result.summary.requests == 2
    assert [e.fast for e in result.log] == [False, False]
