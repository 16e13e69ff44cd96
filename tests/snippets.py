"""Run the code blocks of a Markdown page as a reader would, checking the shown results."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: Path, language: str) -> list[str]:
    """The page's fenced blocks in ``language``, in order."""
    text = page.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def run_python(code: str, namespace: dict[str, Any]) -> None:
    """Run ``code``; an expression followed by ``# value`` must repr to that value.

    Text after two spaces in such a comment is a note (``# Decimal('1')  (CCU)``).
    """
    lines = code.splitlines()
    for node in ast.parse(code).body:
        source = ast.get_source_segment(code, node)
        assert source is not None
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "<snippet>", "eval"), namespace)
            after = lines[node.end_lineno] if node.end_lineno < len(lines) else ""
            if after.startswith("# "):
                shown = after[2:].split("  ")[0]
                assert repr(value) == shown, f"{source} gave {value!r}, the page shows {shown}"
        else:
            exec(compile(ast.Module([node], []), "<snippet>", "exec"), namespace)


def shell_commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined and comments dropped."""
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one documented command with this checkout's package (``codex-credits`` included)."""
    python = shlex.quote(sys.executable)
    command = re.sub(r"\bpython3\b", python, command)
    command = re.sub(r"(^|\s)codex-credits(?=\s|$)", rf"\1{python} -m codex_credits", command)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg", "COLUMNS": "100"}
    return subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
