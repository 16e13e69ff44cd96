"""Print a check result: an aligned table, Markdown for a pull request, or GitHub
workflow annotations; and compare it with a saved JSON report (``--baseline``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from codex_credits.check.result import CheckResult, Status, jsonable
from codex_credits.configfile import parse_document, read_text
from codex_credits.errors import ConfigError
from codex_credits.escape import markdown, markdown_code, terminal, workflow_data, workflow_property
from codex_credits.limits import MAX_AMOUNT

__all__ = [
    "BaselineDiff",
    "diff_baseline",
    "load_baseline",
    "render",
    "report_json",
    "write_summary",
]

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


def _figures(rule: dict[str, Any]) -> dict[str, Any]:
    figures = rule.get("figures")
    return figures if isinstance(figures, dict) else {}


def diff_baseline(result: CheckResult, baseline: dict[str, Any]) -> BaselineDiff:
    """What changed, rule by rule, since the baseline report.

    A baseline is data: rules that are not objects, names that are not text and
    figures that are not numbers are ignored, never trusted.
    """
    before = {
        rule["name"]: rule
        for rule in baseline["rules"]
        if isinstance(rule, dict) and isinstance(rule.get("name"), str)
    }
    diff: BaselineDiff = {}
    for rule in result.rules:
        old = before.get(rule.name)
        if old is None:
            diff[rule.name] = {"status": (None, rule.status.value), "figures": {}}
            continue
        figures: dict[str, tuple[str, str, str]] = {}
        now = jsonable(rule.figures)
        for key, value in now.items():
            was = _figures(old).get(key)
            change = _change(was, value)
            if change is not None and change != "0":
                figures[key] = (str(was), str(value), change)
        if figures or old.get("status") != rule.status.value:
            diff[rule.name] = {"status": (_status(old), rule.status.value), "figures": figures}
    names = {r.name for r in result.rules}
    for name, old in before.items():
        if name not in names:
            diff[name] = {"status": (_status(old), None), "figures": {}}
    return diff


def _status(rule: dict[str, Any]) -> str | None:
    status = rule.get("status")
    return status if isinstance(status, str) else None


def _change(was: Any, now: Any) -> str | None:
    if not isinstance(was, str | int) or not isinstance(now, str | int):
        return None
    if isinstance(was, bool) or isinstance(now, bool):
        return None
    try:
        old, new = Decimal(str(was)[:100]), Decimal(str(now)[:100])
        if not (old.is_finite() and new.is_finite()):
            return None
        if max(abs(old), abs(new)) > MAX_AMOUNT:
            return None
        delta = new - old
    except ArithmeticError:
        return None
    return f"{delta:+f}" if delta else "0"


def render(result: CheckResult, fmt: str, diff: BaselineDiff | None = None) -> str:
    """The result as ``table``, ``json``, ``markdown`` or ``github`` text.

    ``github`` is the workflow annotations alone (one line each); the Markdown
    report goes to the step summary (see :func:`write_summary`). Every text
    that came from data is escaped for its medium (:mod:`codex_credits.escape`).
    """
    if fmt == "json":
        return report_json(result, diff)
    if fmt == "markdown":
        return _markdown(result, diff)
    if fmt == "github":
        return _github(result)
    return _table(result, diff)


def report_json(result: CheckResult, diff: BaselineDiff | None = None) -> str:
    """The JSON report (the shape ``--baseline`` reads back)."""
    data = result.to_json()
    if diff is not None:
        data["baseline"] = {
            name: {
                "status": {"was": d["status"][0], "now": d["status"][1]},
                "figures": {
                    k: {"was": w, "now": n, "change": c} for k, (w, n, c) in d["figures"].items()
                },
            }
            for name, d in diff.items()
        }
    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the data: keep the JSON writable
        text = json.dumps(data, indent=2, ensure_ascii=True)
    return text


def write_summary(
    result: CheckResult, diff: BaselineDiff | None, path: Path, *, append: bool = False
) -> None:
    """Write the Markdown report to ``path``; ``append`` for GitHub's ``$GITHUB_STEP_SUMMARY``."""
    with path.open("a" if append else "w", encoding="utf-8") as summary:
        summary.write(_markdown(result, diff) + "\n")


def _summary(result: CheckResult) -> str:
    counts = result.counts
    verdict = "PASSED" if result.passed else "FAILED"
    return (
        f"codex-credits check {verdict} at {jsonable(result.at)}: "
        f"{counts[Status.PASS]} pass, {counts[Status.WARN]} warn, {counts[Status.FAIL]} fail"
    )


def _table(result: CheckResult, diff: BaselineDiff | None) -> str:
    """One line per rule, its message wrapped under itself to the terminal's width."""
    from codex_credits.cli.output import terminal_width, wrapped

    lines = [*wrapped(_summary(result)), ""]
    names = [terminal(rule.name) for rule in result.rules]
    width = max((len(name) for name in names), default=4)
    for rule, name in zip(result.rules, names, strict=True):
        head = f"{rule.status.value.upper():<4}  {name:<{width}}  "
        lines += wrapped(terminal(rule.message), head, " " * min(len(head), terminal_width() // 2))
    if diff:
        lines += ["", "Changes since the baseline:"]
        for line in _diff_lines(diff):
            lines += wrapped(terminal(line), "  ", "    ")
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
        lines.append(
            f"| {_ICON[rule.status]} | {markdown_code(rule.name)} | {markdown(rule.kind)} "
            f"| {markdown(rule.message)} |"
        )
    if diff:
        lines += ["", "<details><summary>Changes since the baseline</summary>", ""]
        lines += ["| rule | figure | was | now | change |", "|---|---|---:|---:|---:|"]
        for name, d in diff.items():
            was, now = d["status"]
            if was != now:
                lines.append(
                    f"| {markdown_code(name)} | status | {markdown(str(was))} | {markdown(str(now))} | |"
                )
            for key, (w, n, c) in d["figures"].items():
                cells = " | ".join(markdown(str(x)) for x in (key, w, n, c))
                lines.append(f"| {markdown_code(name)} | {cells} |")
        lines += ["", "</details>"]
    return "\n".join(lines)


def _github(result: CheckResult) -> str:
    lines = []
    for rule in result.rules:
        if rule.status is Status.PASS:
            continue
        level = "error" if rule.status is Status.FAIL else "warning"
        title = workflow_property(f"codex-credits {rule.name}")
        lines.append(f"::{level} title={title}::{workflow_data(rule.message)}")
    lines.append(f"::notice title=codex-credits::{workflow_data(_summary(result))}")
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
