"""``codex-credits access``: governance reports from the policy's organisation and the audit log.

Spend and denials per team, key, user or role (from the audit log), keys
unused for N days, keys with broad scopes, and agents whose owner left
(docs/governance.md). Exit 1 with ``--fail-on-findings`` when a hygiene
finding is present, so CI can hold the line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from codex_credits.check.policy import load_policy
from codex_credits.cli.args import add_format, instant_arg, non_negative_int
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, write_json
from codex_credits.errors import ConfigError
from codex_credits.governance.auditfile import read_entries
from codex_credits.governance.reports import (
    access_summary,
    broad_keys,
    orphaned_agents,
    unused_keys,
)

NAME = "access"
HELP = "governance report: spend and denials per team/key/user/role, idle and broad keys, orphaned agents"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=Path("."), metavar="FILE")
    parser.add_argument("--audit", type=Path, metavar="LOG", help="the audit log (JSON Lines)")
    parser.add_argument("--at", type=instant_arg, metavar="ISO", help="instant of the report")
    parser.add_argument(
        "--by", choices=("team", "key", "user", "role"), action="append", help="summary dimension"
    )
    parser.add_argument("--unused-days", type=non_negative_int, default=30, metavar="N")
    parser.add_argument("--fail-on-findings", action="store_true")
    add_format(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    policy = load_policy(args.policy)
    org = policy.organisation
    if org is None:
        raise ConfigError(f"{args.policy} has no [organisation] table")
    entries = [e for _, e in read_entries(args.audit)] if args.audit else []
    if args.at is None:
        if not entries:
            raise ConfigError("give --at (or an --audit log, whose last entry sets it)")
        at = max(e.at for e in entries)
    else:
        at = args.at
    report: dict[str, Any] = {
        "at": at,
        "summary": {
            by: access_summary(entries, by) for by in args.by or ("team", "key", "user", "role")
        },
        "unused_keys": unused_keys(org, entries, at, args.unused_days),
        "broad_keys": broad_keys(org, at),
        "orphaned_agents": orphaned_agents(org, at),
    }
    findings = (
        len(report["unused_keys"]) + len(report["broad_keys"]) + len(report["orphaned_agents"])
    )
    if args.format == "json":
        write_json(report, out)
    else:
        for table in _tables(report, args.unused_days):
            out.write(table.render(args.format) + "\n\n")
    return ExitCode.CHECK_FAILED if args.fail_on_findings and findings else ExitCode.OK


def _tables(report: dict[str, Any], days: int) -> list[Table]:
    tables = []
    for by, rows in report["summary"].items():
        table = Table([by, "tasks", "spend_ccu", "decisions", "denials"], title=f"per {by}")
        for r in rows:
            table.add(r.value, r.tasks, r.spend_ccu, r.decisions, r.denials)
        tables.append(table)
    unused = Table(
        ["key", "owner", "last_used", "idle_days"], title=f"keys unused for {days}+ days"
    )
    for u in report["unused_keys"]:
        unused.add(u.key_id, u.owner, u.last_used, u.idle_days)
    broad = Table(["key", "owner", "broad_scopes"], title="keys with broad scopes")
    for b in report["broad_keys"]:
        broad.add(b.key_id, b.owner, ", ".join(b.broad))
    orphans = Table(["agent", "owner", "left_at", "live_keys"], title="agents whose owner left")
    for o in report["orphaned_agents"]:
        orphans.add(o.agent, o.owner, o.left_at, ", ".join(o.live_keys))
    return [*tables, unused, broad, orphans]
