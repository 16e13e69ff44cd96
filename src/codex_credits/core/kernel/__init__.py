"""One integer kernel of the hourly rules, over lanes.

Theory of operation (docs/engine.md, "The kernel"): a lane is one independent run
of an account's rules (an account, a tier or seat candidate, a Monte Carlo path).
The readable specification is the state machine of
:mod:`codex_credits.core.account`; the kernel restates it once on integer
micro-CCU for speed, and property tests hold the two equal event for event.

* :mod:`~codex_credits.core.kernel.rules`: a lane's figures, the reserve's close.
* :mod:`~codex_credits.core.kernel.budgets`: a budget as mask, limit, control and
  window per hour.
* :mod:`~codex_credits.core.kernel.pieces`: the order of checks on arrays, and the
  rounds that decide a busy hour.
* :mod:`~codex_credits.core.kernel.lane`, :mod:`~codex_credits.core.kernel.hour` and
  :mod:`~codex_credits.core.kernel.busy`: one lane through its hours (quiet stretches
  at once, busy hours by rounds); :mod:`~codex_credits.core.kernel.backlog`: the work
  waiting, so that an hour costs what it serves.
* :mod:`~codex_credits.core.kernel.ledger`: credits per period and their settlement.
* :mod:`~codex_credits.core.kernel.fluid`: fluid mode's rule for every piece of every
  lane (:func:`~codex_credits.core.kernel.fluid.fill`, also the sweeps' fluid busy
  hours), and lanes of hourly demand stepped together, the Monte Carlo paths of
  :func:`~codex_credits.core.forecast.pathengine.run_paths`.
* :mod:`~codex_credits.core.kernel.simulation`: ``simulate`` on one lane.
* :mod:`~codex_credits.core.kernel.lanes`: many lanes through each hour at once (the
  organisation sweeps), with :mod:`~codex_credits.core.kernel.grid` (the accounts'
  events on one hour grid), :mod:`~codex_credits.core.kernel.crowd` (the busy lanes'
  pieces as one ragged array) and :mod:`~codex_credits.core.kernel.ledgers` (the
  rollover ledgers of all lanes).
"""

from __future__ import annotations

__all__: list[str] = []
