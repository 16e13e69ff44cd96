"""The CLI's exit codes: stable, documented, and an IntEnum."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What ``codex-credits`` exits with.

    ==  ===================================================================
    0   OK: the command ran (a check passed; warnings alone do not fail)
    1   a check failed (a rule failed, a budget is exceeded)
    2   usage or input error: bad arguments, a bad rate card or policy
    3   API or data error: the usage API failed, a usage file is unreadable
    70  internal error: a bug in codex-credits (never a verdict on the input);
        the message says where to report it, ``--debug`` shows the traceback
    130 interrupted (Ctrl-C)
    ==  ===================================================================
    """

    OK = 0
    CHECK_FAILED = 1
    USAGE_ERROR = 2
    DATA_ERROR = 3
    INTERNAL_ERROR = 70
    INTERRUPTED = 130
