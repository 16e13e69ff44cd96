"""Fluid mode over lanes of hourly demand: the part that fits is served.

Theory of operation (docs/engine.md, "The kernel"; docs/forecasts.md, "Monte
Carlo"). In fluid mode a lane visits its pieces in order (the work waiting, then
the hour's own work) and each piece is served up to what is left of
``fit = min(L + reserve, credits)``; on a tier without overage the part of a piece
the credits cannot pay is blocked (blocked work is not deferred), the rest of
what it can pay is rate limited (:func:`fill`). Served work is a prefix of the
lane's work, so a piece's outcome follows from the work ahead of it alone, and
:func:`fill` decides every piece of every lane at once, whatever their shape: the
organisation sweep's ragged busy pieces
(:func:`~codex_credits.core.kernel.crowd.decide_crowd`) and the lanes of
:class:`FluidLanes` below.

:class:`FluidLanes` is the hour of lanes that each receive one piece of new work
per hour (a Monte Carlo path's sampled hourly demand): the work waiting is a
``(lanes, k)`` array of pieces in retry order. With overage nothing is ever
blocked, so only the total waiting matters and it is kept as one piece. The
hour closes with the reserve rule (:func:`~codex_credits.core.kernel.rules.close_reserve`)
and the credits: what is served is paid from them, the excess is overage.
"""

from __future__ import annotations

import numpy as np

from codex_credits.core.kernel.rules import Int64Array, close_reserve

__all__ = ["FluidLanes", "fill"]


def fill(
    amount: Int64Array, ahead: Int64Array, fit: Int64Array, credits: Int64Array | None
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """``(served, rate limited, blocked)`` of every piece, element-wise.

    ``ahead`` is the work before the piece in its lane, ``fit`` its lane's
    ``min(room, credits)`` and ``credits`` its lane's credits (None: a tier with
    overage, nothing is blocked); all broadcast against ``amount``.
    """
    done = np.minimum(ahead, fit)  # what the work ahead was served
    served: Int64Array = np.minimum(amount, fit - done)
    if credits is None:
        return served, amount - served, np.zeros_like(amount)
    payable: Int64Array = np.minimum(amount, credits - done)
    return served, payable - served, amount - payable


class FluidLanes:
    """Lanes receiving one piece of new work per hour, in fluid mode (see the module docs).

    Every counter is an integer micro-CCU array of shape ``(lanes,)``; ``queue`` is
    ``(lanes, k)``, the work waiting in retry order (zeros are gaps).
    """

    def __init__(
        self,
        *,
        rules: tuple[int, int, int, tuple[int, int]],
        hard: bool,
        defer: bool,
        credits: Int64Array,
        reserve: Int64Array,
        queue: Int64Array,
    ) -> None:
        self.limit, self.threshold, self.cap, self.efficiency = rules
        self.cap = max(self.cap, 0)
        self.hard, self.defer = hard, defer
        lanes = len(credits)
        self.credits, self.reserve = credits, reserve
        self.queue = queue if defer else np.zeros((lanes, 0), dtype=np.int64)
        if defer and not hard:
            self.queue = self.queue.sum(axis=1, keepdims=True)
        self.consumed = np.zeros(lanes, dtype=np.int64)
        self.overage = np.zeros(lanes, dtype=np.int64)
        self.limited = np.zeros(lanes, dtype=np.int64)
        self.blocked = np.zeros(lanes, dtype=np.int64)
        self.unserved = np.zeros(lanes, dtype=np.int64)
        self.exhausted = np.where(credits <= 0, 0, -1).astype(np.int64)

    def step(self, h: int, new: Int64Array) -> Int64Array:
        """Hour ``h`` with ``new`` work per lane; returns what each lane served."""
        room = self.limit + self.reserve
        credits = self.credits if self.hard else None
        fit = room if credits is None else np.minimum(room, credits)
        queue = self.queue
        if queue.shape[1] == 1:
            waiting = queue[:, 0]
            served, left, blocked = fill(waiting, np.zeros_like(waiting), fit, credits)
            queue = left[:, np.newaxis]
        elif queue.shape[1]:
            waiting = queue.sum(axis=1)
            each = fill(
                queue,
                np.cumsum(queue, axis=1) - queue,
                fit[:, np.newaxis],
                None if credits is None else credits[:, np.newaxis],
            )
            served, blocked = each[0].sum(axis=1), each[2].sum(axis=1)
            queue = each[1]
        else:
            waiting = served = blocked = np.zeros_like(room)
        serve_n, refused, blocked_n = fill(new, waiting, fit, credits)
        self.blocked += blocked + blocked_n
        self.limited += refused  # counted once, at the first refusal
        if not self.defer:
            self.unserved += refused
        elif self.hard:
            queue = np.concatenate((queue, refused[:, np.newaxis]), axis=1)
            self.queue = queue[:, queue.any(axis=0)]
        else:
            self.queue = queue + refused[:, np.newaxis]
        served = served + serve_n
        self.reserve, _ = close_reserve(
            self.reserve, served, self.limit, self.threshold, self.cap, self.efficiency
        )
        paid = np.minimum(served, self.credits)
        self.overage += served - paid
        self.credits -= paid
        self.consumed += served
        self.exhausted[(self.credits == 0) & (paid > 0)] = h  # credits reach zero once
        return served
