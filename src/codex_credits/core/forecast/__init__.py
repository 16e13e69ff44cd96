"""Forecasts: where a billing period will land, and how sure we are.

* :mod:`~codex_credits.core.forecast.projection`: the linear month-end projection,
  the rollover forecast and the usage-report overage estimate, exactly as
  docs/forecasts.md states them.
* :mod:`~codex_credits.core.forecast.hourly`: usage as an hourly series.
* :mod:`~codex_credits.core.forecast.seasonal`: a daily-cycle, trend and hour-of-day model.
* :mod:`~codex_credits.core.forecast.pathengine`: the credit rules, vectorised over paths.
* :mod:`~codex_credits.core.forecast.montecarlo`: sampled demand run through the rules.
* :mod:`~codex_credits.core.forecast.forecaster`: one entry point, :func:`forecast_period`.
* :mod:`~codex_credits.core.forecast.backtest`: walk-forward evaluation of a method.
"""

from __future__ import annotations

__all__: list[str] = []
