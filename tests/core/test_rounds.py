"""The rounds of a busy hour equal a plain loop over the pieces, for one lane or many.

:func:`serve_rounds` decides every piece of every lane with cumulative sums; here the
same hour is stated piece by piece, in order, in plain Python: a piece is served whole
when it fits its lane's room and the room of every budget whose scope holds it (fluid
mode: the part that fits every one of them), and the rooms shrink by what is served.
Request and fluid mode, many lanes, budgets with overlapping scopes, rooms at zero or
negative; with the rounds capped low, so that the rest of an hour goes piece by piece.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.kernel import crowd
from codex_credits.core.kernel.crowd import segment_starts, serve_rounds
from codex_credits.core.kernel.pieces import HourRooms, decide, serve_hour
from codex_credits.core.kernel.rules import LaneRules


def plain_hour(
    pieces: list[list[int]],
    fit: list[int],
    rooms: list[list[int]],
    scopes: list[list[list[bool]]],
    fluid: bool,
) -> tuple[list[list[int]], list[int], list[list[int]]]:
    """The hour piece by piece: what each piece is served, and the rooms after it."""
    fit, rooms = list(fit), [list(room) for room in rooms]
    served = []
    for lane, amounts in enumerate(pieces):
        got = []
        for p, a in enumerate(amounts):
            applying = [j for j in range(len(rooms)) if scopes[j][lane][p]]
            tightest = min([fit[lane]] + [rooms[j][lane] for j in applying])
            if a <= tightest:
                give = a
            elif fluid:
                give = max(tightest, 0)
            else:
                give = 0
            got.append(give)
            fit[lane] -= give
            for j in applying:
                rooms[j][lane] -= give
        served.append(got)
    return served, fit, rooms


@st.composite
def hours(draw: st.DrawFn) -> dict[str, Any]:
    """A busy hour of up to five lanes and up to three budgets."""
    lanes = draw(st.integers(1, 5))
    unit = draw(st.sampled_from([1, 1_000_000]))  # small figures: rooms met exactly
    pieces = [
        [unit * a for a in draw(st.lists(st.integers(0, 12), min_size=1, max_size=14))]
        for _ in range(lanes)
    ]
    room = st.integers(-2, 40).map(lambda r: r * unit)
    budgets = draw(st.integers(0, 3))
    return {
        "pieces": pieces,
        "fit": [draw(room) for _ in range(lanes)],
        "rooms": [[draw(room) for _ in range(lanes)] for _ in range(budgets)],
        "scopes": [
            [[draw(st.booleans()) for _ in amounts] for amounts in pieces] for _ in range(budgets)
        ],
        "fluid": draw(st.booleans()),
        "cap": draw(st.sampled_from([1, 2, 3, crowd.MAX_ROUNDS])),
    }


def _arrays(h: dict[str, Any]) -> tuple[Any, ...]:
    pieces = h["pieces"]
    amount = np.array([a for lane in pieces for a in lane], dtype=np.int64)
    seg = np.repeat(np.arange(len(pieces)), [len(lane) for lane in pieces]).astype(np.int64)
    fit = np.array(h["fit"], dtype=np.int64)
    rooms = [np.array(room, dtype=np.int64) for room in h["rooms"]]
    masks = [np.array([x for lane in scope for x in lane], dtype=np.bool_) for scope in h["scopes"]]
    return amount, seg, fit, rooms, masks


@settings(max_examples=400)
@given(h=hours())
def test_the_rounds_equal_a_plain_loop(h: dict[str, Any]) -> None:
    """Many lanes at once: what each piece is served and the rooms left."""
    amount, seg, fit, rooms, masks = _arrays(h)
    want, fit_after, rooms_after = plain_hour(
        h["pieces"], h["fit"], h["rooms"], h["scopes"], h["fluid"]
    )
    with mock.patch.object(crowd, "MAX_ROUNDS", h["cap"]):
        served = serve_rounds(amount, seg, segment_starts(seg), fit, h["fluid"], rooms, masks)
    assert served.tolist() == [a for lane in want for a in lane]
    assert fit.tolist() == fit_after
    assert [room.tolist() for room in rooms] == rooms_after


@settings(max_examples=300)
@given(h=hours())
def test_one_lane_is_the_rounds_with_one_lane(h: dict[str, Any]) -> None:
    """``serve_hour`` (one lane, rate room and credits apart) equals the plain loop, and
    the order of checks (``decide``) with the rooms at each visit serves the same."""
    amounts, scopes = h["pieces"][0], [scope[0] for scope in h["scopes"]]
    rate, credits = max(h["fit"][0], 0), abs(h["fit"][-1])  # as the kernel's rooms are
    budget_rooms = [max(room[0], 0) for room in h["rooms"]]
    want, _, rooms_after = plain_hour(
        [amounts],
        [min(rate, credits)],
        [[r] for r in budget_rooms],
        [[s] for s in scopes],
        h["fluid"],
    )
    rules = LaneRules(
        pool=0,
        limit=max(rate, 0),
        threshold=0,
        reserve_cap=10**12,
        efficiency=(0, 1),
        overage=False,
        fluid=h["fluid"],
    )
    amount = np.array(amounts, dtype=np.int64)
    masks = [np.array(scope, dtype=np.bool_) for scope in scopes]
    rooms = HourRooms(rate, credits, list(budget_rooms), masks, [False] * len(masks))
    with mock.patch.object(crowd, "MAX_ROUNDS", h["cap"]):
        served = serve_hour(rules, amount, rooms)
    assert served.tolist() == want[0]
    assert rooms.rate == rate - sum(want[0])
    assert rooms.credits == credits - sum(want[0])
    assert rooms.budget_rooms == [room[0] for room in rooms_after]
    before = np.cumsum(served) - served
    visit = [
        room - (np.cumsum(np.where(mask, served, 0)) - np.where(mask, served, 0))
        for room, mask in zip(budget_rooms, masks, strict=True)
    ]
    dec = decide(rules, amount, rate - before, credits - before, visit, masks, rooms.queue)
    assert dec.served.tolist() == want[0]
