"""The argument parser: exact option names, suggestions for near misses, lazy commands.

Every parser refuses prefix abbreviations (``--tie`` is not ``--tier``), so adding an
option never changes what an old script means. A misspelled command or option is
answered with the nearest real one (:mod:`difflib`), under the usage of the command
it was given to. Commands are configured only when chosen, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any

from codex_credits.cli.commands import load

__all__ = ["CliParser", "LazyCommands", "nearest"]


def nearest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to ``word``, if one is close enough to be a likely typo."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


class CliParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` without abbreviations and with "did you mean" hints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """Parse, and report unknown options under the usage of the command that got them."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            target = self.chosen(parsed)
            target.error(target.unrecognized(extras))
        return parsed

    def chosen(self, namespace: argparse.Namespace) -> CliParser:
        """The innermost (sub)command parser that ``namespace`` selected."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                child = action.choices.get(getattr(namespace, action.dest, None) or "")
                if isinstance(child, CliParser):
                    return child.chosen(namespace)
        return self

    def option_names(self) -> list[str]:
        """Every option string this parser accepts (hidden ones included)."""
        return [s for action in self._actions for s in action.option_strings]

    def unrecognized(self, extras: Sequence[str]) -> str:
        """``unrecognized arguments: ...`` with the nearest real option, if any."""
        message = f"unrecognized arguments: {' '.join(extras)}"
        for extra in extras:
            if extra.startswith("--"):
                guess = nearest(extra.split("=", 1)[0], self.option_names())
                if guess is not None:
                    return f"{message} (did you mean {guess}?)"
        return message

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            names = [str(c) for c in choices]
            guess = nearest(str(value), names)
            hint = f"did you mean {guess!r}? " if guess is not None else ""
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r} ({hint}choose from {', '.join(names)})",
            )


class LazyCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands whose options are added (their module imported) only when chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._modules: dict[str, str] = {}

    def add_command(self, module: str, name: str, help_text: str) -> argparse.ArgumentParser:
        """Register command ``name`` (module ``module``) with its one-line help."""
        child: argparse.ArgumentParser = self.add_parser(
            name, help=help_text, description=help_text, conflict_handler="resolve"
        )
        self._modules[name] = module
        return child

    def configure(self, name: str) -> None:
        """Import the command's module and add its options (once)."""
        module = self._modules.pop(name, None)
        if module is not None:
            command = load(module)
            child = self.choices[name]
            command.configure(child)
            child.set_defaults(_handler=command.run)

    def configure_all(self) -> None:
        """Configure every command (for tools that walk all options)."""
        for name in list(self._modules):
            self.configure(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if isinstance(values, Sequence) and values and isinstance(values[0], str):
            self.configure(values[0])
        super().__call__(parser, namespace, values, option_string)
