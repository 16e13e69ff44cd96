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
* Reading and retention live in :mod:`codex_credits.governance.auditfile`.
* The hot loop touches bytes only: one SHA-256 per line and fixed offsets
  for ``hash``, ``prev`` and ``seq``; JSON is parsed only for checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from pathlib import Path
from typing import final

import orjson

from codex_credits.core.model import Frozen
from codex_credits.errors import UsageDataError
from codex_credits.governance.audit import GENESIS, checkpoint_mac

__all__ = [
    "BreakKind",
    "ChainBreak",
    "Verification",
    "read_log_bytes",
    "split_line",
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


def read_log_bytes(path: str | Path) -> bytes:
    """The whole log file.

    Raises:
        UsageDataError: the file cannot be read.
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageDataError(
            f"cannot read audit log {path}: {exc.strerror}", path=str(path)
        ) from None


def split_line(line: bytes) -> tuple[bytes, bytes, int] | None:
    """``(hash, prev, seq)`` of a well-formed line, else None."""
    if line[:9] != _HEAD or line[73:83] != _PREV or line[147:155] != _SEQ:
        return None
    end = line.find(b",", 155)
    try:
        seq = int(line[155:end])
    except ValueError:
        return None
    return line[9:73], line[83:147], seq


def verify_log(
    path: str | Path, key: bytes | None = None, *, head: str | None = None
) -> Verification:
    """Verify the chain (and, with ``key``, the checkpoint signatures) of a log.

    Args:
        path: the log.
        key: the checkpoint signing key, if checkpoints are signed.
        head: a hash kept elsewhere (a past ``AuditLog.head``): the entry with that
            hash must still be in the log, so a cut-off tail is found too.

    Raises:
        UsageDataError: the file cannot be read.
    """
    data = read_log_bytes(path)
    fast = _scan(data, key)
    result = fast if fast is not None else _diagnose(data, key)
    if head is None or not result.ok:
        return result
    at = data.find(_HEAD + head.encode())
    if at == 0 or (at > 0 and data[at - 1 : at] == b"\n"):
        return result
    return _verdict(
        data.split(b"\n")[:-1],
        result.first_seq,
        result.checkpoints,
        result.signed_checkpoints,
        result.anchored,
        ChainBreak(
            kind=BreakKind.REMOVED,
            line=result.entries + 1,
            seq=None if result.last_seq is None else result.last_seq + 1,
            message=f"no entry has the head {head[:12]}...: entries after line "
            f"{result.entries} were cut off (or the log was rewritten)",
        ),
    )


def _scan(data: bytes, key: bytes | None) -> Verification | None:
    """The intact case at full speed: every line's hash and link, with no object per
    line beyond its digest. None as soon as anything is off (then :func:`_diagnose`)."""
    n = len(data)
    if not n or data[-1:] != b"\n":
        return None
    first = split_line(data[: data.find(b"\n")])
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
        parts = split_line(line)
        if parts is None or sha(line[75:]).hexdigest().encode() != parts[0]:
            if torn and i == len(lines) - 1:
                break
            return _broken(lines, i, expected, first, checkpoints, signed, anchored, parts)
        digest, prev, seq = parts
        if i == 0:
            first = seq
            if seq != 0 or prev != prev_hash:
                if _CHECKPOINT not in line:
                    if seq == 0:
                        broken = ChainBreak(
                            kind=BreakKind.ALTERED,
                            line=1,
                            seq=0,
                            message="entry 0 (line 1) does not start the chain",
                        )
                    else:
                        broken = _misplaced(lines, 0, 0, seq)
                    return _verdict(lines, first, checkpoints, signed, anchored, broken)
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
    parts = split_line(lines[-1])
    return parts is None or hashlib.sha256(lines[-1][75:]).hexdigest().encode() != parts[0]


def _misplaced(lines: list[bytes], i: int, expected: int, seq: int) -> ChainBreak:
    later = {p[2] for p in map(split_line, lines[i + 1 :]) if p is not None}
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
