"""The one base class of every value in the library: frozen, strict about extra fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from codex_credits.display import capped_repr, html_table, markdown_table

__all__ = ["Frozen"]


class Frozen(BaseModel):
    """An immutable pydantic model that refuses unknown fields.

    Build a changed copy through the constructor, never ``model_copy(update=...)``,
    which skips validation. Its ``repr`` is pydantic's while that is short, a
    summary beyond :data:`codex_credits.display.REPR_LIMIT` characters (a model
    holding thousands of items); notebooks show it as a table.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __repr__(self) -> str:
        return capped_repr(self, super().__repr__())

    def _repr_html_(self) -> str:
        return html_table(self)

    def _repr_markdown_(self) -> str:
        return markdown_table(self)
