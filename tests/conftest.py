from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.register_profile(  # the long fuzzing run on demand: HYPOTHESIS_PROFILE=fuzz
    "fuzz", deadline=None, max_examples=5000, suppress_health_check=list(HealthCheck)
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

if os.environ.get("CI"):
    # CI installs every extra (.ci/run): a missing optional package is a failure there, not a skip.
    _importorskip = pytest.importorskip

    def _required(modname: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return _importorskip(modname, *args, **kwargs)
        except pytest.skip.Exception as exc:
            pytest.fail(f"CI installs every extra, but {modname} is missing: {exc}", pytrace=False)

    pytest.importorskip = _required
