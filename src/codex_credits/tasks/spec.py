"""A task before dispatch: what to do, where, with what, and when it is done.

Theory of operation (docs/tasks/spec.md): a :class:`TaskSpec` is the unit the
dispatch gate reasons about. It carries the seed's three bounds (its
"three-bounds" framework): the *input* bound (``repository``, ``file_scope``,
``tools``), the *output* bound (``deliverables``, ``done_when``) and the
*execution* bound (``test_filter``, ``timeout``, ``max_iterations``, and the
optional caps ``max_ccu`` and ``max_files`` a guard enforces while it runs),
plus the labels budgets and reports group by.

Specs are built in Python or read from JSON, JSON Lines or TOML with
:func:`load_tasks`; every bad field is reported with its file, line and field
name, all at once.

>>> spec = TaskSpec(instruction="Fix the JWT expiry check", file_scope=["src/auth/jwt.py"])
>>> spec.file_scope, spec.timeout
(('src/auth/jwt.py',), None)
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, final

from pydantic import Field, ValidationError, field_validator, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import format_validation_error
from codex_credits.core.units import Ccu, Quantity
from codex_credits.display import Rows
from codex_credits.errors import ConfigError

__all__ = ["TaskSpec", "load_tasks", "tasks_from_data", "tasks_from_text"]

_ALIASES = {
    "tests": "test_filter",
    "files": "file_scope",
    "scope": "file_scope",
    "timeout_minutes": "timeout",
    "sandbox": "sandbox_class",
    "project_id": "project",
    "user_id": "user",
    "session_id": "session",
    "parent_session_id": "parent_session",
    "iteration_cap": "max_iterations",
    "deliverable": "deliverables",
    "done": "done_when",
    "test_command": "test_filter",
}
_ALIAS_KEYS = frozenset(_ALIASES)
_LISTS = ("tools", "file_scope", "deliverables")
_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)?\s*$",
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", re.IGNORECASE)
_WRITES = re.compile(r"write|edit|patch|apply|all|\*", re.IGNORECASE)


@final
class TaskSpec(Frozen):
    """One task as it would be dispatched to an agent.

    ``timeout`` is in minutes (``"90s"``, ``"15m"`` and ``"1h"`` are accepted).
    An empty ``tools`` means no restriction: every tool. ``deliverables`` names
    the artifacts the task must produce; when empty, the entries of
    ``file_scope`` stand for them. ``ccu``, when given, is the task's known
    price and is used instead of an estimate.
    """

    instruction: str = Field(min_length=1)
    name: str | None = None
    repository: str | None = None
    file_scope: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    test_filter: str | None = None
    done_when: str | None = None
    deliverables: tuple[str, ...] = ()
    task_type: str | None = None
    model: str | None = None
    sandbox_class: str | None = None
    max_iterations: int | None = Field(default=None, ge=1)
    timeout: Quantity | None = Field(default=None, gt=0, description="minutes")
    max_ccu: Ccu | None = Field(default=None, gt=0, description="CCU cap for the guard")
    max_files: int | None = Field(default=None, ge=1, description="file-count cap")
    ccu: Ccu | None = Field(default=None, ge=0, description="known price, else estimated")
    project: str | None = None
    user: str | None = None
    feature: str | None = None
    session: str | None = None
    parent_session: str | None = None
    key_id: str | None = Field(default=None, description="the dispatching key (never a secret)")
    thread_id: str | None = None
    api: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        lists = [k for k in _LISTS if isinstance(data.get(k), str)]
        if _ALIAS_KEYS.isdisjoint(data) and not lists:
            return data
        out = dict(data)
        for alias, name in _ALIASES.items():
            if alias in out and name not in out:
                out[name] = out.pop(alias)
        for key in _LISTS:
            if isinstance(out.get(key), str):
                out[key] = (out[key],)
        return out

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        iso = _ISO_DURATION.match(value.strip())
        if iso is not None and any(iso.groups()):
            h, m, sec = (Decimal(g or 0) for g in iso.groups())
            return h * 60 + m + sec / 60
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"a timeout is minutes or '90s', '15m', '1h', 'PT15M'; got {value!r}")
        number, unit = Decimal(match.group(1)), (match.group(2) or "m").lower()
        if unit.startswith("s"):
            return number / 60
        return number * 60 if unit.startswith("h") else number

    @property
    def labels(self) -> dict[str, str | None]:
        """The labels governance reads (:func:`~codex_credits.governance.gate.access_gate`)."""
        return {
            "task_id": self.name,
            "thread_id": self.thread_id,
            "session_id": self.session,
            "parent_session_id": self.parent_session,
            "api": self.api,
            "key_id": self.key_id,
            "project": self.project,
            "user": self.user,
            "feature": self.feature,
        }

    @property
    def label(self) -> str:
        """A short name for reports: ``name``, else the instruction's first line."""
        if self.name:
            return self.name
        first = self.instruction.strip().splitlines()[0] if self.instruction.strip() else ""
        return first[:60]

    @property
    def can_write(self) -> bool:
        """True when the task may change files (no tool list, or a writing tool)."""
        return not self.tools or any(_WRITES.search(t) for t in self.tools)


def tasks_from_data(items: Iterable[Any], source: str = "tasks") -> tuple[TaskSpec, ...]:
    """Validate mappings into specs; every bad field is reported, by index and field.

    Raises:
        ConfigError: one or more items are invalid; ``problems`` lists each.
    """
    return _validate([(f"{source}: task {i + 1}", item) for i, item in enumerate(items)])


def tasks_from_text(text: str, fmt: str, source: str = "tasks") -> tuple[TaskSpec, ...]:
    """Specs from the text of a JSON, JSON Lines (``jsonl``) or TOML document.

    JSON holds one task, a list of tasks or ``{"tasks": [...]}``; TOML holds
    ``[[tasks]]`` tables (or one task at the top level). Problems name the
    line each task starts on.

    Raises:
        ConfigError: bad syntax or bad fields.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt in ("jsonl", "ndjson"):
        numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        try:  # one decode for the whole file; per line only to name a bad one
            items = json.loads(
                "[" + ",".join(line for _, line in numbered) + "]", parse_float=Decimal
            )
        except json.JSONDecodeError:
            items = None
        if items is None or len(items) != len(numbered):
            items = []
            for number, line in numbered:
                try:
                    items.append(json.loads(line, parse_float=Decimal))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{source}:{number}: not valid JSON: {exc.msg}") from None
        return _validate(
            [(f"{source}:{n}", item) for (n, _), item in zip(numbered, items, strict=True)]
        )
    if fmt == "json":
        return _validate(_json_items(text, source))
    if fmt == "toml":
        return _validate(_toml_items(text, source))
    raise ConfigError(f"unknown task file format {fmt!r}: use .json, .jsonl or .toml")


def load_tasks(path: str | Path) -> tuple[TaskSpec, ...]:
    """Read specs from a ``.json``, ``.jsonl`` or ``.toml`` file.

    Raises:
        ConfigError: the file cannot be read, parsed or validated.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read tasks {path}: {exc.strerror}") from None
    return tasks_from_text(text, path.suffix or "json", source=str(path))


def _validate(located: list[tuple[str, Any]]) -> tuple[TaskSpec, ...]:
    specs: list[TaskSpec] = []
    problems: list[str] = []
    for where, item in located:
        if not isinstance(item, Mapping):
            problems.append(f"{where}: a task must be an object, got {type(item).__name__}")
            continue
        try:
            specs.append(TaskSpec.model_validate(item))
        except ValidationError as exc:
            problems += [f"{where}: {line}" for line in format_validation_error(exc)]
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the tasks:\n  " + "\n  ".join(problems),
            tuple(problems),
        )
    return Rows(specs)


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _json_items(text: str, source: str) -> list[tuple[str, Any]]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if isinstance(data, Mapping) and "tasks" not in data:
        return [(f"{source}:1", data)]
    start = 0
    if isinstance(data, Mapping):
        data = data["tasks"]
        start = text.index("[", text.index('"tasks"'))
    else:
        start = text.index("[")
    if not isinstance(data, list):
        raise ConfigError(f"{source}: 'tasks' must be a list")
    decoder = json.JSONDecoder(parse_float=Decimal)
    located: list[tuple[str, Any]] = []
    pos = start + 1
    for item in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        located.append((f"{source}:{_line(text, pos)}", item))
        pos = end
    return located


def _toml_items(text: str, source: str) -> list[tuple[str, Any]]:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    tasks = data.get("tasks")
    if tasks is None:
        return [(f"{source}:1", data)]
    if not isinstance(tasks, list):
        raise ConfigError(f"{source}: 'tasks' must be an array of tables ([[tasks]])")
    starts = [m.start() for m in re.finditer(r"(?m)^[ \t]*\[\[[ \t]*tasks[ \t]*\]\]", text)]
    located = []
    for i, item in enumerate(tasks):
        line = _line(text, starts[i]) if i < len(starts) else 1
        located.append((f"{source}:{line}", item))
    return located
