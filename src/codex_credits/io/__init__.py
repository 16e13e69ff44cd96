"""Adapters that read usage from files (and, in later modules, from logs)."""

from __future__ import annotations

__all__: list[str] = []
