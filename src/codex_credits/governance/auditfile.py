"""Reading the audit log back, and retention (docs/audit.md).

* :func:`read_entries` yields every whole entry with its ``seq`` (a torn last
  line is skipped; any other bad line is a data error naming file and line).
* :func:`prune_log` removes entries older than an instant, cutting at a
  checkpoint so the kept log stays verifiable from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, final

import orjson
from pydantic import ValidationError

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import require_utc
from codex_credits.errors import UsageDataError
from codex_credits.governance.audit import AuditEntry
from codex_credits.governance.auditverify import read_log_bytes, split_line

__all__ = ["PruneResult", "prune_log", "read_entries"]

_CHECKPOINT = b'"kind":"checkpoint"'


def read_entries(path: str | Path) -> Iterator[tuple[int, AuditEntry]]:
    """``(seq, entry)`` for every whole entry of a log (a torn last line is skipped).

    Raises:
        UsageDataError: a line that is not an entry (names file and line).
    """
    path = Path(path)
    lines = read_log_bytes(path).split(b"\n")
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
    parts = split_line(line)
    return None if parts is None else parts[2]
