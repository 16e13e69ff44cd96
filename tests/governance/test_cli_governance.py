"""The audit and access commands, and a grep of every output for the secrets used."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from codex_credits import Account, Outcome
from codex_credits.cli import main
from codex_credits.errors import ConfigError
from codex_credits.governance import (
    AccessRequest,
    AuditLog,
    Organisation,
    access_gate,
    authorize,
    decision_entry,
    governed_apply,
    issue_key,
    organisation_from_data,
    task_entry,
)
from tests.governance.conftest import POLICY, SECRETS

SIGNING_KEY = "audit-signing-key-never-shown-0001"
AT = datetime(2026, 1, 12, 10, tzinfo=UTC)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def log(org: Organisation, tmp_path: Path) -> Path:
    """A signed log of decisions and tasks, every key presented, one forged secret."""
    path = tmp_path / "audit.jsonl"
    state = Account("pro", 1, datetime(2026, 1, 1, tzinfo=UTC), budgets=org.budgets()).state
    with AuditLog(path, key=SIGNING_KEY.encode(), checkpoint_every=3) as audit:
        for i, secret in enumerate([*SECRETS.values(), "cck_forged_ssssssssssssssssssss1"]):
            request = AccessRequest(
                secret=SecretStr(secret),
                repositories=("acme/web",),
                tools=("shell",),
                model="gpt-5.4",
                done_when="tests pass",
                instruction=f"use {secret} to fix the build",
                task_id=f"t-{i}",
            )
            result = governed_apply(request, org, state, Decimal(2), AT)
            audit.append(decision_entry(request, result.decision))
            if result.outcome is not None:
                audit.append(task_entry(request, result.decision, result.outcome, AT))
            state = result.state
    return path


def test_verify_export_prune_and_access_report(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_KEY", SIGNING_KEY)
    code, out, _ = cli("audit", "verify", str(log), "--key-env", "AUDIT_KEY")
    assert code == 0 and "intact" in out and "signed" in out
    code, out, _ = cli("audit", "verify", str(log), "--format", "json")
    assert code == 0 and json.loads(out)["ok"] is True
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:2] + lines[3:]))
    code, out, _ = cli("audit", "verify", str(log))
    assert code == 1 and "BROKEN at line 3 (entry 2, removed)" in out
    log.write_bytes(b"".join(lines))
    code, out, _ = cli("audit", "export", str(log), "--user", "alice", "--format", "json")
    rows = json.loads(out)
    # alice's own entries and those of the agent she owns
    assert code == 0 and {r["actor"] for r in rows} == {"alice", "bot-web"}
    assert {r["owner"] for r in rows} == {"alice"}
    assert {r["kind"] for r in rows} == {"decision", "task"}
    code, out, _ = cli(
        "audit", "export", str(log), "--repository", "acme/*", "--kind", "task", "--format", "csv"
    )
    assert code == 0 and out.splitlines()[0].startswith("seq,at,kind,actor")
    # one task ran: the bot's key lacks gpt-5.4, the others are revoked, a viewer's or forged
    assert len(out.splitlines()) == 1 + 1
    code, out, err = cli("audit", "verify", str(log), "--key-env", "NOT_SET_ANYWHERE")
    assert code == 2 and "NOT_SET_ANYWHERE is not set" in err
    code, _, err = cli("audit", "verify", str(log.with_name("missing.jsonl")))
    assert code == 3 and "cannot read audit log" in err
    code, out, _ = cli(
        "access", "--policy", str(POLICY), "--audit", str(log), "--by", "key", "--format", "json"
    )
    report = json.loads(out)
    assert code == 0
    by_key = {r["value"]: r for r in report["summary"]["key"]}
    assert by_key["k-alice"]["spend_ccu"] == "2" and by_key["k-alice"]["tasks"] == 1
    assert by_key["k-old"]["denials"] == 1
    assert by_key["(none)"]["denials"] == 1  # the forged secret
    assert [b["key_id"] for b in report["broad_keys"]] == ["k-ops"]
    code, _, _ = cli("access", "--policy", str(POLICY), "--audit", str(log), "--fail-on-findings")
    assert code == 1
    code, out, _ = cli("audit", "prune", str(log), "--before", "2026-01-13")
    assert code == 0 and "pruned" in out
    assert cli("audit", "verify", str(log), "--key-env", "AUDIT_KEY")[0] == 0


def test_no_secret_in_any_output(
    org: Organisation,
    log: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AUDIT_KEY", SIGNING_KEY)
    outputs: list[str] = [log.read_text()]
    for fmt in ("table", "json", "markdown", "csv"):
        outputs += cli("access", "--policy", str(POLICY), "--audit", str(log), "--format", fmt)[1:]
        outputs += cli("audit", "export", str(log), "--format", fmt)[1:]
    outputs += cli("audit", "verify", str(log), "--key-env", "AUDIT_KEY")[1:]
    outputs += cli("audit", "verify", str(log), "--key-env", "AUDIT_KEY", "--format", "json")[1:]
    outputs += cli(
        "check",
        "--policy",
        str(POLICY),
        "--usage",
        str(_usage(tmp_path)),
        "--at",
        "2026-01-12T10:00:00Z",
        "--format",
        "json",
    )[1:]
    for name, secret in SECRETS.items():
        request = AccessRequest(secret=SecretStr(secret), repositories=("nowhere/x",))
        decision = authorize(request, org, AT)
        outputs += [repr(request), str(request), request.model_dump_json(), repr(decision)]
        outputs += [decision.model_dump_json(), *decision.messages(), repr(org.key(name))]
        outputs += [str(org.key(name)), repr(decision_entry(request, decision))]
        gate = access_gate(org, secret=secret)

        class Spec:
            repository = "acme/web"
            tools = ("shell",)
            model = "gpt-5.4"
            done_when = None
            labels: ClassVar[dict[str, str | None]] = {}

        outputs += list(gate(Spec(), AT))
        with pytest.raises(ValidationError) as info:
            AccessRequest(secret=SecretStr(secret), estimate_ccu=Decimal(-1))
        outputs.append(str(info.value))
        with pytest.raises(ValueError, match="must start with") as bad:
            issue_key("k", owner="alice", created_at=AT, secret=secret[:10])
        outputs.append(str(bad.value))
    outputs += [repr(org), str(org), org.model_dump_json()]
    with AuditLog(log, key=SIGNING_KEY.encode()) as audit:
        outputs.append(repr(audit))
    data = json.loads(org.model_dump_json())
    data["keys"][0]["owner"] = "ghost"
    with pytest.raises(ConfigError) as error:
        organisation_from_data(data)
    outputs.append(str(error.value))
    outputs.append(str(task_entry(request, decision, Outcome(), AT)))
    outputs += list(capsys.readouterr())
    text = "\n".join(outputs)
    assert "fix the build" not in text  # instructions are digests only
    for secret in (*SECRETS.values(), SIGNING_KEY, "cck_forged_ssssssssssssssssssss1"):
        assert secret not in text
        assert secret[:20] not in text


def _usage(tmp_path: Path) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text("timestamp,ccu,user_id\n2026-01-12T09:00:00Z,5,alice\n")
    return path


def test_check_runs_the_access_rules(tmp_path: Path) -> None:
    usage = _usage(tmp_path)
    code, out, _ = cli(
        "check",
        "--policy",
        str(POLICY),
        "--usage",
        str(usage),
        "--at",
        "2026-01-12T10:00:00Z",
        "--format",
        "json",
    )
    rules = {r["name"]: r for r in json.loads(out)["rules"]}
    assert code == 0
    assert rules["access:alice may fix the web tests"]["status"] == "pass"
    denied = rules["access:the ops key cannot reach production"]
    assert denied["status"] == "pass"
    assert denied["figures"]["reasons"] == ["role_lacks_permission", "repository_not_allowed"]
    text = POLICY.read_text().replace('expect = "deny"', 'expect = "allow"')
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(text)
    code, out, _ = cli(
        "check", "--policy", str(policy), "--usage", str(usage), "--at", "2026-01-12T10:00:00Z"
    )
    assert code == 1 and "but the policy expects allow" in " ".join(out.split())
