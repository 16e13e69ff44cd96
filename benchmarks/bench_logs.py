"""Import a generated ~1 GB Codex rollout history; compare with ccusage on the same files.

    python3 benchmarks/bench_logs.py                 # 1024 MB, cached under benchmarks/_out
    python3 benchmarks/bench_logs.py --size-mb 300   # smaller
    python3 benchmarks/bench_logs.py --no-ccusage    # ours only

The history is written by codex_credits.synthetic_rollouts (every trap: repeated
totals, compaction resets, forks that replay their parent with new timestamps,
resumes that copy lines verbatim, per-response records, fast mode, old and new
rate-limit fields, torn lines). It prints:

* the plain baseline in this process: read every line and parse it with orjson;
* our import (read_codex_logs), each run in a fresh process, with 1 worker and with one per CPU: MB/s and the
  ratio to the baseline, and whether the totals equal the generator's truth;
  where the compiled scanner is built, also the Python reader alone (1 worker),
  whose summary must equal the scanner's;
* ccusage from the npm registry on the same files (``ccusage codex daily
  --json --offline`` with CODEX_HOME pointing at them): MB/s, token totals, and
  the ratio of our MB/s to its MB/s. With ``--with-js`` also the last JavaScript
  release of its Codex tool (``@ccusage/codex``, ``ccusage-codex``; about 100 s a
  run on 1 GB). ccusage is installed with npm into a folder under the system's
  temporary directory (``--npm-prefix``), never into the repository; or give an
  installed binary with ``--ccusage``. If it cannot run (no npm, no network, no
  binary for this platform), its column is left out and the reason is printed.

Runs alternate (ours, ccusage, ...) and the best of ``--repeat`` is kept, since
the machine may be shared. Generated data stays in benchmarks/_out (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from codex_credits.io import rollout_native
from codex_credits.io.rollout import find_rollout_files, read_codex_logs
from codex_credits.synthetic_rollouts import write_rollout_history

OUT = Path(__file__).resolve().parent / "_out"
DAILY = ("daily", "--json", "--offline")
CCUSAGE = ("ccusage@20.0.24", "node_modules/.bin/ccusage", ("codex", *DAILY))
CCUSAGE_JS = ("@ccusage/codex@18.0.11", "node_modules/.bin/ccusage-codex", DAILY)


def generate(size_mb: int, seed: int) -> tuple[Path, dict[str, Any]]:
    root = OUT / f"codex-home-{size_mb}mb-seed{seed}"
    marker = root / "truth.json"
    if marker.exists():
        return root, json.loads(marker.read_text())
    shutil.rmtree(root, ignore_errors=True)
    sessions = max(4, int(size_mb * 3.7))  # ~270 KB per session with its copies
    started = time.perf_counter()
    truth = write_rollout_history(root, sessions=sessions, turns=(5, 30), seed=seed)
    requests, inp, cached, out, reasoning, tools = truth.totals()
    data = {
        "files": truth.files,
        "bytes": truth.bytes,
        "bad_lines": truth.bad_lines,
        "requests": requests,
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "tool_calls": tools,
        "by_day": _truth_by_day(truth.by_day_model),
    }
    marker.write_text(json.dumps(data))
    print(
        f"generated {truth.bytes / 1e6:.0f} MB in {truth.files} files "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return root, data


def _truth_by_day(by_day_model: dict[tuple[str, str], list[int]]) -> dict[str, list[int]]:
    days: dict[str, list[int]] = {}
    for (day, _), row in by_day_model.items():
        acc = days.setdefault(day, [0, 0, 0, 0])
        for i in range(4):
            acc[i] += row[1 + i]
    return days


def baseline(root: Path) -> float:
    started = time.perf_counter()
    for path in find_rollout_files([root]):
        with path.open("rb") as handle:
            for raw in handle:
                with contextlib.suppress(orjson.JSONDecodeError):
                    orjson.loads(raw)
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (user + system)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_import(root: str, workers: int, compiled: bool) -> dict[str, Any]:
    """One import, timed in this process: wall and CPU seconds, and the summary's repr.

    ``compiled=False`` reads every file with the Python reader.
    """
    if not compiled:
        rollout_native._native = None  # type: ignore[misc]
    spent, started = cpu_seconds(), time.perf_counter()
    result = read_codex_logs(root, workers=workers)
    wall, spent = time.perf_counter() - started, cpu_seconds() - spent
    return {"wall": wall, "cpu": spent, "summary": repr(result.summary)}


def ours(root: Path, workers: int, *, compiled: bool = True) -> tuple[float, float, str]:
    """Our import timed in a fresh process (:func:`time_import` run by this script).

    A fresh process for each run, as ccusage gets: the memory this benchmark
    has used before (the baseline, earlier runs) would otherwise slow the
    forking of worker processes. Returns the summary's repr too, to compare readers.
    """
    flag = "1" if compiled else "0"
    argv = [sys.executable, __file__, "--time-import", str(root), str(workers), flag]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    return data["wall"], data["cpu"], data["summary"]


def install(spec: str, binary: str, npm_prefix: Path) -> tuple[Path | None, str]:
    prefix = npm_prefix / spec.replace("/", "_").replace("@", "_")
    exe = prefix / binary
    if exe.exists():
        return exe, ""
    if shutil.which("npm") is None:
        return None, "npm is not installed"
    prefix.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), spec],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not exe.exists():
        return None, f"npm install {spec} failed: {proc.stderr.strip().splitlines()[-1:]}"
    probe = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:  # e.g. no native binary for this platform
        return None, f"{spec} is installed but does not run: {probe.stderr.strip()[:200]}"
    return exe, ""


def run_tool(
    exe: Path, argv: tuple[str, ...], root: Path
) -> tuple[float, float, dict[str, Any] | None, str]:
    env = dict(os.environ, CODEX_HOME=str(root), NO_COLOR="1")
    cpu = cpu_seconds()
    started = time.perf_counter()
    proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    if proc.returncode != 0:
        return wall, cpu, None, (proc.stderr or proc.stdout).strip()[:300]
    try:
        return wall, cpu, json.loads(proc.stdout), ""
    except json.JSONDecodeError:
        return wall, cpu, None, f"not JSON: {proc.stdout[:200]!r}"


def tool_totals(data: dict[str, Any]) -> tuple[int, int, int, int]:
    """ccusage 20 reports uncached input as inputTokens; the JS release reports all input."""
    t = data["totals"]
    if "cacheReadTokens" in t:
        cached = t["cacheReadTokens"]
        return t["inputTokens"] + cached, cached, t["outputTokens"], t["reasoningOutputTokens"]
    return t["inputTokens"], t["cachedInputTokens"], t["outputTokens"], t["reasoningOutputTokens"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-ccusage", action="store_true", help="measure ours only")
    parser.add_argument("--with-js", action="store_true", help="also the JavaScript release")
    parser.add_argument("--ccusage", type=Path, help="an installed ccusage binary to use")
    parser.add_argument(
        "--npm-prefix",
        type=Path,
        default=Path(tempfile.gettempdir()) / "codex-credits-bench-npm",
        help="where npm installs ccusage (default: under the temporary directory)",
    )
    parser.add_argument("--time-import", nargs=3, help=argparse.SUPPRESS)  # see ours()
    args = parser.parse_args()
    if args.time_import:
        root_given, workers_given, compiled_given = args.time_import
        timed = time_import(root_given, int(workers_given), compiled_given == "1")
        print(json.dumps(timed))
        return 0

    root, truth = generate(args.size_mb, args.seed)
    size_mb = truth["bytes"] / 1e6
    tools = [] if args.no_ccusage else [CCUSAGE, *([CCUSAGE_JS] if args.with_js else [])]
    exes: dict[str, tuple[Path | None, str]] = {}
    for spec, binary, _ in tools:
        if spec == CCUSAGE[0] and args.ccusage is not None:
            given = args.ccusage
            exes[spec] = (given, "") if given.exists() else (None, f"{given}: no such file")
        else:
            exes[spec] = install(spec, binary, args.npm_prefix)
    cpus = min(os.cpu_count() or 1, 8)
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    outputs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for _ in range(args.repeat):
        spent = cpu_seconds()
        wall = baseline(root)
        _keep(best, cpu, "baseline", wall, cpu_seconds() - spent)
        summaries = set()
        for workers in sorted({1, cpus}):
            wall, spent, summary = ours(root, workers)
            _keep(best, cpu, _ours(workers), wall, spent)
            summaries.add(summary)
        if rollout_native.AVAILABLE:
            wall, spent, summary = ours(root, 1, compiled=False)
            _keep(best, cpu, PYTHON_READER, wall, spent)
            summaries.add(summary)
        if len(summaries) != 1:
            raise SystemExit("the readers (workers, compiled or not) disagree on the summary")
        for spec, _, argv in tools:
            exe, why = exes[spec]
            if exe is None:
                errors[spec] = why
                continue
            if spec == CCUSAGE_JS[0] and spec in best and args.repeat > 1:
                continue  # slow: one run is enough
            wall, spent, data, why = run_tool(exe, argv, root)
            if data is None:
                errors[spec] = why
                continue
            _keep(best, cpu, spec, wall, spent)
            outputs[spec] = data

    result = read_codex_logs(root)  # once more here, for the totals and the days
    s = result.summary
    mine = (s.input_tokens, s.cached_input_tokens, s.output_tokens, s.reasoning_output_tokens)
    true = (
        truth["input_tokens"],
        truth["cached_input_tokens"],
        truth["output_tokens"],
        truth["reasoning_output_tokens"],
    )
    print(
        f"\nhistory: {size_mb:.0f} MB, {truth['files']} files, {s.lines} lines, "
        f"{truth['requests']} real requests, {truth['bad_lines']} torn lines ({root})"
    )
    print(
        f"ours: {s.requests} requests, {s.repeated_totals} repeated totals skipped, "
        f"{s.copied_requests} copied requests counted once, {s.total_resets} resets, "
        f"{s.bad_lines} bad lines reported"
    )
    built = "built" if rollout_native.AVAILABLE else "not built: the Python reader reads every file"
    print(f"compiled scanner (codex_credits._rollscan): {built}")
    title = f"reader (best of {args.repeat})"
    print(f"\n{title:34} {'seconds':>8} {'MB/s':>8} {'x baseline':>10} {'CPU s':>8}")
    for name, wall in best.items():
        print(
            f"{name:34} {wall:8.2f} {size_mb / wall:8.1f} {best['baseline'] / wall:10.2f}"
            f" {cpu[name]:8.2f}"
        )
    if CCUSAGE[0] in best:
        for workers in sorted({1, cpus}):
            ratio = best[CCUSAGE[0]] / best[_ours(workers)]
            by_cpu = cpu[CCUSAGE[0]] / cpu[_ours(workers)]
            print(
                f"{_ours(workers)} / {CCUSAGE[0]}: {ratio:.2f} (MB/s over MB/s), "
                f"{by_cpu:.2f} (by CPU seconds)"
            )
    elif tools:
        print(f"\n{CCUSAGE[0]} column left out: {errors.get(CCUSAGE[0], 'it did not run')}")
    else:
        print(f"\n{CCUSAGE[0]} column left out: --no-ccusage")
    head = f"{'input':>14} {'cached input':>14} {'output':>12} {'reasoning':>12} {'total':>14}"
    print(f"\n{'totals':34} {head}")
    rows = [("truth (generator)", true), ("codex-credits", mine)]
    for spec, _, _ in tools:
        if spec in outputs:
            rows.append((spec, tool_totals(outputs[spec])))
    for name, (i, c, o, r) in rows:
        off = 100 * ((i + o) / (true[0] + true[2]) - 1)
        flag = "" if (i, c, o, r) == true else f"   {off:+.1f}% total"
        print(f"{name:34} {i:14,} {c:14,} {o:12,} {r:12,} {i + o:14,}{flag}")
    days_ok = _days_match(result, truth)
    print(
        f"\ncodex-credits totals exact: {mine == true}; per-day exact: {days_ok}; "
        f"bad lines counted: {s.bad_lines == truth['bad_lines']}"
    )
    for spec, why in errors.items():
        print(f"{spec} could not run: {why}")
    return 0 if mine == true and days_ok and s.bad_lines == truth["bad_lines"] else 1


def _keep(
    best: dict[str, float], cpu: dict[str, float], name: str, wall: float, spent: float
) -> None:
    """Keep the best wall time of ``name`` and the least CPU time (each its own best)."""
    best[name] = min(best.get(name, 1e9), wall)
    cpu[name] = min(cpu.get(name, 1e9), spent)


PYTHON_READER = "codex-credits, Python reader (1)"


def _ours(workers: int) -> str:
    return f"codex-credits ({workers} worker{'s' if workers > 1 else ''})"


def _days_match(result: Any, truth: dict[str, Any]) -> bool:
    from codex_credits.core.ratecard import RateCard
    from codex_credits.core.reports import build_report

    report = build_report(result.log, RateCard.default(), by="day", tokens=True)
    got = {
        r.key: [r.input_tokens, r.cached_input_tokens, r.output_tokens, r.reasoning_output_tokens]
        for r in report.rows
    }
    return got == truth["by_day"]


if __name__ == "__main__":
    sys.exit(main())
