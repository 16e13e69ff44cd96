"""How long `verify_log` takes on an untouched audit log of 1,000,000 entries.

The issue's figure: an untouched log of 1,000,000 entries verifies in at most
5 seconds. This writes a realistic log (decisions and tasks alternating, with
actor, owner, key id, roles, team, an instruction digest, a repository, files,
tools, a model, CCU, outcome and reasons) with a signed checkpoint every 1,000
entries, then times `verify_log` with the key, best of N. The baseline in the
same run is the floor every verifier pays: reading the file and one SHA-256 per
line, nothing else; the ratio says what the checks add.

Run: python3 benchmarks/bench_audit.py [entries] [repeats]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from codex_credits.governance import AuditEntry, AuditLog, instruction_digest, verify_log

KEY = b"benchmark-signing-key"
START = datetime(2026, 1, 1, tzinfo=UTC)


def entries(n: int) -> list[AuditEntry]:
    digest = instruction_digest("fix the failing test in the login flow")
    out = []
    for i in range(n):
        task = i % 2 == 1
        out.append(
            AuditEntry(
                at=START + timedelta(seconds=i * 3),
                kind="task" if task else "decision",
                actor=f"user{i % 50}",
                owner=f"user{i % 50}",
                key_id=f"k-{i % 200}",
                roles=("developer",),
                team=f"team{i % 8}",
                action="dispatch",
                instruction_digest=digest,
                repositories=(f"acme/repo{i % 30}",),
                files=("src/app.py", "tests/test_app.py"),
                tools=("shell", "tests"),
                model="gpt-5.4",
                ccu=Decimal(i % 97) / 4 if task else None,
                outcome="served" if task else "allowed",
                task_id=f"t-{i // 2}",
                thread_id=f"th-{i // 2}",
            )
        )
    return out


def baseline(path: Path) -> None:
    sha = hashlib.sha256
    for line in path.read_bytes().split(b"\n"):
        sha(line).digest()


def best(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        t0 = time.perf_counter()
        sample = entries(10_000)  # 10,000 distinct entries, written over and over
        with AuditLog(path, key=KEY, checkpoint_every=1000) as log:
            for lo in range(0, n, len(sample)):
                log.extend(sample[: min(len(sample), n - lo)])
        written = time.perf_counter() - t0
        size = path.stat().st_size
        result = verify_log(path, key=KEY)
        assert result.ok, result.broken
        verify = best(lambda: verify_log(path, key=KEY), repeats)
        floor = best(lambda: baseline(path), repeats)
        print(f"entries: {result.entries:,} ({result.checkpoints:,} signed checkpoints)")
        print(f"file: {size / 1e6:.0f} MB, written in {written:.1f} s (one fsync per 10,000)")
        print(f"verify_log with the key, best of {repeats}: {verify:.2f} s")
        print(f"baseline (read + one SHA-256 per line), best of {repeats}: {floor:.2f} s")
        print(f"ratio verify / baseline: {verify / floor:.2f}x")
        print(f"entries per second: {result.entries / verify:,.0f}")


if __name__ == "__main__":
    main()
