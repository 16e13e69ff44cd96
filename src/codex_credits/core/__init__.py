"""The pure domain core: no I/O, no clock, no environment. Time is an argument."""

from __future__ import annotations

__all__: list[str] = []
