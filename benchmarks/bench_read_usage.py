"""Benchmark: read 1,000,000 usage events from CSV and from JSON Lines.

Prints rows per second for ``read_usage`` (the columnar reader) and the ratio
against the row-by-row reference reader run in the same process. The CSV is
the one ``bench_simulate.py`` replays (a year of requests: timestamp, ccu,
project_id; ``\\r\\n`` line ends, as ``csv.writer`` writes them); the JSONL file
holds the same events with ``ccu`` as exact decimal text. A third file writes
``ccu`` as bare JSON numbers, which are parsed again exactly (never as floats).

The reference is slow, so it reads the first ``--sample`` rows of each file;
its time is extrapolated per row to the whole file, and the output says so.
On that sample both readers are checked to give equal logs. Times are the best
of ``--repeat`` runs, wall clock and CPU (the CPU time is what the process
itself spent, which matters on a shared machine).

    python3 benchmarks/bench_read_usage.py [--events N] [--sample N] [--repeat N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulate import generate

from codex_credits import read_usage
from codex_credits.core.usage import UsageLog
from codex_credits.io.usagerows import read_rows_reference


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The best (wall, CPU) seconds of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def to_jsonl(source: Path, target: Path, *, numbers: bool) -> None:
    with source.open(newline="", encoding="utf-8") as inp, target.open("w") as out:
        for row in csv.DictReader(inp):
            text = json.dumps(row)
            if numbers:  # "ccu": "0.115002" -> "ccu": 0.115002
                text = text.replace(f'"ccu": "{row["ccu"]}"', f'"ccu": {row["ccu"]}')
            out.write(text + "\n")


def head(source: Path, target: Path, lines: int) -> None:
    with source.open("rb") as inp, target.open("wb") as out:
        out.writelines(islice(inp, lines))


def same(a: UsageLog, b: UsageLog) -> bool:
    names = ("ts_us", "ccu_micro", "has_ccu", "sandbox_micro_minutes", "project_id")
    return (
        a.summary == b.summary
        and all(np.array_equal(a.column(n), b.column(n)) for n in names)
        and a.labels("project_id") == b.labels("project_id")
    )


def measure(label: str, path: Path, fmt: Literal["csv", "jsonl"], sample: int, repeat: int) -> None:
    n = read_usage(path).summary.rows
    wall, cpu = best(lambda: read_usage(path), repeat)
    part = path.with_name(f"sample-{sample}-{path.name}")
    head(path, part, sample + (1 if fmt == "csv" else 0))
    reference_log = read_rows_reference(part, fmt)
    assert same(read_usage(part), reference_log), "the readers must agree"
    m = reference_log.summary.rows
    ref_wall, ref_cpu = best(lambda: read_rows_reference(part, fmt), 1)
    full_wall, full_cpu = ref_wall / m * n, ref_cpu / m * n
    print(
        f"{label:<22} {n:>9,} rows  read_usage {wall:6.2f} s wall ({n / wall:>9,.0f} rows/s), "
        f"{cpu:6.2f} s CPU ({n / cpu:>9,.0f} rows/s)"
    )
    print(
        f"{'':<22} reference row reader on the first {m:,} rows: {ref_wall:.2f} s wall, "
        f"{ref_cpu:.2f} s CPU; extrapolated to {n:,} rows: {full_wall:.1f} s wall, "
        f"{full_cpu:.1f} s CPU"
    )
    print(
        f"{'':<22} ratio reference / read_usage: {full_wall / wall:.1f}x wall, "
        f"{full_cpu / cpu:.1f}x CPU (equal logs checked on the sample)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000, help="rows for the reference")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for read_usage")
    parser.add_argument("--keep", type=Path, help="keep the files here (reused when they exist)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / f"usage-{args.events}.csv"
        jsonl_path = folder / f"usage-{args.events}.jsonl"
        numbers_path = folder / f"usage-{args.events}-numbers.jsonl"
        if not csv_path.exists():
            generate(csv_path, args.events)
        if not jsonl_path.exists():
            to_jsonl(csv_path, jsonl_path, numbers=False)
        if not numbers_path.exists():
            to_jsonl(csv_path, numbers_path, numbers=True)
        sample = min(args.sample, args.events)
        measure("csv", csv_path, "csv", sample, args.repeat)
        measure("jsonl", jsonl_path, "jsonl", sample, args.repeat)
        measure("jsonl, ccu as numbers", numbers_path, "jsonl", sample, args.repeat)


if __name__ == "__main__":
    main()
