"""Rendering a :class:`~codex_credits.core.reports.Report` in every output format."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from codex_credits.cli.output import Table, write_json
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report
from codex_credits.core.usage import UsageLog
from codex_credits.errors import UnknownModelError

__all__ = ["add_tz", "load_tz", "price_known", "render_report", "report_table"]

_TOKEN_HEADERS = ("input", "cached input", "output", "reasoning")


def add_tz(parser: argparse.ArgumentParser) -> None:
    """``--tz ZONE``: the time zone of day/week/month buckets (UTC by default)."""
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone for days (default UTC)")


def load_tz(args: argparse.Namespace) -> tzinfo | None:
    """The zone named by ``--tz``, or None for UTC."""
    name = getattr(args, "tz", None)
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"--tz: unknown time zone {name!r}") from None


def price_known(log: UsageLog, card: RateCard) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Every event's amount; events whose model the card does not price get 0.

    Returns the amounts and the unpriced models, which the caller must show:
    a model off the card is reported, never silently free.
    """
    if card.meters is not None or card.fallback_model is not None:
        return log.amounts_micro(card), []
    table = log.labels("model")
    unknown_codes = []
    for code, name in enumerate(table):
        try:
            card.model_rates(name)
        except UnknownModelError:
            unknown_codes.append(code)
    codes = log.column("model")
    unknown = np.isin(codes, unknown_codes) & ~log.column("has_ccu")
    if not unknown.any():
        return log.amounts_micro(card), []
    amounts = np.zeros(len(log), dtype=np.int64)
    known = np.flatnonzero(~unknown)
    if known.size:
        amounts[known] = log.take(known).amounts_micro(card)
    models = sorted(
        {table[c] or "(no model)" for c in unknown_codes if np.any(codes[unknown] == c)}
    )
    return amounts, models


def report_table(report: Report, *, tokens: bool = False, title: str | None = None) -> Table:
    """A table of the report's rows, ending in a total row."""
    columns = [report.by, report.unit, "share %", "events"]
    if tokens:
        columns += list(_TOKEN_HEADERS)
    requested = report.requested is not None
    if requested:
        columns.append(f"requested {report.unit}")
    allocated = report.allocated_usd is not None
    if allocated:
        columns += ["subscription USD", "overage USD", "allocated USD"]
    table = Table(columns, title=title)
    for row in report.rows:
        cells: list[Any] = [row.key, row.total, row.share_pct, row.events]
        if tokens:
            cells += [
                row.input_tokens,
                row.cached_input_tokens,
                row.output_tokens,
                row.reasoning_output_tokens,
            ]
        if requested:
            cells.append(row.requested)
        if allocated:
            cells += [row.subscription_usd, row.overage_usd, row.allocated_usd]
        table.add(*cells)
    if report.rows:
        sums: list[Any] = [
            "total",
            report.total,
            sum(r.share_pct for r in report.rows),
            report.events,
        ]
        if tokens:
            sums += [
                sum(r.input_tokens or 0 for r in report.rows),
                sum(r.cached_input_tokens or 0 for r in report.rows),
                sum(r.output_tokens or 0 for r in report.rows),
                sum(r.reasoning_output_tokens or 0 for r in report.rows),
            ]
        if requested:
            sums.append(report.requested)
        if allocated:
            sums += [report.subscription_usd, report.overage_usd, report.allocated_usd]
        table.add(*sums)
    return table


def render_report(
    report: Report,
    fmt: str,
    out: TextIO,
    *,
    tokens: bool = False,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    sections: Sequence[Table] = (),
) -> None:
    """Write ``report`` as JSON (with ``extra`` keys) or as a table plus ``sections``."""
    if fmt == "json":
        data = report.to_data()
        data.update(extra or {})
        write_json(data, out)
        return
    if fmt == "csv":  # one table only: the rows
        out.write(report_table(report, tokens=tokens).render("csv") + "\n")
        return
    parts = [report_table(report, tokens=tokens, title=title).render(fmt)]
    parts += [section.render(fmt) for section in sections]
    out.write("\n\n".join(parts) + "\n")
