"""``codex-credits audit``: verify, export and prune the audit trail (docs/audit.md).

* ``verify LOG``: exit 0 when the chain is intact, 1 naming the first broken
  entry, 3 when the file cannot be read. With a key (``--key-env VAR`` or
  ``--key-file FILE``) checkpoint signatures are checked too.
* ``export LOG``: entries filtered by time, user and repository, as a table,
  CSV, JSON or Markdown (the GDPR question: which repositories, when, for whom).
* ``prune LOG --before ISO``: retention, cutting at a checkpoint.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TextIO

from codex_credits.cli.args import add_format, instant_arg
from codex_credits.cli.exitcodes import ExitCode
from codex_credits.cli.output import Table, wrapped, write_json
from codex_credits.errors import ConfigError
from codex_credits.governance.audit import AuditEntry
from codex_credits.governance.auditfile import prune_log, read_entries
from codex_credits.governance.auditverify import verify_log

NAME = "audit"
HELP = "verify, export or prune a tamper-evident audit log"

COLUMNS = (
    "seq",
    "at",
    "kind",
    "actor",
    "owner",
    "key_id",
    "roles",
    "team",
    "action",
    "repositories",
    "files",
    "tools",
    "model",
    "ccu",
    "outcome",
    "reasons",
    "task_id",
    "thread_id",
    "session_id",
    "instruction_digest",
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="prove the log intact or name the first broken entry")
    verify.add_argument("log", type=Path, metavar="LOG")
    verify.add_argument("--head", metavar="HASH", help="a head hash kept elsewhere")
    _add_key(verify)
    add_format(verify, "table", "json")
    export = sub.add_parser("export", help="entries filtered by time, user and repository")
    export.add_argument("log", type=Path, metavar="LOG")
    export.add_argument("--since", type=instant_arg, metavar="ISO", help="from this instant")
    export.add_argument("--until", type=instant_arg, metavar="ISO", help="before this instant")
    export.add_argument("--user", action="append", default=[], help="actor or owner (repeatable)")
    export.add_argument(
        "--repository", action="append", default=[], help="a repository or pattern (repeatable)"
    )
    export.add_argument("--kind", choices=("decision", "task", "checkpoint"), action="append")
    add_format(export, "table", "csv", "json", "markdown")
    prune = sub.add_parser("prune", help="drop entries older than an instant, at a checkpoint")
    prune.add_argument("log", type=Path, metavar="LOG")
    prune.add_argument("--before", type=instant_arg, required=True, metavar="ISO")
    add_format(prune, "table", "json")


def _add_key(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--key-env", metavar="VAR", help="environment variable holding the key")
    group.add_argument("--key-file", type=Path, metavar="FILE", help="file holding the key")


def _key(args: argparse.Namespace) -> bytes | None:
    if args.key_env:
        value = os.environ.get(args.key_env)
        if not value:
            raise ConfigError(f"environment variable {args.key_env} is not set")
        return value.encode()
    if args.key_file:
        path: Path = args.key_file
        try:
            return path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from None
    return None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.audit_command == "verify":
        return _verify(args, out)
    if args.audit_command == "export":
        return _export(args, out)
    result = prune_log(args.log, args.before)
    if args.format == "json":
        write_json(result, out)
    else:
        text = (
            f"pruned {result.removed} entries before {args.before.isoformat()}; "
            f"{result.kept} kept, from seq {result.first_seq}"
        )
        out.write("\n".join(wrapped(text, rest="  ")) + "\n")
    return ExitCode.OK


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    key = _key(args)
    result = verify_log(args.log, key=key, head=args.head)
    if args.format == "json":
        write_json(result, out)
    elif result.ok:
        signed = f", {result.signed_checkpoints} signed" if key is not None else ""
        start = f" from checkpoint seq {result.first_seq}" if result.anchored else ""
        torn = " (a torn last line was ignored)" if result.torn_tail else ""
        text = (
            f"{args.log}: intact{start}: {result.entries} entries, "
            f"{result.checkpoints} checkpoints{signed}{torn}"
        )
        out.write("\n".join(wrapped(text, rest="  ")) + "\n")
    else:
        assert result.broken is not None
        text = (
            f"{args.log}: BROKEN at line {result.broken.line} (entry {result.broken.seq}, "
            f"{result.broken.kind.value}): {result.broken.message}"
        )
        out.write("\n".join(wrapped(text, rest="  ")) + "\n")
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def selected(
    entries: Iterable[tuple[int, AuditEntry]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    users: Iterable[str] = (),
    repositories: Iterable[str] = (),
    kinds: Iterable[str] | None = None,
) -> list[tuple[int, AuditEntry]]:
    """Entries in ``[since, until)``, by one of ``users`` (actor or owner), touching one
    of ``repositories`` (patterns), of one of ``kinds``."""
    users, repositories = set(users), tuple(repositories)
    kinds = set(kinds) if kinds else None
    out = []
    for seq, e in entries:
        if since is not None and e.at < since:
            continue
        if until is not None and e.at >= until:
            continue
        if users and e.actor not in users and e.owner not in users:
            continue
        if repositories and not any(
            fnmatchcase(r, p) for r in e.repositories for p in repositories
        ):
            continue
        if kinds is not None and e.kind not in kinds:
            continue
        out.append((seq, e))
    return out


def _row(seq: int, e: AuditEntry) -> dict[str, Any]:
    data = e.model_dump()
    data["seq"] = seq
    return {name: data.get(name) for name in COLUMNS}


def _export(args: argparse.Namespace, out: TextIO) -> int:
    rows = [
        _row(seq, e)
        for seq, e in selected(
            read_entries(args.log),
            since=args.since,
            until=args.until,
            users=args.user,
            repositories=args.repository,
            kinds=args.kind,
        )
    ]
    if args.format == "json":
        write_json(rows, out)
        return ExitCode.OK
    table = Table(list(COLUMNS), title=None if args.format == "csv" else f"{args.log}")
    for row in rows:
        table.add(*(_cell(row[c]) for c in COLUMNS))
    out.write(table.render(args.format) + "\n")
    return ExitCode.OK


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value
