"""Hand-computed cases for the ledger, the reserve and the rate limiter, written to
kill the mutants that used to survive (tools/mutation.py; benchmarks/README.md).

Every figure below is worked by hand from the rule it checks; each boundary is
tested on both sides (``<`` against ``<=``, ``> 0`` against ``> 1``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from codex_credits.core.events import Mode, Reason, Refusal
from codex_credits.core.ledger import (
    Block,
    BlockKind,
    Closing,
    EntryKind,
    EntryLog,
    Ledger,
    LedgerEntry,
    SpendSplit,
    close_period,
    grant,
    spend,
)
from codex_credits.core.ratecard import RateCard
from codex_credits.core.ratelimit import Admission, HourlyLimits, admit
from codex_credits.core.reserve import ReserveState, ReserveTerms, accrual, close_hour, draw

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)
T2 = datetime(2026, 3, 1, tzinfo=UTC)
T3 = datetime(2026, 4, 1, tzinfo=UTC)

TERMS = ReserveTerms(threshold=D(10), efficiency=D("0.6"), cap=D(50))


# -- the reserve ------------------------------------------------------------------------------


def test_accrual_below_the_threshold_is_efficiency_times_the_gap() -> None:
    assert accrual(ReserveState(), D(4), TERMS) == D("3.6")  # 0.6 x (10 - 4)
    assert accrual(ReserveState(), D(0), TERMS) == D(6)


def test_no_accrual_at_or_above_the_threshold() -> None:
    assert accrual(ReserveState(), D(10), TERMS) == 0
    assert accrual(ReserveState(), D(11), TERMS) == 0
    assert accrual(ReserveState(), D("9.999999"), TERMS) == D("0.000001")  # 0.6 x 0.000001


def test_accrual_is_quantized_half_even() -> None:
    terms = ReserveTerms(threshold=D("0.000005"), efficiency=D("0.5"), cap=D(1))
    assert accrual(ReserveState(), D(0), terms) == D("0.000002")  # 0.0000025 -> ...02
    terms = ReserveTerms(threshold=D("0.000007"), efficiency=D("0.5"), cap=D(1))
    assert accrual(ReserveState(), D(0), terms) == D("0.000004")  # 0.0000035 -> ...04


def test_accrual_stops_at_the_cap() -> None:
    assert accrual(ReserveState(level=D(50)), D(0), TERMS) == 0
    assert accrual(ReserveState(level=D(51)), D(0), TERMS) == 0
    assert accrual(ReserveState(level=D(47)), D(0), TERMS) == D(3)  # 50 - 47 < 6
    assert accrual(ReserveState(level=D(44)), D(0), TERMS) == D(6)  # 50 - 44 == 6


def test_window_rule_limits_accrual_to_the_room_left() -> None:
    terms = ReserveTerms(
        threshold=D(10), efficiency=D("0.6"), cap=D(50), window_hours=3, window_cap=D(6)
    )
    assert accrual(ReserveState(recent=(D(2), D(3))), D(0), terms) == D(1)
    assert accrual(ReserveState(recent=(D(1), D(1))), D(4), terms) == D("3.6")
    assert accrual(ReserveState(recent=(D(5), D(5))), D(0), terms) == 0  # no negative room
    assert accrual(ReserveState(recent=(D(3), D(3))), D(0), terms) == 0


def test_close_hour_adds_the_accrual_and_keeps_the_window() -> None:
    state = close_hour(ReserveState(level=D(1)), D(4), TERMS)
    assert state == ReserveState(level=D("4.6"), recent=())
    terms = ReserveTerms(
        threshold=D(10), efficiency=D("0.6"), cap=D(50), window_hours=3, window_cap=D(100)
    )
    state = close_hour(ReserveState(recent=(D(1), D(2))), D(5), terms)
    assert state.recent == (D(2), D(3))  # the last window_hours - 1 accruals
    assert state.level == D(3)
    state = close_hour(ReserveState(), D(0), terms)
    assert state.recent == (D(6),)
    two = ReserveTerms(
        threshold=D(10), efficiency=D(1), cap=D(50), window_hours=2, window_cap=D(100)
    )
    assert close_hour(ReserveState(recent=(D(9),)), D(7), two).recent == (D(3),)
    one = ReserveTerms(threshold=D(10), efficiency=D(1), cap=D(50), window_hours=1, window_cap=D(4))
    state = close_hour(ReserveState(), D(0), one)
    assert state == ReserveState(level=D(4), recent=())
    state = close_hour(state, D(0), one)
    assert state.level == D(8)  # a one-hour window only sees the hour itself


def test_draw_takes_from_the_level_or_refuses() -> None:
    state = ReserveState(level=D(5), recent=(D(1),))
    assert draw(state, D(2)) == ReserveState(level=D(3), recent=(D(1),))
    assert draw(state, D(5)) == ReserveState(level=D(0), recent=(D(1),))
    assert draw(state, D(0)) == state
    refused = draw(state, D("5.000001"))
    assert isinstance(refused, Refusal)
    assert refused.reason is Reason.RATE_LIMITED
    assert refused.amount == D("5.000001")
    assert refused.detail == "the reserve holds 5 CCU, 5.000001 needed"
    with pytest.raises(ValueError, match="negative"):
        draw(state, D("-0.000001"))


def test_window_terms_come_together() -> None:
    with pytest.raises(ValidationError, match="together"):
        ReserveTerms(threshold=D(1), efficiency=D(1), cap=D(1), window_hours=2)
    with pytest.raises(ValidationError, match="together"):
        ReserveTerms(threshold=D(1), efficiency=D(1), cap=D(1), window_cap=D(2))
    assert ReserveTerms(threshold=D(1), efficiency=D(1), cap=D(1)).window_hours is None


@given(
    level=st.integers(0, 60_000_000),
    served=st.integers(0, 20_000_000),
    drawn=st.integers(0, 60_000_000),
)
def test_reserve_never_exceeds_its_cap_nor_goes_negative(
    level: int, served: int, drawn: int
) -> None:
    state = ReserveState(level=min(D(level).scaleb(-6), D(50)))
    after = draw(state, D(drawn).scaleb(-6))
    if isinstance(after, Refusal):
        assert D(drawn).scaleb(-6) > state.level
        after = state
    closed = close_hour(after, D(served).scaleb(-6), TERMS)
    assert D(0) <= closed.level <= TERMS.cap
    assert closed.level >= after.level


# -- the rate limiter -------------------------------------------------------------------------


def _card(**options: object) -> RateCard:
    card = RateCard.default()
    return card.model_copy(update={"options": card.options.model_copy(update=options)})


def test_hourly_figures_of_pro_and_plus() -> None:
    pro = HourlyLimits.for_tier(RateCard.default(), "pro", seats=2)
    assert pro.hourly_allocation == D("27.777778")  # 20000 / 720
    assert pro.limit == D("277.777780")
    assert pro.threshold == D("19.444445")  # 0.7 x 27.777778 = 19.4444446
    assert pro.reserve_cap == D("111.111112")
    assert pro.efficiency == D("0.60")
    assert (pro.window_hours, pro.window_cap) == (None, None)
    assert pro.most_per_hour == D("388.888892")
    plus = HourlyLimits.for_tier(RateCard.default(), "plus")
    assert plus.reserve_cap == 2 * plus.hourly_allocation
    free = HourlyLimits.for_tier(RateCard.default(), "free")
    assert free.reserve_cap == 0


def test_the_window_rule_comes_from_the_card() -> None:
    limits = HourlyLimits.for_tier(
        _card(reserve_window_hours=3, reserve_window_cap_hours=D("1.5")), "pro"
    )
    assert limits.window_hours == 3
    assert limits.window_cap == D("20.833334")  # 1.5 x 13.888889 = 20.8333335
    terms = limits.reserve_terms
    assert (terms.window_hours, terms.window_cap) == (3, D("20.833334"))
    assert (terms.threshold, terms.efficiency, terms.cap) == (
        limits.threshold,
        limits.efficiency,
        limits.reserve_cap,
    )
    only_hours = HourlyLimits.for_tier(_card(reserve_window_hours=3), "pro")
    assert (only_hours.window_hours, only_hours.window_cap) == (None, None)
    only_cap = HourlyLimits.for_tier(_card(reserve_window_cap_hours=D(1)), "pro")
    assert (only_cap.window_hours, only_cap.window_cap) == (None, None)


def test_too_many_seats_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^plus allows at most 5 seat\(s\), got 6$"):
        HourlyLimits.for_tier(RateCard.default(), "plus", seats=6)


LIMITS = HourlyLimits(
    hourly_allocation=D(10), limit=D(100), threshold=D(7), reserve_cap=D(40), efficiency=D("0.6")
)


def test_admit_serves_from_the_allowance_then_the_reserve() -> None:
    assert admit(LIMITS, D(0), D(0), D(30)) == Admission(
        served=D(30), from_allowance=D(30), from_reserve=D(0)
    )
    assert admit(LIMITS, D(90), D(20), D(25)) == Admission(
        served=D(25), from_allowance=D(10), from_reserve=D(15)
    )
    assert admit(LIMITS, D(110), D(20), D(10)) == Admission(
        served=D(10), from_allowance=D(0), from_reserve=D(10)
    )


def test_admit_at_exactly_the_room_left() -> None:
    assert admit(LIMITS, D(90), D(5), D(15)) == Admission(
        served=D(15), from_allowance=D(10), from_reserve=D(5)
    )
    refused = admit(LIMITS, D(90), D(5), D("15.000001"))
    assert isinstance(refused, Refusal)
    assert refused.reason is Reason.RATE_LIMITED
    assert refused.detail == "15 CCU left in this hour, 15.000001 needed"


def test_admit_refuses_what_no_hour_can_hold() -> None:
    whole = admit(LIMITS, D(0), D(40), D(140))
    assert whole == Admission(served=D(140), from_allowance=D(100), from_reserve=D(40))
    refused = admit(LIMITS, D(0), D(40), D("140.000001"))
    assert isinstance(refused, Refusal)
    assert refused.reason is Reason.TOO_LARGE
    assert refused.amount == D("140.000001")
    assert "more than any hour can hold (140)" in refused.detail


def test_fluid_mode_serves_the_part_that_fits() -> None:
    part = admit(LIMITS, D(90), D(5), D(40), Mode.FLUID)
    assert part == Admission(served=D(15), from_allowance=D(10), from_reserve=D(5), refused=D(25))
    big = admit(LIMITS, D(0), D(0), D(500), Mode.FLUID)  # never TOO_LARGE in fluid mode
    assert big == Admission(served=D(100), from_allowance=D(100), from_reserve=D(0), refused=D(400))
    half = admit(LIMITS, D("99.5"), D(0), D(3), Mode.FLUID)  # less than 1 CCU of room
    assert half == Admission(
        served=D("0.5"), from_allowance=D("0.5"), from_reserve=D(0), refused=D("2.5")
    )
    none = admit(LIMITS, D(100), D(0), D(1), Mode.FLUID)
    assert isinstance(none, Refusal)
    assert none.reason is Reason.RATE_LIMITED
    over = admit(LIMITS, D(150), D(10), D(1), Mode.FLUID)  # served past L + R: room 0
    assert isinstance(over, Refusal)
    assert over.detail == "0 CCU left in this hour, 1 needed"


@given(served=st.integers(0, 200), reserve=st.integers(0, 40), amount=st.integers(0, 200))
def test_admit_splits_add_up(served: int, reserve: int, amount: int) -> None:
    result = admit(LIMITS, D(served), D(reserve), D(amount), Mode.FLUID)
    if isinstance(result, Refusal):
        assert served >= 100 + reserve and amount > 0
        return
    assert result.served + result.refused == amount
    assert result.from_allowance + result.from_reserve == result.served
    assert result.from_allowance <= max(100 - served, 0)
    assert served + result.served <= 100 + reserve or result.served == 0


# -- the ledger -------------------------------------------------------------------------------


def _opened() -> Ledger:
    ledger = grant(Ledger(), D(30), at=T0, expires=T2, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(20), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    return grant(ledger, D(100), at=T0, expires=T1)


def test_grant_appends_a_block_and_an_entry() -> None:
    ledger = grant(Ledger(), D(100), at=T0, expires=T1)
    assert ledger.granted == D(100)
    assert ledger.next_id == 2
    assert ledger.blocks == (
        Block(id=1, kind=BlockKind.GRANT, created=T0, expires=T1, amount=D(100), remaining=D(100)),
    )
    assert ledger.entries() == (
        LedgerEntry(seq=1, at=T0, kind=EntryKind.GRANT, amount=D(100), block=1),
    )
    second = grant(ledger, D(0), at=T1, expires=T2)
    assert [e.seq for e in second.entries()] == [1, 2]
    assert second.next_id == 3
    with pytest.raises(ValueError, match="negative"):
        grant(ledger, D(-1), at=T0, expires=T1)


def test_blocks_burn_rollover_first_soonest_expiry_first() -> None:
    ledger = _opened()
    assert [b.id for b in ledger.blocks] == [2, 1, 3]
    assert ledger.balance == D(150)
    assert ledger.rollover_balance == D(50)
    ledger, split = spend(ledger, D(60), at=T0, allow_overage=False)
    assert split == SpendSplit(from_rollover=D(50), from_grant=D(10), overage=D(0))
    assert [(b.id, b.remaining) for b in ledger.blocks] == [(2, 0), (1, 0), (3, 90)]
    spends = [e for e in ledger.entries() if e.kind is EntryKind.SPEND]
    assert [(e.seq, e.amount, e.block) for e in spends] == [(4, 20, 2), (5, 30, 1), (6, 10, 3)]
    assert ledger.spent == D(60)
    assert ledger.overage == 0


def test_same_expiry_burns_the_oldest_block_first() -> None:
    ledger = grant(Ledger(), D(5), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(5), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    ledger, _ = spend(ledger, D(3), at=T0, allow_overage=False)
    assert [(b.id, b.remaining) for b in ledger.blocks] == [(1, 2), (2, 5)]


def test_spend_past_the_balance_bills_overage_or_refuses() -> None:
    ledger = grant(Ledger(), D(100), at=T0, expires=T1)
    refused = spend(ledger, D("100.000001"), at=T0, allow_overage=False)
    assert isinstance(refused, Refusal)
    assert refused.reason is Reason.NO_CREDITS
    assert refused.detail == (
        "100 CCU of credit left, 100.000001 needed, and the tier has no overage"
    )
    exact = spend(ledger, D(100), at=T0, allow_overage=False)
    assert not isinstance(exact, Refusal)
    assert exact[0].balance == 0
    after, split = spend(ledger, D(130), at=T0, allow_overage=True)  # type: ignore[misc]
    assert split == SpendSplit(from_rollover=D(0), from_grant=D(100), overage=D(30))
    assert (after.spent, after.overage, after.balance) == (D(100), D(30), D(0))
    assert after.entries()[-1] == LedgerEntry(seq=3, at=T0, kind=EntryKind.OVERAGE, amount=D(30))
    again, split = spend(after, D(5), at=T1, allow_overage=True)  # type: ignore[misc]
    assert (again.overage, split.overage) == (D(35), D(5))
    with pytest.raises(ValueError, match="negative"):
        spend(ledger, D(-1), at=T0, allow_overage=True)


def test_spending_nothing_writes_nothing() -> None:
    ledger = grant(Ledger(), D(10), at=T0, expires=T1)
    after, split = spend(ledger, D(0), at=T0, allow_overage=False)  # type: ignore[misc]
    assert split == SpendSplit()
    assert len(after.log) == 1
    assert after.blocks == ledger.blocks


def test_close_rolls_over_the_leftover_up_to_the_cap() -> None:
    ledger = grant(Ledger(), D(100), at=T0, expires=T1)
    ledger, _ = spend(ledger, D(40), at=T0, allow_overage=False)  # type: ignore[misc]
    closed, closing = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(50))
    assert closing == Closing(expired=D(10), rolled_over=D(50), truncated=D(10))
    assert closed.blocks == (
        Block(id=2, kind=BlockKind.ROLLOVER, created=T1, expires=T2, amount=D(50), remaining=D(50)),
    )
    assert closed.next_id == 3
    assert closed.expired == D(10)
    tail = closed.entries()[-2:]
    assert tail == (
        LedgerEntry(seq=3, at=T1, kind=EntryKind.ROLLOVER, amount=D(50), block=2),
        LedgerEntry(seq=4, at=T1, kind=EntryKind.EXPIRE, amount=D(10)),
    )
    assert closed.granted == closed.spent + closed.expired + closed.balance


def test_a_leftover_under_one_ccu_still_rolls_over() -> None:
    ledger = grant(Ledger(), D(1), at=T0, expires=T1)
    ledger, _ = spend(ledger, D("0.5"), at=T0, allow_overage=False)  # type: ignore[misc]
    closed, closing = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(10))
    assert closing == Closing(expired=D(0), rolled_over=D("0.5"), truncated=D(0))
    assert closed.rollover_balance == D("0.5")
    assert [e.kind for e in closed.entries()][-1] is EntryKind.ROLLOVER


def test_the_cap_counts_rollover_already_held() -> None:
    ledger = grant(Ledger(), D(30), at=T0, expires=T2, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(100), at=T0, expires=T1)
    closed, closing = close_period(ledger, at=T1, rollover_expires=T3, rollover_cap=D(50))
    assert closing == Closing(expired=D(80), rolled_over=D(20), truncated=D(80))
    assert closed.rollover_balance == D(50)
    full = grant(Ledger(), D(60), at=T0, expires=T2, kind=BlockKind.ROLLOVER)
    full = grant(full, D(10), at=T0, expires=T1)
    closed, closing = close_period(full, at=T1, rollover_expires=T3, rollover_cap=D(50))
    assert closing == Closing(expired=D(10), rolled_over=D(0), truncated=D(10))
    assert closed.next_id == full.next_id  # no block was made


def test_without_rollover_the_leftover_expires() -> None:
    ledger = grant(Ledger(), D(100), at=T0, expires=T1)
    closed, closing = close_period(ledger, at=T1, rollover_expires=None, rollover_cap=D(50))
    assert closing == Closing(expired=D(100), rolled_over=D(0), truncated=D(100))
    assert closed.blocks == ()
    assert closed.entries()[-1] == LedgerEntry(seq=2, at=T1, kind=EntryKind.EXPIRE, amount=D(100))


def test_expiring_rollover_blocks_are_logged_by_block() -> None:
    ledger = grant(Ledger(), D(3), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(7), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(9), at=T0, expires=T2, kind=BlockKind.ROLLOVER)
    ledger, _ = spend(ledger, D(3), at=T0, allow_overage=False)  # type: ignore[misc]
    closed, closing = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(100))
    assert closing == Closing(expired=D(7), rolled_over=D(0), truncated=D(0))
    expires = [e for e in closed.entries() if e.kind is EntryKind.EXPIRE]
    assert expires == [LedgerEntry(seq=5, at=T1, kind=EntryKind.EXPIRE, amount=D(7), block=2)]
    assert [(b.id, b.remaining) for b in closed.blocks] == [(3, 9)]  # emptied block 1 is gone
    assert closed.expired == D(7)


def test_a_block_expiring_after_the_close_is_kept() -> None:
    ledger = grant(Ledger(), D(5), at=T0, expires=T2)
    closed, closing = close_period(ledger, at=T1, rollover_expires=T3, rollover_cap=D(50))
    assert closed.blocks == ledger.blocks
    assert closing == Closing(expired=D(0), rolled_over=D(0), truncated=D(0))


def test_the_entry_log_is_an_immutable_list() -> None:
    empty = EntryLog()
    assert len(empty) == 0
    assert list(empty) == []
    first = LedgerEntry(seq=1, at=T0, kind=EntryKind.GRANT, amount=D(1), block=1)
    second = LedgerEntry(seq=2, at=T0, kind=EntryKind.SPEND, amount=D(1), block=1)
    one = empty.append(first)
    two = one.append(second)
    assert (len(one), len(two)) == (1, 2)
    assert list(two) == [first, second]
    assert list(one) == [first]
    assert two == EntryLog().append(first).append(second)
    assert two != one
    assert one != EntryLog().append(second)
    assert two == two
    assert (two == "log") is False
    assert repr(two) == "EntryLog(2 entries)"
    with pytest.raises(TypeError):
        hash(two)


@given(st.lists(st.tuples(st.sampled_from("gsc"), st.integers(0, 50_000_000)), max_size=12))
def test_granted_is_spent_plus_expired_plus_balance(steps: list[tuple[str, int]]) -> None:
    ledger = Ledger()
    at = T0
    for kind, micro in steps:
        amount = D(micro).scaleb(-6)
        if kind == "g":
            ledger = grant(ledger, amount, at=at, expires=at.replace(year=at.year + 1))
        elif kind == "s":
            result = spend(ledger, amount, at=at, allow_overage=True)
            assert not isinstance(result, Refusal)
            ledger = result[0]
        else:
            ledger, _ = close_period(
                ledger,
                at=at.replace(year=at.year + 1),
                rollover_expires=at.replace(year=at.year + 2),
                rollover_cap=D(30),
            )
            at = at.replace(year=at.year + 1)
        assert ledger.granted == ledger.spent + ledger.expired + ledger.balance
        if kind == "c":  # a close keeps no empty block
            assert all(b.remaining > 0 for b in ledger.blocks)


def test_overage_under_one_ccu_is_logged() -> None:
    ledger = grant(Ledger(), D(1), at=T0, expires=T1)
    after, split = spend(ledger, D("1.5"), at=T0, allow_overage=True)  # type: ignore[misc]
    assert split.overage == D("0.5")
    assert after.entries()[-1] == LedgerEntry(seq=3, at=T0, kind=EntryKind.OVERAGE, amount=D("0.5"))


def test_every_expiring_rollover_block_counts() -> None:
    ledger = grant(Ledger(), D(2), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(3), at=T0, expires=T1, kind=BlockKind.ROLLOVER)
    closed, closing = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(9))
    assert closing.expired == D(5)
    assert closed.expired == D(5)
    assert closed.granted == closed.spent + closed.expired + closed.balance


def test_a_truncated_part_under_one_ccu_is_logged() -> None:
    ledger = grant(Ledger(), D("10.5"), at=T0, expires=T1)
    closed, closing = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(10))
    assert closing == Closing(expired=D("0.5"), rolled_over=D(10), truncated=D("0.5"))
    assert closed.entries()[-1] == LedgerEntry(seq=3, at=T1, kind=EntryKind.EXPIRE, amount=D("0.5"))


def test_an_emptied_block_is_dropped_at_the_close_even_if_it_expires_later() -> None:
    ledger = grant(Ledger(), D(4), at=T0, expires=T3, kind=BlockKind.ROLLOVER)
    ledger = grant(ledger, D(4), at=T0, expires=T3, kind=BlockKind.ROLLOVER)
    ledger, _ = spend(ledger, D(4), at=T0, allow_overage=False)  # type: ignore[misc]
    closed, _ = close_period(ledger, at=T1, rollover_expires=T2, rollover_cap=D(9))
    assert [(b.id, b.remaining) for b in closed.blocks] == [(2, 4)]
