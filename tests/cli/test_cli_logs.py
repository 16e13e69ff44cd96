from __future__ import annotations

import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import ExitCode, main
from codex_credits.synthetic_rollouts import write_rollout_history

DATA = Path(__file__).resolve().parent.parent / "data" / "codex-rollout"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_logs_json_by_day_matches_the_true_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = write_rollout_history(tmp_path, sessions=8, seed=5, bad_line_rate=0.01)
    code, out, err = run(capsys, "logs", str(tmp_path), "--format", "json")
    assert code == ExitCode.OK
    data = json.loads(out)
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (day, _), row in truth.by_day_model.items():
        for i in range(4):
            expected[day][i] += row[1 + i]
    got = {
        r["key"]: [
            r["input_tokens"],
            r["cached_input_tokens"],
            r["output_tokens"],
            r["reasoning_output_tokens"],
        ]
        for r in data["rows"]
    }
    assert got == dict(expected)
    assert data["summary"]["bad_lines"] == truth.bad_lines
    assert sum(Decimal(r["total"]) for r in data["rows"]) == Decimal(data["total"])
    assert sum(Decimal(r["share_pct"]) for r in data["rows"]) == 100
    if truth.bad_lines:
        assert "bad line" in err


def test_logs_by_model_table_and_markdown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shutil.copy(DATA / "rtchess-cli-0.60.1-head.jsonl", tmp_path / "rollout-a.jsonl")
    code, out, _ = run(capsys, "logs", str(tmp_path), "--by", "model")
    assert code == ExitCode.OK
    assert "gpt-5.1-codex-max" in out and "11027" in out
    code, out, _ = run(capsys, "logs", str(tmp_path), "--by", "model", "--format", "markdown")
    assert out.startswith("**Codex usage by model")
    code, out, _ = run(capsys, "logs", str(tmp_path), "--format", "csv")
    assert out.splitlines()[0].startswith("day,credits,share %")


def test_logs_unpriced_models_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copy(DATA / "nazar-tray-cli-0.153.4-token-count.jsonl", tmp_path / "rollout-n.jsonl")
    code, out, err = run(capsys, "logs", str(tmp_path), "--format", "json")
    assert code == ExitCode.OK
    assert json.loads(out)["unpriced_models"] == ["(no model)"]
    assert "does not price" in err


def test_logs_ccu_card_and_since_and_tz(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copy(DATA / "rtchess-cli-0.60.1-tools.jsonl", tmp_path / "rollout-t.jsonl")
    code, out, _ = run(
        capsys,
        "logs",
        str(tmp_path),
        "--card",
        "codex-ccu-2026-06",
        "--since",
        "2025-11-22T20:50:00Z",
        "--tz",
        "Asia/Tokyo",
        "--format",
        "json",
    )
    assert code == ExitCode.OK
    data = json.loads(out)
    assert [r["key"] for r in data["rows"]] == ["2025-11-23"]
    # the 20:55 request: 4.928 reasoning x 0.8 + 0.176 visible output x 0.15
    assert data["total"] == "3.968800"


def test_logs_user_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "logs", str(tmp_path / "missing"))
    assert code == ExitCode.DATA_ERROR and "no such file" in err
    code, _, err = run(capsys, "logs", str(tmp_path), "--tz", "Mars/Base")
    assert code == ExitCode.USAGE_ERROR and "unknown time zone" in err


def test_logs_workers_give_the_same_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_rollout_history(tmp_path, sessions=10, seed=7, bad_line_rate=0.02)
    reports = []
    for workers in ("1", "2", "auto"):
        code, out, _ = run(capsys, "logs", str(tmp_path), "--format", "json", "--workers", workers)
        assert code == ExitCode.OK
        reports.append(json.loads(out))
    assert reports[0]["rows"]  # something was read
    assert reports[1] == reports[0] and reports[2] == reports[0]


@pytest.mark.parametrize("workers", ["0", "-1", "two", "1.5"])
def test_logs_workers_must_be_a_whole_number_or_auto(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workers: str
) -> None:
    code, out, err = run(capsys, "logs", str(tmp_path), "--workers", workers)
    assert code == ExitCode.USAGE_ERROR and out == ""
    assert "--workers" in err and repr(workers) in err
