"""Escaping text that came from data for the medium it is printed in.

Labels, event ids, budget names and server messages are data: a newline in one
must not start a GitHub workflow command, a pipe must not open a Markdown
column, and an escape sequence must not reach a terminal. One function per
medium:

* :func:`terminal`: control characters (C0, C1, DEL, ESC), bidirectional
  overrides and lone surrogates become visible ``\\xNN`` / ``\\uNNNN`` escapes.
* :func:`markdown`: one line of Markdown (a table cell or a heading); HTML,
  pipes, emphasis, links, code spans and mentions are neutralised;
  :func:`markdown_code` shows a name as a code span.
* :func:`workflow_data` and :func:`workflow_property`: GitHub's own encoding
  for workflow commands (``%`` ``\\r`` ``\\n``; and ``:`` ``,`` in properties),
  after which no command can be smuggled in.

>>> terminal("ok\\x1b[2Jgone")
'ok\\\\x1b[2Jgone'
>>> markdown("a|b\\n::error::x")
'a\\\\|b ::error::x'
>>> workflow_data("50%\\n::error::x")
'50%25%0A::error::x'
"""

from __future__ import annotations

import re

__all__ = ["markdown", "markdown_code", "terminal", "workflow_data", "workflow_property"]

_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_HTML = {"&": "&amp;"}


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe for a terminal: every control or direction character made visible.

    Tabs are kept; newlines too when ``keep_newlines`` (else they show as ``\\x0a``).
    """
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_visible, line) for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


def markdown(text: str) -> str:
    """One line of Markdown that shows ``text`` literally (for a table cell or a heading).

    Line breaks become spaces, control characters are made visible, ``&`` is
    an entity, the marks that open HTML, links, code, emphasis, strike-through
    or a new cell are backslash-escaped (``_`` is kept: names like
    ``total_cost`` read as written), and ``@`` cannot mention anyone.
    """
    flat = " ".join(terminal(text.replace("\t", " ")).split())
    flat = flat.replace("&", _HTML["&"])
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    return flat.replace("@", "&#64;")


def markdown_code(text: str) -> str:
    """``text`` as a one-line Markdown code span (inside a table cell too).

    Backticks cannot close the span (they become ``'``) and pipes cannot split
    the cell (``\\|``); HTML and mentions are inert inside a code span.
    """
    flat = " ".join(terminal(text.replace("\t", " ")).split())
    return "`" + flat.replace("`", "'").replace("|", "\\|") + "`"


def workflow_data(text: str) -> str:
    """The message of a GitHub workflow command (``::error ...::MESSAGE``), escaped."""
    return terminal(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def workflow_property(text: str) -> str:
    """A property value of a GitHub workflow command (``title=VALUE``), escaped."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
