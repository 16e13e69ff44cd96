"""Progress bars on standard error for long work (rich), shown only on a terminal.

A CI log or a pipe gets nothing: the bar would only be noise there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["is_terminal", "progress_bar"]

Update = Callable[[float, float | None, str], None]
"""``update(done, total, text)``: total None while it is unknown."""


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress_bar(err: TextIO, description: str) -> Iterator[Update]:
    """A bar on ``err`` while the block runs; the update function does nothing off a terminal."""
    if not is_terminal(err):
        yield lambda done, total, text: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[text]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=err), transient=True) as bar:
        task = bar.add_task(description, total=None, text="")

        def update(done: float, total: float | None, text: str) -> None:
            bar.update(task, completed=done, total=total, text=text)

        yield update
