"""``codex-credits usage``: total usage by day, hour, user, project or task type.

Reads a usage file (``--usage``) or the usage API (``--from-api --start --end``).
From the API, amounts are the server's ``compute_units_consumed`` summed
exactly and tasks are its ``num_tasks``; from a file, events are priced on the
card and each event is one task.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from codex_credits.cli.args import add_card, add_format, load_card
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.cli.usage_source import (
    UsageSource,
    add_usage_source,
    load_usage_source,
    report_reading,
)
from codex_credits.core.timeutil import from_epoch
from codex_credits.core.units import ZERO, from_micro, quantize_ccu
from codex_credits.io.usagesummary import summarize_usage

NAME = "usage"
HELP = "total usage (CCU, tasks, meters) by day, hour, user, project or task type"

_BY = ("day", "hour", "user", "project", "task_type", "total")
_COUNTS = ("tasks", "reasoning_tokens", "tool_calls", "output_tokens")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", choices=_BY, default="day", help="how to group the totals (default day)"
    )
    add_card(parser)
    add_format(parser)
    add_usage_source(parser)


@dataclass
class _Totals:
    ccu: Decimal = ZERO
    tasks: int = 0
    reasoning_tokens: int = 0
    tool_calls: int = 0
    output_tokens: int = 0
    sandbox_minutes: Decimal = ZERO

    def add(self, other: _Totals) -> None:
        self.ccu += other.ccu
        self.sandbox_minutes += other.sandbox_minutes
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def json(self) -> dict[str, Any]:
        return {
            "ccu": _exact(self.ccu),
            "tasks": self.tasks,
            "reasoning_tokens": self.reasoning_tokens,
            "tool_calls": self.tool_calls,
            "sandbox_minutes": self.sandbox_minutes,
            "output_tokens": self.output_tokens,
        }


def _exact(value: Decimal) -> Decimal:
    """Six places, as every CCU figure, unless that would round a server's exact sum."""
    quantized = quantize_ccu(value)
    return quantized if quantized == value else value


@dataclass(frozen=True)
class _Record:
    at: datetime
    user_id: str | None
    project_id: str | None
    task_type: str | None
    totals: _Totals


def _records(source: UsageSource, args: argparse.Namespace) -> Iterator[_Record]:
    if source.buckets is not None:
        for bucket in source.buckets:
            at = from_epoch(bucket.start_time)
            for r in bucket.results:
                yield _Record(
                    at,
                    r.user_id,
                    r.project_id,
                    r.task_type,
                    _Totals(
                        r.compute_units_consumed,
                        r.num_tasks,
                        r.reasoning_tokens,
                        r.tool_calls,
                        r.output_tokens,
                        r.sandbox_minutes,
                    ),
                )
        return
    log = source.log
    amounts = log.amounts_micro(load_card(args)).tolist()
    for event, micro in zip(log, amounts, strict=True):
        yield _Record(
            event.timestamp,
            event.user_id,
            event.project_id,
            event.task_type,
            _Totals(
                from_micro(micro),
                1,
                event.reasoning_tokens,
                event.tool_calls,
                event.output_tokens,
                event.sandbox_minutes,
            ),
        )


_KEYS: dict[str, Callable[[_Record], str | None]] = {
    "day": lambda r: r.at.date().isoformat(),
    "hour": lambda r: r.at.strftime("%Y-%m-%dT%H:00Z"),
    "user": lambda r: r.user_id,
    "project": lambda r: r.project_id,
    "task_type": lambda r: r.task_type,
    "total": lambda r: "total",
}


_DIMENSION = {"user": "user_id", "project": "project_id"}


def _from_file(args: argparse.Namespace, err: TextIO) -> dict[str | None, _Totals]:
    """Totals of a usage file, summarised chunk by chunk in bounded memory."""
    path = args.usage
    summary = summarize_usage(
        path, load_card(args), by=_DIMENSION.get(args.by, args.by), strict=not args.lenient
    )
    report_reading(summary.summary, path, err)
    return {
        key: _Totals(
            from_micro(t.ccu_micro),
            t.tasks,
            t.reasoning_tokens,
            t.tool_calls,
            t.output_tokens,
            from_micro(t.sandbox_micro_minutes).normalize() if t.sandbox_micro_minutes else ZERO,
        )
        for key, t in summary.groups.items()
    }


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    groups: dict[str | None, _Totals] = {}
    total = _Totals()
    if args.usage is not None and not args.from_api:
        source = None
        groups = _from_file(args, err)
        for totals in groups.values():
            total.add(totals)
    else:
        source = load_usage_source(args, err)
        key_of = _KEYS[args.by]
        for record in _records(source, args):
            groups.setdefault(key_of(record), _Totals()).add(record.totals)
            total.add(record.totals)
    from_api = source is not None and source.buckets is not None
    keys = sorted(groups, key=lambda k: (k is None, k or ""))
    label = {"user": "user_id", "project": "project_id"}.get(args.by, args.by)
    if args.format == "json":
        data: dict[str, Any] = {
            "source": "api" if from_api else "file",
            "by": args.by,
            "rows": [{label: k, **groups[k].json()} for k in keys],
            "total": total.json(),
        }
        if source is not None and source.buckets is not None:
            data.update(
                start=args.start, end=args.end, bucket_width=args.bucket_width, pages=source.pages
            )
        write_json(data, out)
        return ExitCode.OK
    table = Table(
        [label, "CCU", "tasks", "reasoning tokens", "tool calls", "sandbox min", "output tokens"],
        title=None if args.format == "csv" else f"usage by {args.by}",
    )

    def add(name: str | None, t: _Totals) -> None:
        table.add(
            name,
            _exact(t.ccu),
            t.tasks,
            t.reasoning_tokens,
            t.tool_calls,
            t.sandbox_minutes,
            t.output_tokens,
        )

    for k in keys:
        add(k, groups[k])
    if args.by != "total" and args.format != "csv":
        add("total", total)
    out.write(table.render(args.format) + "\n")
    return ExitCode.OK
