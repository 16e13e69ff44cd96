"""Benchmark: memory of reading and of summarising a large usage CSV.

Writes a CSV of ``--rows`` events (timestamp, ccu, project_id; about 43 bytes
a row), then, each in a fresh process:

* ``read_usage``: peak RSS, bytes a row held by the log's columns, seconds;
* ``summarize_usage`` by day: peak RSS and seconds (memory does not grow with
  the rows; try ``--rows 50000000``).

The file is written in blocks and deleted afterwards (``--keep DIR`` keeps it).

    python3 benchmarks/bench_usage_memory.py [--rows 5000000] [--only read|summarize]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time
from codex_credits import RateCard, read_usage, summarize_usage
def hwm():  # this process's peak resident set (VmHWM; ru_maxrss survives exec)
    for text in open("/proc/self/status"):
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) * 1024
path, what = sys.argv[1], sys.argv[2]
base = hwm()
t0 = time.perf_counter()
if what == "read":
    log = read_usage(path)
    n = len(log)
    held = sum(c.nbytes for c in map(log.column, log._columns) if c.strides[0])
else:
    s = summarize_usage(path, RateCard.builtin("codex-ccu-2026-06"), by="day")
    n = s.summary.events
    held = 0
seconds = time.perf_counter() - t0
peak = hwm()
print(json.dumps({"n": n, "held": held, "seconds": seconds, "peak": peak, "base": base}))
"""


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    start = 1_780_272_000  # 2026-06-01T00:00:00Z
    step = max(1, 365 * 86_400 // max(rows, 1))
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,ccu,project_id\n")
        done = 0
        while done < rows:
            k = min(500_000, rows - done)
            seconds = start + (np.arange(done, done + k) * step) % (365 * 86_400)
            stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
            micro = rng.integers(1, 3_000_000, size=k)
            projects = rng.integers(0, 20, size=k)
            out.writelines(
                f"{t}Z,{m // 1_000_000}.{m % 1_000_000:06d},p{p}\n"
                for t, m, p in zip(stamps.tolist(), micro.tolist(), projects.tolist(), strict=True)
            )
            done += k


def measure(path: Path, what: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--only", choices=("read", "summarize"))
    parser.add_argument("--keep", type=Path, help="write (or reuse) the file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"usage-memory-{args.rows}.csv"
        if not path.exists():
            t0 = time.perf_counter()
            write_csv(path, args.rows)
            print(f"wrote {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
        size = path.stat().st_size
        for what in ("read", "summarize"):
            if args.only not in (None, what):
                continue
            r = measure(path, what)
            n = r["n"]
            print(
                f"{what:<10} {int(n):>11,} rows ({size / 1e6:.0f} MB): {r['seconds']:6.1f} s, "
                f"peak RSS {r['peak'] / 1e6:7.0f} MB (interpreter and imports "
                f"{r['base'] / 1e6:.0f} MB), {(r['peak'] - r['base']) / n:6.1f} bytes/row of peak"
                + (f", log columns {r['held'] / n:.1f} bytes/row" if what == "read" else "")
            )


if __name__ == "__main__":
    main()
