"""Reading, verifying and pruning the audit log (docs/audit.md).

* :func:`verify_log` proves a log intact or names the first broken entry:
  an **altered** entry (its hash no longer matches its content, or the next
  entry recorded another hash for it), **removed** entries (a gap in
  ``seq``), a **reordered** entry (a ``seq`` that belongs elsewhere), a
  **malformed** line, or a checkpoint whose signature fails (**bad
  signature**: some entry before it was rewritten). A torn last line (a
  crash in mid-write) is reported, not counted as a break.
* A log that starts with a checkpoint (after :func:`prune_log`) is verified
  from that checkpoint; with the key, its signature is checked too.
* The hot loop touches bytes only: one SHA-256 per line and fixed offsets
  for ``hash``, ``prev`` and ``seq``; JSON is parsed only for checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, final

import orjson
from pydantic import ValidationError

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import require_utc
from codex_credits.errors import UsageDataError
from codex_credits.governance.audit import GENESIS, AuditEntry, checkpoint_mac

__all__ = [
    "BreakKind",
    "ChainBreak",
    "PruneResult",
    "Verification",
    "prune_log",
    "read_entries",
    "verify_log",
]

_HEAD = b'{"hash":"'
_PREV = b'","prev":"'
_SEQ = b'","seq":'
_CHECKPOINT = b'"kind":"checkpoint"'


class BreakKind(StrEnum):
    """How a chain is broken."""

    ALTERED = "altered"
    REMOVED = "removed"
    REORDERED = "reordered"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"


@final
class ChainBreak(Frozen):
    """The first broken entry: its line (1-based), the seq expected there, and why."""

    kind: BreakKind
    line: int
    seq: int | None
    message: str


@final
class Verification(Frozen):
    """What :func:`verify_log` found."""

    ok: bool
    entries: int
    checkpoints: int
    signed_checkpoints: int
    first_seq: int | None = None
    last_seq: int | None = None
    head: str | None = None
    anchored: bool = False
    """The log starts at a checkpoint (it was pruned)."""
    torn_tail: bool = False
    broken: ChainBreak | None = None


def _split(line: bytes) -> tuple[bytes, bytes, int] | None:
    """``(hash, prev, seq)`` of a well-formed line, else None."""
    if line[:9] != _HEAD or line[73:83] != _PREV or line[147:155] != _SEQ:
        return None
    end = line.find(b",", 155)
    try:
        seq = int(line[155:end])
    except ValueError:
        return None
    return line[9:73], line[83:147], seq


def verify_log(path: str | Path, key: bytes | None = None) -> Verification:
    """Verify the chain (and, with ``key``, the checkpoint signatures) of a log.

    Raises:
        UsageDataError: the file cannot be read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageDataError(
            f"cannot read audit log {path}: {exc.strerror}", path=str(path)
        ) from None
    fast = _scan(data, key)
    return fast if fast is not None else _diagnose(data, key)


def _scan(data: bytes, key: bytes | None) -> Verification | None:
    """The intact case at full speed: every line's hash and link, with no object per
    line beyond its digest. None as soon as anything is off (then :func:`_diagnose`)."""
    n = len(data)
    if not n or data[-1:] != b"\n":
        return None
    first = _split(data[: data.find(b"\n")])
    if first is None:
        return None
    anchored = first[2] != 0 or first[1] != GENESIS.encode()
    prev = first[1]
    view = memoryview(data)
    sha = hashlib.sha256
    find, startswith = data.find, data.startswith
    pos = count = checkpoints = signed = 0
    while pos < n:
        end = find(b"\n", pos)
        digest = sha(view[pos + 75 : end]).hexdigest().encode()
        if not (
            startswith(digest, pos + 9)
            and startswith(prev, pos + 83)
            and startswith(_SEQ, pos + 147)
            and startswith(_HEAD, pos)
        ):
            return None
        if end - pos < 400 and find(_CHECKPOINT, pos + 155, end) >= 0:
            checkpoints += 1
            if key is not None:
                mac = orjson.loads(view[pos:end]).get("mac")
                seq = first[2] + count
                if not (
                    isinstance(mac, str)
                    and hmac.compare_digest(mac, checkpoint_mac(key, seq, prev.decode()))
                ):
                    return None
                signed += 1
        elif count == 0 and anchored:
            return None  # a log must start at entry 0 or at a checkpoint
        prev = digest
        pos = end + 1
        count += 1
    return Verification(
        ok=True,
        entries=count,
        checkpoints=checkpoints,
        signed_checkpoints=signed,
        first_seq=first[2],
        last_seq=first[2] + count - 1,
        head=prev.decode(),
        anchored=anchored,
    )


def _diagnose(data: bytes, key: bytes | None) -> Verification:
    """Line by line: find and name the first broken entry (or a torn tail)."""
    lines = data.split(b"\n")
    torn = False
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        torn = True  # no newline after the last line: a write was cut short
    sha = hashlib.sha256
    prev_hash = GENESIS.encode()
    expected = 0
    checkpoints = signed = 0
    first: int | None = None
    anchored = False
    last_good = 0
    for i, line in enumerate(lines):
        parts = _split(line)
        if parts is None or sha(line[75:]).hexdigest().encode() != parts[0]:
            if torn and i == len(lines) - 1:
                break
            return _broken(lines, i, expected, first, checkpoints, signed, anchored, parts)
        digest, prev, seq = parts
        if i == 0:
            first = seq
            if seq != 0 or prev != prev_hash:
                if _CHECKPOINT not in line:
                    return _verdict(
                        lines,
                        first,
                        checkpoints,
                        signed,
                        anchored,
                        ChainBreak(
                            kind=BreakKind.REMOVED,
                            line=1,
                            seq=0,
                            message=f"the log starts at seq {seq} without a checkpoint: "
                            "the entries before it were removed",
                        ),
                    )
                anchored = True
                prev_hash, expected = prev, seq
        if seq != expected or prev != prev_hash:
            if seq == expected:
                return _verdict(
                    lines,
                    first,
                    checkpoints,
                    signed,
                    anchored,
                    ChainBreak(
                        kind=BreakKind.ALTERED,
                        line=i,
                        seq=expected - 1,
                        message=f"entry {expected - 1} (line {i}) differs from the entry "
                        f"that entry {seq} (line {i + 1}) follows",
                    ),
                )
            return _verdict(
                lines, first, checkpoints, signed, anchored, _misplaced(lines, i, expected, seq)
            )
        if _CHECKPOINT in line:
            checkpoints += 1
            if key is not None:
                mac = orjson.loads(line).get("mac")
                good = isinstance(mac, str) and hmac.compare_digest(
                    mac, checkpoint_mac(key, seq, prev.decode())
                )
                if not good:
                    return _verdict(
                        lines,
                        first,
                        checkpoints,
                        signed,
                        anchored,
                        ChainBreak(
                            kind=BreakKind.BAD_SIGNATURE,
                            line=i + 1,
                            seq=seq,
                            message=f"checkpoint {seq} (line {i + 1}) is not signed by this key: "
                            f"an entry after line {last_good} and before it was rewritten",
                        ),
                    )
                signed += 1
                last_good = i + 1
        prev_hash = digest
        expected = seq + 1
    count = len(lines) - (1 if torn and _tail_bad(lines) else 0)
    return Verification(
        ok=True,
        entries=count,
        checkpoints=checkpoints,
        signed_checkpoints=signed,
        first_seq=first,
        last_seq=expected - 1 if count else None,
        head=prev_hash.decode() if count else None,
        anchored=anchored,
        torn_tail=torn and _tail_bad(lines),
    )


def _tail_bad(lines: list[bytes]) -> bool:
    parts = _split(lines[-1])
    return parts is None or hashlib.sha256(lines[-1][75:]).hexdigest().encode() != parts[0]


def _misplaced(lines: list[bytes], i: int, expected: int, seq: int) -> ChainBreak:
    later = {p[2] for p in map(_split, lines[i + 1 :]) if p is not None}
    if seq < expected or expected in later:
        return ChainBreak(
            kind=BreakKind.REORDERED,
            line=i + 1,
            seq=expected,
            message=f"line {i + 1} holds entry {seq} where entry {expected} belongs: "
            "entries were reordered",
        )
    return ChainBreak(
        kind=BreakKind.REMOVED,
        line=i + 1,
        seq=expected,
        message=f"entries {expected} to {seq - 1} are missing before line {i + 1}",
    )


def _broken(
    lines: list[bytes],
    i: int,
    expected: int,
    first: int | None,
    checkpoints: int,
    signed: int,
    anchored: bool,
    parts: tuple[bytes, bytes, int] | None,
) -> Verification:
    try:
        orjson.loads(lines[i])
        kind = BreakKind.ALTERED if parts is not None else BreakKind.MALFORMED
    except orjson.JSONDecodeError:
        kind = BreakKind.MALFORMED
    what = "its content does not match its hash" if kind is BreakKind.ALTERED else "not an entry"
    return _verdict(
        lines,
        first,
        checkpoints,
        signed,
        anchored,
        ChainBreak(kind=kind, line=i + 1, seq=expected, message=f"line {i + 1}: {what}"),
    )


def _verdict(
    lines: list[bytes],
    first: int | None,
    checkpoints: int,
    signed: int,
    anchored: bool,
    broken: ChainBreak,
) -> Verification:
    return Verification(
        ok=False,
        entries=len(lines),
        checkpoints=checkpoints,
        signed_checkpoints=signed,
        first_seq=first,
        anchored=anchored,
        broken=broken,
    )


def read_entries(path: str | Path) -> Iterator[tuple[int, AuditEntry]]:
    """``(seq, entry)`` for every whole entry of a log (a torn last line is skipped).

    Raises:
        UsageDataError: a line that is not an entry (names file and line).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageDataError(
            f"cannot read audit log {path}: {exc.strerror}", path=str(path)
        ) from None
    lines = data.split(b"\n")
    torn = lines[-1] != b""
    for n, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            raw: dict[str, Any] = orjson.loads(line)
            seq = int(raw.pop("seq"))
            raw.pop("hash")
            raw.pop("prev")
            yield seq, AuditEntry.model_validate(raw)
        except (orjson.JSONDecodeError, KeyError, ValueError, ValidationError):
            if torn and n == len(lines):
                return
            raise UsageDataError(
                f"{path}:{n}: not an audit entry", path=str(path), line=n
            ) from None


@final
class PruneResult(Frozen):
    """What :func:`prune_log` removed and where the kept log starts."""

    removed: int
    kept: int
    first_seq: int | None


def prune_log(path: str | Path, before: datetime) -> PruneResult:
    """Remove entries older than ``before``, cutting at a checkpoint.

    The log is cut just before the last checkpoint written before ``before``,
    so the kept log starts with that checkpoint and stays verifiable; entries
    between it and ``before`` are kept (retention keeps at least what it must).
    The new file replaces the old atomically.
    """
    before = require_utc(before)
    path = Path(path)
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cut = None
    for i, line in enumerate(lines):
        if _CHECKPOINT not in line:
            continue
        at = orjson.loads(line)["at"]
        if datetime.fromisoformat(at.replace("Z", "+00:00")) > before:
            break
        cut = i
    if cut is None or cut == 0:
        return PruneResult(removed=0, kept=len(lines), first_seq=_seq(lines[0]) if lines else None)
    temp = path.with_name(path.name + ".prune")
    with temp.open("wb") as f:
        f.write(b"\n".join(lines[cut:]) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    return PruneResult(removed=cut, kept=len(lines) - cut, first_seq=_seq(lines[cut]))


def _seq(line: bytes) -> int | None:
    parts = _split(line)
    return None if parts is None else parts[2]
