"""Bundled sample data: ``sample-usage.csv``, a month of a ten-person team's tasks."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["sample_usage_path"]


def sample_usage_path() -> Path:
    """Path of the bundled sample usage file (June 2026, synthetic, seed 2026)."""
    return Path(str(resources.files(__package__).joinpath("sample-usage.csv")))
