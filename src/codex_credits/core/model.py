"""The one base class of every value in the library: frozen, strict about extra fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    """An immutable pydantic model that refuses unknown fields.

    Build a changed copy through the constructor, never ``model_copy(update=...)``,
    which skips validation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
