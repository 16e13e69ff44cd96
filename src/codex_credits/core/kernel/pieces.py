"""Deciding one busy hour of one lane: the order of checks over every waiting piece.

Theory of operation (docs/engine.md, "The kernel"). In a busy hour the pieces are
visited in order: the work still waiting (original order), then the hour's own
events. :func:`decide` is the order of checks of
:func:`codex_credits.core.account.apply` on arrays, given each piece's rooms *at its
visit* (the hour's rate-limit room, the credits, each hard-stop or queue budget's
room): budgets (the first budget listed that the piece does not fit refuses it;
fluid mode serves what the tightest one allows), then the credits (a tier without
overage), then the rate limit (request mode: whole or not at all, and a piece larger
than ``L + C`` is too large; fluid mode: the part that fits).

Rooms only shrink within an hour, and only by what is served. So which pieces are
served follows from rounds (:func:`serve_hour`, the rounds of
:func:`~codex_credits.core.kernel.crowd.serve_rounds` with one lane): assume every
candidate is served, take the cumulative sums of what each room gives, and find the
first candidate that would not be served whole; everything before it is served, it is
decided on its own, the rooms shrink, and candidates that can no longer be served
(larger than a room in request mode, a room at zero in fluid mode) are dropped before
the next round. An hour costs a few array passes per refusal among the candidates, not
a Python step per piece. A final :func:`decide` over every piece, with the rooms at
its visit, gives every outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codex_credits.core.kernel.crowd import ONE_LANE, serve_rounds
from codex_credits.core.kernel.rules import LaneRules

__all__ = ["RL", "Decision", "HourRooms", "decide", "serve_hour"]

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# indexes into codex_credits.core.statement.REASON_CODES
RL, TOO_LARGE, NO_CREDITS, HARD, QUEUED = 1, 2, 3, 4, 5


@dataclass
class HourRooms:
    """The rooms of one hour at its start (micro-CCU).

    ``budget_rooms[j]`` is the room of the ``j``-th limiting budget, ``masks[j]`` which
    pieces it applies to and ``queue[j]`` whether it queues (else it hard-stops).
    """

    rate: int
    credits: int | None
    budget_rooms: list[int]
    masks: list[BoolArray]
    queue: list[bool]


@dataclass
class Decision:
    """Per-piece outcomes of one hour (arrays aligned with the pieces)."""

    served: Int64Array
    rate_limited: Int64Array
    blocked: Int64Array
    queued: Int64Array
    reason: npt.NDArray[np.int8]
    binding: Int64Array
    """The limiting budget (index among the hour's limiting budgets) that queued a piece."""


def decide(
    rules: LaneRules,
    amount: Int64Array,
    rate: Int64Array,
    credits: Int64Array | None,
    budget_rooms: list[Int64Array],
    masks: list[BoolArray],
    queue: list[bool],
) -> Decision:
    """The order of checks for every piece, given the rooms at each piece's visit."""
    n = len(amount)
    binding = np.full(n, -1, dtype=np.int64)
    fit = amount.copy()
    for j, (room, mask) in enumerate(zip(budget_rooms, masks, strict=True)):
        if rules.fluid:
            allowed = np.where(amount <= room, amount, room)
        else:
            allowed = np.where(amount <= room, amount, 0)
        tighter = mask & (allowed < fit)
        fit[tighter] = allowed[tighter]
        binding[tighter] = j
    refused = amount - fit
    is_queue = np.zeros(n, dtype=np.bool_)
    for j, q in enumerate(queue):
        if q:
            is_queue |= binding == j
    queued = np.where(is_queue, refused, 0)
    blocked = refused - queued
    reason = np.zeros(n, dtype=np.int8)
    reason[refused > 0] = HARD
    reason[queued > 0] = QUEUED
    payable = fit
    if credits is not None:
        short = payable > credits
        payable = np.where(short, credits, payable) if rules.fluid else np.where(short, 0, payable)
        blocked = blocked + (fit - payable)
        reason[short & (reason == 0)] = NO_CREDITS
    if rules.fluid:
        served = np.minimum(payable, np.maximum(rate, 0))
    else:
        large = payable > rules.most
        blocked = blocked + np.where(large, payable, 0)
        reason[large & (reason == 0)] = TOO_LARGE
        payable = np.where(large, 0, payable)
        served = np.where(payable <= rate, payable, 0)
    limited = payable - served
    reason[(limited > 0) & (reason == 0)] = RL
    return Decision(served, limited, blocked, queued, reason, binding)


def serve_hour(rules: LaneRules, amount: Int64Array, rooms: HourRooms) -> Int64Array:
    """What each piece is served in one hour: the rounds of one lane
    (:func:`~codex_credits.core.kernel.crowd.serve_rounds`); ``rooms`` shrink."""
    fit = rooms.rate if rooms.credits is None else min(rooms.rate, rooms.credits)
    lane = np.array([fit], dtype=np.int64)
    budgets = [np.array([room], dtype=np.int64) for room in rooms.budget_rooms]
    one = np.zeros(len(amount), dtype=np.int64)
    served = serve_rounds(amount, one, ONE_LANE, lane, rules.fluid, budgets, rooms.masks)
    got = int(served.sum())
    rooms.rate -= got
    if rooms.credits is not None:
        rooms.credits -= got
    rooms.budget_rooms = [int(room[0]) for room in budgets]
    return served
