"""Print a check result: an aligned table, Markdown for a pull request, or GitHub
workflow annotations; and compare it with a saved JSON report (``--baseline``)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from codex_credits.check.result import CheckResult, Status, jsonable
from codex_credits.configfile import parse_document, read_text
from codex_credits.errors import ConfigError

__all__ = ["BaselineDiff", "diff_baseline", "load_baseline", "render"]

_ICON = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌"}
_HEADLINE_FIGURES = ("spent", "amount", "p90", "expected_overage_cost", "total", "balance")

BaselineDiff = dict[str, dict[str, Any]]
"""Per rule name: ``status`` (was, now) and ``figures`` {name: (was, now, change)}."""


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A JSON report written by ``codex-credits check --format json``.

    Raises:
        ConfigError: the file is missing (the message says how to create it),
            unreadable, not JSON, or not a check report.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"baseline {path} does not exist; create it with "
            f"`codex-credits check ... --write-baseline {path}` "
            f"(or `codex-credits check ... --format json > {path}`)"
        )
    data = parse_document(read_text(path, "baseline"), "json", f"baseline {path}")
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"baseline {path} is not a check report (no 'rules' list)")
    return data


def diff_baseline(result: CheckResult, baseline: dict[str, Any]) -> BaselineDiff:
    """What changed, rule by rule, since the baseline report."""
    before = {rule.get("name"): rule for rule in baseline["rules"] if isinstance(rule, dict)}
    diff: BaselineDiff = {}
    for rule in result.rules:
        old = before.get(rule.name)
        if old is None:
            diff[rule.name] = {"status": (None, rule.status.value), "figures": {}}
            continue
        figures: dict[str, tuple[str, str, str]] = {}
        now = jsonable(rule.figures)
        for key, value in now.items():
            was = old.get("figures", {}).get(key)
            change = _change(was, value)
            if change is not None and change != "0":
                figures[key] = (str(was), str(value), change)
        if figures or old.get("status") != rule.status.value:
            diff[rule.name] = {"status": (old.get("status"), rule.status.value), "figures": figures}
    for name in before:
        if name not in {r.name for r in result.rules}:
            diff[str(name)] = {"status": (before[name].get("status"), None), "figures": {}}
    return diff


def _change(was: Any, now: Any) -> str | None:
    if not isinstance(was, str | int) or not isinstance(now, str | int):
        return None
    if isinstance(was, bool) or isinstance(now, bool):
        return None
    try:
        delta = Decimal(str(now)) - Decimal(str(was))
    except InvalidOperation:
        return None
    return f"{delta:+f}" if delta else "0"


def render(result: CheckResult, fmt: str, diff: BaselineDiff | None = None) -> str:
    """The result as ``table``, ``markdown`` or ``github`` text."""
    if fmt == "json":
        data = result.to_json()
        if diff is not None:
            data["baseline"] = {
                name: {
                    "status": {"was": d["status"][0], "now": d["status"][1]},
                    "figures": {
                        k: {"was": w, "now": n, "change": c}
                        for k, (w, n, c) in d["figures"].items()
                    },
                }
                for name, d in diff.items()
            }
        return json.dumps(data, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return _markdown(result, diff)
    if fmt == "github":
        return _github(result) + "\n\n" + _markdown(result, diff)
    return _table(result, diff)


def _summary(result: CheckResult) -> str:
    counts = result.counts
    verdict = "PASSED" if result.passed else "FAILED"
    return (
        f"codex-credits check {verdict} at {jsonable(result.at)}: "
        f"{counts[Status.PASS]} pass, {counts[Status.WARN]} warn, {counts[Status.FAIL]} fail"
    )


def _table(result: CheckResult, diff: BaselineDiff | None) -> str:
    lines = [_summary(result), ""]
    width = max((len(rule.name) for rule in result.rules), default=4)
    for rule in result.rules:
        lines.append(f"{rule.status.value.upper():<4}  {rule.name:<{width}}  {rule.message}")
    if diff:
        lines += ["", "Changes since the baseline:"]
        lines += [f"  {line}" for line in _diff_lines(diff)]
    return "\n".join(lines)


def _markdown(result: CheckResult, diff: BaselineDiff | None) -> str:
    icon = "✅" if result.passed else "❌"
    lines = [
        f"### {icon} {_summary(result)}",
        "",
        "| | rule | kind | message |",
        "|---|---|---|---|",
    ]
    for rule in result.rules:
        message = rule.message.replace("|", "\\|")
        lines.append(f"| {_ICON[rule.status]} | `{rule.name}` | {rule.kind} | {message} |")
    if diff:
        lines += ["", "<details><summary>Changes since the baseline</summary>", ""]
        lines += ["| rule | figure | was | now | change |", "|---|---|---:|---:|---:|"]
        for name, d in diff.items():
            was, now = d["status"]
            if was != now:
                lines.append(f"| `{name}` | status | {was} | {now} | |")
            for key, (w, n, c) in d["figures"].items():
                lines.append(f"| `{name}` | {key} | {w} | {n} | {c} |")
        lines += ["", "</details>"]
    return "\n".join(lines)


def _github(result: CheckResult) -> str:
    lines = []
    for rule in result.rules:
        if rule.status is Status.PASS:
            continue
        level = "error" if rule.status is Status.FAIL else "warning"
        message = rule.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        title = rule.name.replace(":", "%3A").replace(",", "%2C")
        lines.append(f"::{level} title=codex-credits {title}::{message}")
    lines.append(f"::notice title=codex-credits::{_summary(result)}")
    return "\n".join(lines)


def _diff_lines(diff: BaselineDiff) -> list[str]:
    out = []
    for name, d in diff.items():
        was, now = d["status"]
        parts = [] if was == now else [f"status {was} -> {now}"]
        parts += [
            f"{k} {w} -> {n} ({c})"
            for k, (w, n, c) in d["figures"].items()
            if k in _HEADLINE_FIGURES or len(d["figures"]) <= 3
        ]
        if parts:
            out.append(f"{name}: " + "; ".join(parts))
    return out
