"""Benchmark: read 1,000,000 usage events from CSV and from JSON Lines.

Prints rows per second for ``read_usage`` (the columnar reader) and for the
row-by-row reference reader run on the same file in the same process, and
their ratio. The CSV is the one ``bench_simulate.py`` replays (a year of
requests: timestamp, ccu, project_id); the JSONL file holds the same events,
with ``ccu`` as exact decimal text.

    python3 benchmarks/bench_read_usage.py [--events N] [--repeat N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulate import generate  # noqa: E402

from codex_credits import read_usage  # noqa: E402
from codex_credits.io.usagerows import read_rows_reference  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def to_jsonl(source: Path, target: Path) -> None:
    with source.open(newline="", encoding="utf-8") as inp, target.open("w") as out:
        for row in csv.DictReader(inp):
            out.write(json.dumps(row) + "\n")


def measure(path: Path, fmt: Literal["csv", "jsonl"], repeat: int) -> None:
    fast_log = read_usage(path)
    reference_log = read_rows_reference(path, fmt)
    assert len(fast_log) == len(reference_log)
    assert (fast_log.column("ccu_micro") == reference_log.column("ccu_micro")).all()
    assert (fast_log.timestamps_us == reference_log.timestamps_us).all()
    n = fast_log.summary.rows
    fast = best(lambda: read_usage(path), repeat)
    reference = best(lambda: read_rows_reference(path, fmt), 1)
    print(f"{fmt:5}  {n:>9,} rows  read_usage {fast:6.2f} s ({n / fast:>11,.0f} rows/s)")
    print(
        f"{'':5}  {'':>9}       reference  {reference:6.2f} s ({n / reference:>11,.0f} rows/s)"
        f"  ratio {reference / fast:5.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for read_usage")
    parser.add_argument("--keep", type=Path, help="keep the files here (reused when they exist)")
    parser.add_argument("--format", choices=("csv", "jsonl", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / f"usage-{args.events}.csv"
        jsonl_path = folder / f"usage-{args.events}.jsonl"
        if not csv_path.exists():
            generate(csv_path, args.events)
        if args.format in ("csv", "both"):
            measure(csv_path, "csv", args.repeat)
        if args.format in ("jsonl", "both"):
            if not jsonl_path.exists():
                to_jsonl(csv_path, jsonl_path)
            measure(jsonl_path, "jsonl", args.repeat)


if __name__ == "__main__":
    main()
