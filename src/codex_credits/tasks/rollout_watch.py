"""A running Codex CLI session as guard events: the rollout log, line by line.

Theory of operation (docs/tasks/guard.md, "On a Codex CLI log"):
:func:`rollout_events` reads rollout JSON Lines as they are written (any
iterable of lines: a file being tailed, a pipe) and yields
:class:`~codex_credits.tasks.guard.GuardEvent` values, using the log
reader's own parsing of usage objects and timestamps:

* a ``token_count`` with new running totals is one model request, priced on
  the card (:class:`Metered`); a repeat with unchanged totals is skipped;
* a tool call (``function_call``, ``custom_tool_call``, ``local_shell_call``)
  is metered on a card with a tool meter; a shell command that runs tests
  (it contains the spec's ``test_filter``, or a known test runner: pytest,
  ``npm test``, ``cargo test``, ``go test``...) starts an iteration
  (:class:`IterationStarted`); a patch names the files it touches
  (:class:`FileTouched`);
* every line's timestamp is a :class:`Tick`.

:func:`watch_rollout` feeds a guard and reports where it would have stopped
the session and what the session spent after that point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from codex_credits.core.meters import Usage, price_usage
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import from_epoch_us
from codex_credits.core.units import ZERO
from codex_credits.display import Displayed
from codex_credits.io.rollout_fields import loads
from codex_credits.io.rollout_fields import parse_ts as _parse_ts
from codex_credits.io.rollout_fields import usage as _usage
from codex_credits.tasks.guard import (
    FileTouched,
    GuardEvent,
    GuardVerdict,
    IterationStarted,
    Metered,
    TaskGuard,
    Tick,
)

__all__ = ["TEST_RUNNERS", "GuardReport", "rollout_events", "watch_rollout"]

TEST_RUNNERS = re.compile(
    r"\b(pytest|py\.test|unittest|nose2|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest"
    r"|(npm|yarn|pnpm|bun)( run)? test|cargo (nextest|test)|go test|mvn( \S+)* test"
    r"|gradlew?( \S+)* test|make( \S+)* (test|check)|dotnet test|mix test|bazel test"
    r"|deno test|swift test|manage\.py test|rake test|phpunit|playwright test)\b"
    r"|\b(bash|sh|python3?)\s+\S*tests?\S*|\./\S*tests?\S*\.sh\b"
)
"""Shell commands recognised as test runs (an iteration of a test-fix loop)."""

_TOOLS = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+?)\s*$", re.MULTILINE)


def rollout_events(
    lines: Iterable[bytes | str],
    card: RateCard | None = None,
    *,
    test_filter: str | None = None,
    model: str | None = None,
) -> Iterator[tuple[int, GuardEvent]]:
    """``(line number, event)`` for each line of a rollout, as the lines arrive.

    ``model`` is assumed until the log names one (a token card needs it).
    Bad lines are skipped (the batch reader reports them).

    Raises:
        UnknownModelError: a token card does not price the session's model.
    """
    card = card if card is not None else RateCard.default()
    tool_ccu = price_usage(Usage(tool_calls=1), card).total if card.meters is not None else ZERO
    fast = False
    previous: tuple[int, ...] | None = None
    for number, raw in enumerate(lines, 1):
        try:
            obj = loads(raw if isinstance(raw, bytes) else raw.encode())
        except ValueError:
            continue
        if type(obj) is not dict:
            continue
        try:
            at = from_epoch_us(_parse_ts(obj["timestamp"]))
        except Exception:
            continue
        yield number, Tick(at=at)
        kind, payload = obj.get("type"), obj.get("payload")
        if type(payload) is not dict:
            continue
        sub = payload.get("type")
        if kind == "turn_context":
            model = payload.get("model") if isinstance(payload.get("model"), str) else model
            if "service_tier" in payload:
                fast = payload.get("service_tier") in ("priority", "fast")
        elif kind == "event_msg" and sub == "token_count":
            info = payload.get("info")
            named = info.get("model") if type(info) is dict else None
            model = named if isinstance(named, str) and named else model
            usage, previous = _request(payload, previous)
            if usage is not None:
                yield number, Metered(ccu=_price(usage, model, fast, card), at=at)
        elif kind == "response_item" and sub in _TOOLS:
            if tool_ccu:
                yield number, Metered(ccu=tool_ccu, at=at)
            command = _command(payload)
            if command and _runs_tests(command, test_filter):
                yield number, IterationStarted(at=at, detail=command[:200])
            for path in _patched(payload):
                yield number, FileTouched(path=path, at=at)


def _request(
    payload: dict[str, Any], previous: tuple[int, ...] | None
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    info = payload.get("info")
    if type(info) is not dict:
        return None, previous
    try:
        total: tuple[int, ...] | None = _usage(info.get("total_token_usage"), "total")
        last: tuple[int, ...] | None = _usage(info.get("last_token_usage"), "last")
    except Exception:  # a bad usage object is not a request
        return None, previous
    if total is None:
        return last, previous
    if total == previous:
        return None, previous
    if last is None:
        if previous is None or any(t < p for t, p in zip(total, previous, strict=True)):
            last = total
        else:
            last = tuple(t - p for t, p in zip(total, previous, strict=True))
    return last, total


def _price(usage: tuple[int, ...], model: str | None, fast: bool, card: RateCard) -> Decimal:
    inp, cached, out, reasoning = usage[0], usage[1], usage[2], usage[3]
    if card.meters is not None:
        meters = Usage(
            reasoning_tokens=reasoning,
            output_tokens=max(out - reasoning, 0),
            input_tokens=inp,
            cached_input_tokens=cached,
            fast=fast,
        )
    else:
        meters = Usage(
            output_tokens=out, input_tokens=inp, cached_input_tokens=cached, model=model, fast=fast
        )
    return price_usage(meters, card).total


def _command(payload: dict[str, Any]) -> str:
    args: Any = payload.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return str(args)
    action = payload.get("action")
    if isinstance(action, dict):
        args = action
    if isinstance(args, dict):
        command = args.get("command") or args.get("cmd")
        if isinstance(command, list):
            return " ".join(str(c) for c in command)
        if isinstance(command, str):
            return command
    return ""


def _runs_tests(command: str, test_filter: str | None) -> bool:
    if test_filter and test_filter in command:
        return True
    return TEST_RUNNERS.search(command) is not None


def _patched(payload: dict[str, Any]) -> list[str]:
    text = payload.get("input")
    if not isinstance(text, str):
        args = payload.get("arguments")
        text = args if isinstance(args, str) else ""
    return _PATCH_FILE.findall(text)


@dataclass(frozen=True, repr=False)
class GuardReport(Displayed):
    """Where a guard stopped a session (if it did) and what the session spent after that.

    ``ccu_spent`` is what the session had spent when the guard stopped it (all
    of it, if it never stopped); ``ccu_beyond`` what it went on to spend.
    """

    stop: GuardVerdict | None
    stop_line: int | None
    stopped_at: datetime | None
    ccu_spent: Decimal
    ccu_beyond: Decimal
    iterations: int
    last: GuardVerdict | None

    @property
    def stopped(self) -> bool:
        """True when the guard would have stopped the session."""
        return self.stop is not None


def watch_rollout(
    source: Iterable[bytes | str] | str | Path,
    guard: TaskGuard,
    card: RateCard | None = None,
    *,
    test_filter: str | None = None,
    model: str | None = None,
) -> GuardReport:
    """Feed ``guard`` a rollout (a path or lines) and report where it would stop it.

    See :func:`rollout_events` for ``test_filter`` and ``model``.
    """
    if isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            return watch_rollout(list(handle), guard, card, test_filter=test_filter, model=model)
    stop: GuardVerdict | None = None
    stop_line: int | None = None
    stopped_at: datetime | None = None
    last: GuardVerdict | None = None
    total_iterations = 0
    for number, event in rollout_events(source, card, test_filter=test_filter, model=model):
        if isinstance(event, IterationStarted):
            total_iterations += 1
        last = guard.feed(event)
        if stop is None and last.action == "stop":
            stop, stop_line, stopped_at = last, number, event.at
    return GuardReport(
        stop=stop,
        stop_line=stop_line,
        stopped_at=stopped_at,
        ccu_spent=guard.ccu,
        ccu_beyond=guard.ccu_beyond,
        iterations=total_iterations,
        last=last,
    )
