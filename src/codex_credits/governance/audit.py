"""The audit trail: an append-only, hash-chained JSON Lines log.

Theory of operation (docs/audit.md):

* One entry per decision (:func:`decision_entry`) and per task
  (:func:`task_entry`): who (principal, owner, roles, team, key id), an
  instruction digest (never the instruction, never a secret), repositories
  and files, tools, model, CCU, outcome and reasons.
* Each line is ``{"hash":H,"prev":P,"seq":N,...}``: the entry's other fields
  follow in canonical form (orjson, keys sorted). ``H`` is the SHA-256 of
  everything after ``"hash":H,`` (so it covers ``prev``, ``seq`` and the
  content), ``P`` is the previous entry's ``H`` (64 zeros for entry 0), and
  ``seq`` counts from 0. Altering, removing or reordering an entry breaks
  the chain where it happened (:func:`~codex_credits.governance.auditverify.verify_log`).
* Every ``checkpoint_every`` entries the writer appends a checkpoint entry:
  with a key, it carries an HMAC-SHA256 of ``"seq:prev"``, so rewriting the
  whole chain without the key is detected too; retention
  (:func:`~codex_credits.governance.auditverify.prune_log`) cuts the log at a
  checkpoint, and verification starts again from it.
* Durable: each commit is written, flushed and fsynced. A crash can leave at
  most a torn last line; readers report and skip it, and the writer cuts it
  off before appending.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, final

import orjson
from pydantic import Field

from codex_credits.core.events import Outcome
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime, require_utc
from codex_credits.governance.authorize import AccessDecision, AccessRequest

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "checkpoint_mac",
    "decision_entry",
    "encode_entry",
    "instruction_digest",
    "task_entry",
    "write_entries",
]

GENESIS = "0" * 64
"""The ``prev`` of entry 0."""
_HEAD = b'{"hash":"'


@final
class AuditEntry(Frozen):
    """The content of one audit entry (the chain fields are added when written)."""

    at: UtcDatetime
    kind: Literal["decision", "task", "checkpoint"]
    actor: str | None = Field(default=None, description="principal: user or service account")
    owner: str | None = Field(default=None, description="the real user behind the actor")
    key_id: str | None = None
    roles: tuple[str, ...] = ()
    team: str | None = None
    action: str | None = None
    instruction_digest: str | None = None
    repositories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    model: str | None = None
    ccu: Decimal | None = None
    outcome: str | None = None
    reasons: tuple[str, ...] = ()
    task_id: str | None = None
    thread_id: str | None = None
    session_id: str | None = None
    parent_session_id: str | None = None
    mac: str | None = Field(default=None, description="checkpoints: HMAC-SHA256 of seq:prev")

    def content(self) -> dict[str, Any]:
        """The fields written to the log (empty ones left out), JSON-ready."""
        out: dict[str, Any] = {}
        for name, value in self:
            if value is None or value == ():
                continue
            if isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, Decimal):
                value = format(value, "f")
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def instruction_digest(instruction: str) -> str:
    """``sha256:<hex>`` of an instruction: what the log keeps instead of the text."""
    return "sha256:" + hashlib.sha256(instruction.encode("utf-8")).hexdigest()


def _who(request: AccessRequest, decision: AccessDecision) -> dict[str, Any]:
    return {
        "actor": decision.principal,
        "owner": decision.owner,
        "key_id": decision.key_id,
        "roles": decision.roles,
        "team": decision.team,
        "action": request.action.value,
        "instruction_digest": None
        if request.instruction is None
        else instruction_digest(request.instruction),
        "repositories": request.repositories,
        "files": request.files,
        "apis": request.apis,
        "tools": request.tools,
        "model": request.model,
        "task_id": request.task_id,
        "thread_id": request.thread_id,
        "session_id": request.session_id,
        "parent_session_id": request.parent_session_id,
    }


def decision_entry(request: AccessRequest, decision: AccessDecision) -> AuditEntry:
    """The entry recording an authorization decision (CCU is the estimate, if any)."""
    return AuditEntry(
        at=decision.at,
        kind="decision",
        ccu=request.estimate_ccu,
        outcome="allowed" if decision.allowed else "denied",
        reasons=decision.messages(),
        **_who(request, decision),
    )


def task_entry(
    request: AccessRequest, decision: AccessDecision, outcome: Outcome, at: datetime
) -> AuditEntry:
    """The entry recording what a dispatched task consumed (the account's outcome)."""
    reasons = () if outcome.reason is None else (outcome.reason.value,)
    return AuditEntry(
        at=require_utc(at),
        kind="task",
        ccu=outcome.served,
        outcome=outcome.status.value,
        reasons=reasons,
        **_who(request, decision),
    )


def checkpoint_mac(key: bytes, seq: int, prev: str) -> str:
    """HMAC-SHA256 (hex) that signs the chain up to entry ``seq`` (whose ``prev`` is ``prev``)."""
    return hmac.new(key, f"{seq}:{prev}".encode(), hashlib.sha256).hexdigest()


def encode_entry(content: dict[str, Any], prev: str, seq: int) -> tuple[bytes, str]:
    """One log line (with its newline) and its hash."""
    rest = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    body = b'"prev":"' + prev.encode() + b'","seq":' + str(seq).encode() + b"," + rest[1:]
    digest = hashlib.sha256(body).hexdigest()
    return _HEAD + digest.encode() + b'",' + body + b"\n", digest


class AuditLog:
    """An audit log open for appending (one writer at a time).

    Args:
        path: the JSON Lines file (created if missing).
        key: the checkpoint signing key (no key: checkpoints are unsigned).
        checkpoint_every: a checkpoint after this many entries (0: never).
        fsync: sync to disk on every commit (turn off only for bulk imports).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        key: bytes | None = None,
        checkpoint_every: int = 1000,
        fsync: bool = True,
    ) -> None:
        self.path = Path(path)
        self._key = key
        self.checkpoint_every = checkpoint_every
        self.fsync = fsync
        self.seq, self.head, self.since_checkpoint = _recover(self.path)
        self._file: BinaryIO = self.path.open("ab")

    def __repr__(self) -> str:
        signed = "signed" if self._key is not None else "unsigned"
        return f"AuditLog({str(self.path)!r}, next seq {self.seq}, {signed} checkpoints)"

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def append(self, entry: AuditEntry) -> int:
        """Write ``entry`` (and a checkpoint when one is due); returns its seq."""
        return self.extend((entry,))[0]

    def extend(self, entries: Iterable[AuditEntry]) -> list[int]:
        """Write ``entries`` as one commit (one fsync); returns their seqs."""
        chunks: list[bytes] = []
        seqs: list[int] = []
        for entry in entries:
            seqs.append(self.seq)
            chunks.append(self._encode(entry.content()))
            if self.checkpoint_every and self.since_checkpoint >= self.checkpoint_every:
                chunks.append(self._encode(self._checkpoint_content(entry.at)))
        self._file.write(b"".join(chunks))
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        return seqs

    def checkpoint(self, at: datetime) -> int:
        """Write a checkpoint now; returns its seq."""
        seq = self.seq
        self._file.write(self._encode(self._checkpoint_content(require_utc(at))))
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        return seq

    def _checkpoint_content(self, at: datetime) -> dict[str, Any]:
        mac = None if self._key is None else checkpoint_mac(self._key, self.seq, self.head)
        return AuditEntry(at=at, kind="checkpoint", mac=mac).content()

    def _encode(self, content: dict[str, Any]) -> bytes:
        line, digest = encode_entry(content, self.head, self.seq)
        self.since_checkpoint = 0 if content["kind"] == "checkpoint" else self.since_checkpoint + 1
        self.head = digest
        self.seq += 1
        return line


def write_entries(
    path: str | Path,
    entries: Sequence[AuditEntry],
    *,
    key: bytes | None = None,
    checkpoint_every: int = 1000,
) -> int:
    """Append ``entries`` to the log at ``path`` in one commit; returns the next seq."""
    with AuditLog(path, key=key, checkpoint_every=checkpoint_every) as log:
        log.extend(entries)
        return log.seq


def _recover(path: Path) -> tuple[int, str, int]:
    """The next seq, the head hash and entries since the last checkpoint; a torn
    last line is cut off first."""
    if not path.exists():
        return 0, GENESIS, 0
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        chunk = min(size, 1 << 20)
        f.seek(size - chunk)
        tail = f.read(chunk)
    if tail and not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n") + 1
        with path.open("r+b") as f:
            f.truncate(size - chunk + cut)
            f.flush()
            os.fsync(f.fileno())
        tail = tail[:cut]
    lines = [line for line in tail.split(b"\n") if line]
    if not lines:
        return 0, GENESIS, 0
    last = orjson.loads(lines[-1])
    since = 0
    for line in reversed(lines):
        if b'"kind":"checkpoint"' in line:
            break
        since += 1
    return int(last["seq"]) + 1, str(last["hash"]), since
