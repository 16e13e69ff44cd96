"""What the CLI prints and exits with when a command raises.

Every exception a command lets escape is sorted into one exit-code class
(docs/cli.md, "Exit codes"), and printed as ONE line on standard error:

* the usage API failed, or usage data is bad: 3 (``DATA_ERROR``);
* a bad argument, policy, card, budget or baseline: 2 (``USAGE_ERROR``); so is
  input that is too deep, too large, out of range or not UTF-8 wherever it is
  caught, except while usage data is read (a usage file, a log, the API): 3; a
  file that cannot be read or written is 3 too;
* anything else is a bug: 70 (``INTERNAL_ERROR``), a short message that says
  where to report it. The traceback is printed only with ``--debug`` (or
  ``CODEX_CREDITS_DEBUG=1``).

Nothing printed here is trusted: messages pass through
:func:`~codex_credits.escape.terminal` so data cannot send escape sequences.
"""

from __future__ import annotations

import argparse
import csv
import decimal
import os
import traceback
from collections.abc import Sequence
from typing import TextIO

from pydantic import ValidationError

from codex_credits.cli.exitcodes import ExitCode
from codex_credits.errors import (
    ApiError,
    ConfigError,
    CreditError,
    NaiveDatetimeError,
    UnknownModelError,
    UsageDataError,
)
from codex_credits.escape import terminal

__all__ = ["DEBUG_ENV", "DEBUG_FLAG", "classify", "report", "split_debug"]

DEBUG_FLAG = "--debug"
DEBUG_ENV = "CODEX_CREDITS_DEBUG"
REPORT_HINT = (
    "this is a bug in codex-credits, not in your input; please report it to the "
    "codex-credits issue tracker with the command line and the output of --debug"
)

# Where the usage data is read (files, logs, the API): a failure there is a data error.
_DATA_PACKAGES = (
    f"{os.sep}codex_credits{os.sep}io{os.sep}",
    f"{os.sep}codex_credits{os.sep}client{os.sep}",
)

# Input that is too deep, too large or not text: the user's data, not our bug.
_INPUT_FAILURES: tuple[tuple[type[BaseException], ExitCode, str], ...] = (
    (RecursionError, ExitCode.USAGE_ERROR, "the input is nested too deeply"),
    (UnicodeError, ExitCode.USAGE_ERROR, "the input is not valid UTF-8 text"),
    (OverflowError, ExitCode.USAGE_ERROR, "a number in the input is too large"),
    (
        decimal.DecimalException,
        ExitCode.USAGE_ERROR,
        "a number in the input is too large or not a number",
    ),
    (MemoryError, ExitCode.USAGE_ERROR, "the input is too large to fit in memory"),
    (ValueError, ExitCode.USAGE_ERROR, "a value in the input is out of range"),
    (OSError, ExitCode.DATA_ERROR, "a file could not be read or written"),
    (csv.Error, ExitCode.DATA_ERROR, "a CSV file could not be read"),
)


def _raised_in(exc: BaseException, packages: tuple[str, ...]) -> bool:
    """Whether any frame of ``exc``'s traceback runs code from one of ``packages``."""
    return any(
        any(package in frame.filename for package in packages)
        for frame in traceback.extract_tb(exc.__traceback__)
    )


def split_debug(argv: Sequence[str], environ: dict[str, str]) -> tuple[list[str], bool]:
    """``argv`` without ``--debug``, and whether debugging is on (flag or environment)."""
    args = list(argv)
    debug = DEBUG_FLAG in args or environ.get(DEBUG_ENV, "") not in ("", "0")
    return [a for a in args if a != DEBUG_FLAG], debug


def _one_line(text: str) -> str:
    return terminal(" ".join(text.split()))


def _validation(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
    )


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one-line message for an exception a command raised."""
    if isinstance(exc, ApiError | UsageDataError):
        return ExitCode.DATA_ERROR, _one_line(str(exc))
    if isinstance(exc, ConfigError) and exc.problems:
        head = str(exc).split("\n", 1)[0].rstrip(":")
        return ExitCode.USAGE_ERROR, _one_line(f"{head}: {'; '.join(exc.problems)}")
    if isinstance(exc, ConfigError | NaiveDatetimeError | UnknownModelError | CreditError):
        return ExitCode.USAGE_ERROR, _one_line(str(exc))
    if isinstance(exc, argparse.ArgumentTypeError):
        return ExitCode.USAGE_ERROR, _one_line(str(exc))
    if isinstance(exc, ValidationError):
        return ExitCode.USAGE_ERROR, _one_line(_validation(exc))
    for kind, code, reason in _INPUT_FAILURES:
        if isinstance(exc, kind):
            detail = str(exc)[:200] or type(exc).__name__
            if _raised_in(exc, _DATA_PACKAGES):  # a usage file or the API: data, not input
                code = ExitCode.DATA_ERROR
            return code, _one_line(f"{reason} ({detail})")
    where = f"{type(exc).__name__}: {str(exc)[:200]}"
    return ExitCode.INTERNAL_ERROR, _one_line(f"internal error ({where}); {REPORT_HINT}")


def report(exc: BaseException, err: TextIO, *, debug: bool) -> int:
    """Print ``exc`` as one line on ``err`` (a traceback first with ``debug``); its exit code."""
    code, message = classify(exc)
    if debug:
        err.write("".join(traceback.format_exception(exc)))
    err.write(f"codex-credits: error: {message}\n")
    return int(code)
