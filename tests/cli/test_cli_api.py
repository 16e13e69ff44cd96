"""The CLI with --from-api, end to end against the fake server over loopback HTTP."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import main
from codex_credits.core.usage import UsageEvent
from codex_credits.testing import FakeServer, FakeUsageApi, Fault

KEY = "sk-admin-CLI-SECRET-0000"
START = datetime(2026, 6, 1, tzinfo=UTC)
USAGE = "/organization/usage/codex"
SRC = Path(__file__).resolve().parents[2] / "src"
RANGE = ["--from-api", "--start", "2026-06-01", "--end", "2026-06-04"]


def _events() -> list[UsageEvent]:
    return [
        UsageEvent(
            timestamp=START + timedelta(minutes=53 * i),
            ccu=Decimal(f"{i % 5}.{i:03d}125"),
            user_id=("ana", "bo")[i % 2],
            project_id=("web", "api", "infra")[i % 3],
            task_type="review",
        )
        for i in range(70)
    ]


@pytest.fixture
def api() -> FakeUsageApi:
    return FakeUsageApi(events=_events(), api_key=KEY)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_usage_totals_equal_the_servers(api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch) -> None:
    # retry delays of 0 so that nothing waits
    api.faults.add(
        USAGE, Fault.error(429, retry_after=0), None, Fault.error(503, retry_after_ms=0), None
    )
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        code, out, err = _run(["usage", *RANGE, "--by", "user", "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    expected = api.total_ccu()
    assert (
        Decimal(data["total"]["ccu"])
        == expected
        == sum((e.ccu or 0 for e in _events()), Decimal(0))
    )
    assert data["total"]["tasks"] == 70
    by_user = {row["user_id"]: Decimal(row["ccu"]) for row in data["rows"]}
    assert by_user == {
        u: sum((e.ccu or 0 for e in _events() if e.user_id == u), Decimal(0)) for u in ("ana", "bo")
    }
    pages = data["pages"]
    assert pages == 3  # 72 hourly buckets, 24 per page
    assert api.count(USAGE) == pages + 2  # two retries
    assert err == ""  # no progress on a non-terminal stderr
    assert KEY not in out


def test_final_quota_error_is_one_line_exit_3(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.quota())
    with FakeServer(api) as server:
        env = {
            "OPENAI_ADMIN_KEY": KEY,
            "CODEX_CREDITS_BASE_URL": server.url,
            "PYTHONPATH": str(SRC),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "codex_credits.cli", "usage", *RANGE],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and KEY not in proc.stderr
    assert "429" in lines[0] and "req_fake_" in lines[0] and "quota" in lines[0]
    assert api.count(USAGE) == 1  # final: not retried


def test_account_status_from_api(api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        code, out, _ = _run(["account-status", "--format", "json"])
    assert code == 0
    data = json.loads(out)
    assert data["tier"] == "pro" and data["seats"] == 1
    assert Decimal(data["consumed_ccu"]) == api.total_ccu()


@pytest.mark.parametrize(
    ("env", "argv", "code", "message"),
    [
        ({"CODEX_CREDITS_BASE_URL": "http://10.1.2.3/v1"}, RANGE, 2, "refusing plain http://"),
        ({"OPENAI_ADMIN_KEY": ""}, RANGE, 2, "no API key"),
        ({}, ["--from-api", "--start", "2026-06-01"], 2, "--end"),
        ({}, ["--from-api", "--usage", "x.csv", *RANGE[1:]], 2, "not both"),
        ({}, [], 2, "--usage FILE"),
        ({"CODEX_CREDITS_BASE_URL": "http://127.0.0.1:9/v1"}, RANGE, 3, "failed"),
    ],
)
def test_mistakes_and_errors(
    env: dict[str, str],
    argv: list[str],
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("CODEX_CREDITS_BASE_URL", "https://unused.example.test/v1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import codex_credits.client._usage_client as client_module

    monkeypatch.setattr(client_module.time, "sleep", lambda seconds: None)
    got, out, err = _run(["usage", *argv])
    assert got == code
    assert message in err
    assert len(err.splitlines()) == 1 and KEY not in err + out


def test_progress_only_on_a_terminal(api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        out, err = io.StringIO(), Tty()
        assert main(["usage", *RANGE, "--format", "json"], stdout=out, stderr=err) == 0
    assert "fetching usage" in err.getvalue() and "page 3 (" in err.getvalue()
    assert "fetching" not in out.getvalue()
    json.loads(out.getvalue())


def test_file_source_still_works(tmp_path: Path) -> None:
    from codex_credits.io.usagefile import write_usage

    path = tmp_path / "u.csv"
    write_usage(_events(), path)
    code, out, _ = _run(["usage", "--usage", str(path), "--by", "total", "--format", "json"])
    assert code == 0
    data = json.loads(out)
    assert Decimal(data["total"]["ccu"]) == sum((e.ccu or 0 for e in _events()), Decimal(0))
    assert data["source"] == "file"
