"""The audit trail: the chain, tampering found at the right place, torn tails, checkpoints, pruning."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from codex_credits import Outcome
from codex_credits.governance import (
    AccessRequest,
    AuditEntry,
    AuditLog,
    BreakKind,
    Organisation,
    authorize,
    decision_entry,
    instruction_digest,
    prune_log,
    read_entries,
    task_entry,
    verify_log,
    write_entries,
)
from codex_credits.governance.audit import encode_entry
from tests.governance.conftest import SECRETS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = b"audit-signing-key-for-tests"


def entries(n: int, start: datetime = T0) -> list[AuditEntry]:
    return [
        AuditEntry(
            at=start + timedelta(hours=i),
            kind="task" if i % 2 else "decision",
            actor=("alice", "bob", "bot-web")[i % 3],
            key_id=f"k{i % 4}",
            repositories=(("acme/web",), ("acme/docs",))[i % 2],
            ccu=Decimal(i),
            outcome="served" if i % 2 else "allowed",
        )
        for i in range(n)
    ]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_an_untouched_log_verifies_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = entries(25)
    assert write_entries(path, written, checkpoint_every=10) == 27  # 25 entries + 2 checkpoints
    result = verify_log(path)
    assert result.ok and result.entries == 27 and result.checkpoints == 2
    assert (result.first_seq, result.last_seq) == (0, 26)
    back = [e for _, e in read_entries(path) if e.kind != "checkpoint"]
    assert back == written
    # appending later continues the chain
    with AuditLog(path, checkpoint_every=10) as log:
        assert log.seq == 27
        log.append(entries(1)[0])
    assert verify_log(path).ok


def test_each_line_hashes_the_body_and_links_the_previous_hash(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(3), checkpoint_every=0)
    prev = "0" * 64
    for seq, line in enumerate(lines_of(path)):
        raw = orjson.loads(line)
        assert raw["prev"] == prev and raw["seq"] == seq
        body = line[len(b'{"hash":"') + 64 + 2 : -1]
        assert hashlib.sha256(body).hexdigest() == raw["hash"]
        prev = raw["hash"]


HOWS = ["alter", "rehash", "remove", "swap"]


@given(st.integers(0, 29), st.sampled_from(HOWS))
@settings(max_examples=40)
def test_tampering_is_found_at_the_first_broken_entry(position: int, how: str) -> None:
    tampered(position, how)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("position", [0, 1, 15, 28, 29])
def test_tampering_at_the_edges(position: int, how: str) -> None:
    tampered(position, how)


def tampered(position: int, how: str) -> None:
    """Tamper with a 30-entry log at ``position`` and check where verify says it broke."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        write_entries(path, entries(30), checkpoint_every=0)
        lines = lines_of(path)
        if how == "alter":
            lines[position] = lines[position].replace(b'"ccu":"', b'"ccu":"9')
            expected = (BreakKind.ALTERED, position + 1, position)
        elif how == "rehash":
            raw = orjson.loads(lines[position])
            raw["actor"] = "mallory"
            content = {k: v for k, v in raw.items() if k not in ("hash", "prev", "seq")}
            lines[position] = encode_entry(content, raw["prev"], raw["seq"])[0]
            expected = (
                (BreakKind.ALTERED, position + 1, position)
                if position < 29
                else (None, 0, 0)  # the last entry re-hashed: only a checkpoint could tell
            )
        elif how == "remove":
            del lines[position]
            expected = (
                (BreakKind.REMOVED, position + 1, position) if position < 29 else (None, 0, 0)
            )
        else:
            position = min(position, 28)
            lines[position], lines[position + 1] = lines[position + 1], lines[position]
            expected = (BreakKind.REORDERED, position + 1, position)
        path.write_bytes(b"".join(lines))
        result = verify_log(path)
        if expected[0] is None:
            assert result.ok
            return
        assert not result.ok and result.broken is not None
        assert (result.broken.kind, result.broken.line, result.broken.seq) == expected


def test_a_cut_off_tail_is_found_against_a_head_kept_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, checkpoint_every=0) as log:
        log.extend(entries(5))
        head = log.head
    assert verify_log(path, head=head).ok
    with AuditLog(path, checkpoint_every=0) as log:
        log.extend(entries(2))  # appending after the head was kept is fine
    assert verify_log(path, head=head).ok
    path.write_bytes(b"".join(lines_of(path)[:4]))
    assert verify_log(path).ok  # the chain alone cannot tell
    broken = verify_log(path, head=head).broken
    assert broken is not None and (broken.kind, broken.line, broken.seq) == (
        BreakKind.REMOVED,
        5,
        4,
    )


def test_the_first_entries_removed_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(5), checkpoint_every=0)
    path.write_bytes(b"".join(lines_of(path)[2:]))
    broken = verify_log(path).broken
    assert broken is not None and (broken.kind, broken.line) == (BreakKind.REMOVED, 1)


def test_signed_checkpoints_catch_a_rewritten_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(30), key=KEY, checkpoint_every=10)
    result = verify_log(path, key=KEY)
    assert result.ok and result.signed_checkpoints == 3
    # rewrite entry 4 and re-hash everything after it, without the key
    forged = tmp_path / "forged.jsonl"
    rows = [orjson.loads(line) for line in lines_of(path)]
    rows[4]["actor"] = "mallory"
    prev = "0" * 64
    out = []
    for row in rows:
        content = {k: v for k, v in row.items() if k not in ("hash", "prev", "seq")}
        line, prev = encode_entry(content, prev, row["seq"])
        out.append(line)
    forged.write_bytes(b"".join(out))
    assert verify_log(forged).ok  # without the key the chain alone looks fine
    broken = verify_log(forged, key=KEY).broken
    assert broken is not None and broken.kind is BreakKind.BAD_SIGNATURE
    assert broken.line == 11  # the first checkpoint after the rewritten entry
    assert not verify_log(path, key=b"another key").ok


def test_a_torn_last_line_is_reported_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(4), checkpoint_every=0)
    whole = path.read_bytes()
    path.write_bytes(whole + lines_of(path)[1][:40])
    result = verify_log(path)
    assert result.ok and result.torn_tail and result.entries == 4
    assert len(list(read_entries(path))) == 4
    with AuditLog(path, checkpoint_every=0) as log:
        assert log.seq == 4
        log.append(entries(1)[0])
    result = verify_log(path)
    assert result.ok and not result.torn_tail and result.entries == 5


def test_a_malformed_line_in_the_middle_is_a_break(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(4), checkpoint_every=0)
    lines = lines_of(path)
    lines[2] = b"not json\n"
    path.write_bytes(b"".join(lines))
    broken = verify_log(path).broken
    assert broken is not None and (broken.kind, broken.line, broken.seq) == (
        BreakKind.MALFORMED,
        3,
        2,
    )


def test_pruning_cuts_at_a_checkpoint_and_stays_verifiable(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_entries(path, entries(50), key=KEY, checkpoint_every=10)
    # entry i is at T0 + i hours; checkpoints follow entries 9, 19, 29, 39, 49
    result = prune_log(path, T0 + timedelta(hours=25))
    assert result.removed == 21 and result.first_seq == 21  # cut at the checkpoint after 19
    verified = verify_log(path, key=KEY)
    assert verified.ok and verified.anchored and verified.first_seq == 21
    kept = [e for _, e in read_entries(path) if e.kind != "checkpoint"]
    assert kept[0].at == T0 + timedelta(hours=20)
    assert prune_log(path, T0).removed == 0


def test_decision_and_task_entries_record_who_what_and_never_the_instruction(
    org: Organisation, tmp_path: Path
) -> None:
    request = AccessRequest(
        secret=SecretStr(SECRETS["k-alice"]),
        repositories=("acme/web",),
        files=("web/app.py",),
        tools=("tests",),
        model="gpt-5.4",
        done_when="tests pass",
        instruction="fix the flaky login test",
        task_id="t-1",
        thread_id="th-1",
    )
    at = datetime(2026, 1, 12, tzinfo=UTC)
    decision = authorize(request, org, at)
    entry = decision_entry(request, decision)
    assert (entry.actor, entry.key_id, entry.roles, entry.team) == (
        "alice",
        "k-alice",
        ("lead",),
        "web",
    )
    assert entry.instruction_digest == instruction_digest("fix the flaky login test")
    task = task_entry(request, decision, Outcome(requested=Decimal(3), served=Decimal(3)), at)
    assert (task.ccu, task.outcome) == (Decimal(3), "served")
    path = tmp_path / "audit.jsonl"
    with AuditLog(path) as log:
        log.extend([entry, task])
    text = path.read_text()
    assert "flaky login" not in text
    assert SECRETS["k-alice"] not in text
    assert verify_log(path).ok


def test_a_missing_log_is_a_data_error(tmp_path: Path) -> None:
    from codex_credits.errors import UsageDataError

    with pytest.raises(UsageDataError, match="cannot read audit log"):
        verify_log(tmp_path / "none.jsonl")
