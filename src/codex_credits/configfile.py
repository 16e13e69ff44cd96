"""Reading a policy, rate card or baseline file: one place for every way it can be bad.

:func:`read_document` reads a TOML or JSON file and returns its data with
numbers as exact Decimals. Whatever is wrong (missing, unreadable, not UTF-8,
not TOML/JSON, nested deeper than :data:`~codex_credits.limits.MAX_NESTING`)
raises :class:`~codex_credits.errors.ConfigError` with a one-line message that
names the file and, where there is one, the line.
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from codex_credits.errors import ConfigError
from codex_credits.limits import MAX_NESTING, check_nesting

__all__ = ["parse_document", "read_document", "read_text"]


def read_text(path: Path, what: str) -> str:
    """The file's text, decoded as UTF-8.

    Raises:
        ConfigError: the file cannot be read, or a byte is not UTF-8 (its line named).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{what} {path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} "
            f"at offset {exc.start})"
        ) from None


def parse_document(text: str, fmt: Literal["toml", "json"], source: str) -> Any:
    """Parse TOML or JSON text, numbers as exact Decimals; bounded nesting.

    Raises:
        ConfigError: not valid TOML/JSON, or nested too deeply; names ``source``.
    """
    try:
        if fmt == "toml":
            data: Any = tomllib.loads(text, parse_float=Decimal)
        else:
            data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except ValueError as exc:  # a huge integer, NaN or Infinity
        raise ConfigError(f"{source}: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(
            f"{source}: nested deeper than {MAX_NESTING} levels (MAX_NESTING)"
        ) from None
    return check_nesting(data, source)


def read_document(path: Path, what: str) -> Any:
    """Read and parse a ``.json`` file as JSON and anything else as TOML."""
    fmt: Literal["toml", "json"] = "json" if path.suffix.lower() == ".json" else "toml"
    return parse_document(read_text(path, what), fmt, f"{what} {path}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
