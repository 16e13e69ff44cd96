from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import BUILTIN_CARDS, ConfigError, RateCard, UnknownModelError
from codex_credits.core.ratecard import ReservePolicy


def test_default_card_is_the_ccu_card() -> None:
    card = RateCard.default()
    assert card.name == "codex-ccu-2026-06"
    assert card.unit == "CCU"
    assert list(card.tiers) == ["free", "go", "plus", "pro"]


@pytest.mark.parametrize(
    ("tier", "price", "pool", "overage", "rollover", "reserve"),
    [
        ("free", "0", "50", None, 0, ReservePolicy.NONE),
        ("go", "9", "500", "0.025", 0, ReservePolicy.NONE),
        ("plus", "20", "2000", "0.018", 1, ReservePolicy.PARTIAL),
        ("pro", "200", "10000", "0.012", 3, ReservePolicy.FULL),
    ],
)
def test_tier_table(
    tier: str, price: str, pool: str, overage: str | None, rollover: int, reserve: ReservePolicy
) -> None:
    spec = RateCard.default().tier(tier)
    assert spec.price_per_seat_usd == Decimal(price)
    assert spec.monthly_ccu_per_seat == Decimal(pool)
    assert spec.overage_usd_per_ccu == (None if overage is None else Decimal(overage))
    assert spec.rollover_periods == rollover
    assert spec.reserve is reserve


def test_hourly_allocation_is_quantized() -> None:
    assert RateCard.default().hourly_allocation("pro") == Decimal("13.888889")
    assert RateCard.default().hourly_allocation("plus", seats=5) == Decimal("13.888889")


def test_seat_limits() -> None:
    card = RateCard.default()
    card.tier("plus").check_seats(5)
    with pytest.raises(ConfigError, match="at most 5"):
        card.tier("plus").check_seats(6)
    card.tier("pro").check_seats(500)


@pytest.mark.parametrize("name", BUILTIN_CARDS)
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_builtin_cards_round_trip_through_files(name: str, suffix: str, tmp_path: Path) -> None:
    card = RateCard.builtin(name)
    path = tmp_path / f"card{suffix}"
    card.dump(path)
    assert RateCard.load(path) == card


def test_bad_card_names_every_problem_by_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
name = "mine"
[meters]
reasoning_per_1k_tokens = -1
tool_call = 0.3
output_per_1k_tokens = "abc"
[meters.sandbox_per_minute]
medium = 0.5
[tiers.team]
price_per_seat_usd = 10
overage_usd_per_ccu = -0.5
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        RateCard.load(path)
    problems = info.value.problems
    assert any(p.startswith("meters.reasoning_per_1k_tokens:") for p in problems)
    assert any(p.startswith("meters.output_per_1k_tokens:") for p in problems)
    assert any(p.startswith("tiers.team.monthly_ccu_per_seat:") for p in problems)
    assert any(p.startswith("tiers.team.overage_usd_per_ccu:") for p in problems)
    assert str(path) in str(info.value)


def test_unknown_builtin_and_bad_suffix() -> None:
    with pytest.raises(ConfigError, match="built-in cards are"):
        RateCard.builtin("nope")
    with pytest.raises(ConfigError, match=r"\.toml or \.json"):
        RateCard.load("card.yaml")


def test_unknown_model_lists_known_ones() -> None:
    card = RateCard.builtin("codex-tokens-2026-04")
    with pytest.raises(UnknownModelError, match=r"gpt-5\.3-codex"):
        card.model_rates("gpt-4o")


def test_fallback_model_is_explicit_and_visible() -> None:
    data = RateCard.builtin("codex-tokens-2026-04").to_data()
    data["fallback_model"] = "gpt-5.5"
    card = RateCard.from_data(data)
    used, _, fallback = card.model_rates("some-new-model")
    assert (used, fallback) == ("gpt-5.5", True)


rates = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def cards(draw: st.DrawFn) -> RateCard:
    classes = draw(st.dictionaries(st.sampled_from(["s", "m", "l", "gpu"]), rates, min_size=1))
    tiers = {}
    for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True)):
        periods = draw(st.integers(0, 4))
        reserve = draw(st.sampled_from(list(ReservePolicy)))
        tiers[name] = {
            "price_per_seat_usd": draw(rates),
            "monthly_ccu_per_seat": draw(rates),
            "max_seats": draw(st.none() | st.integers(1, 50)),
            "reserve": reserve,
            "reserve_cap_hours": Decimal(0) if reserve is ReservePolicy.NONE else draw(rates),
            "rollover_periods": periods,
            "rollover_cap_pools": draw(rates) if periods else Decimal(0),
            "overage_usd_per_ccu": draw(st.none() | rates),
            "rate_limit_multiple": draw(rates.filter(lambda d: d > 0)),
        }
    return RateCard.from_data(
        {
            "name": draw(st.text("abcdefghij-0123456789", min_size=1, max_size=12)),
            "meters": {
                "reasoning_per_1k_tokens": draw(rates),
                "tool_call": draw(rates),
                "sandbox_per_minute": classes,
                "default_sandbox_class": draw(st.sampled_from(sorted(classes))),
                "output_per_1k_tokens": draw(rates),
            },
            "models": {
                m: {
                    "input_per_1m": draw(rates),
                    "cached_input_per_1m": draw(rates),
                    "output_per_1m": draw(rates),
                }
                for m in draw(st.lists(st.sampled_from(["x-1", "y-2"]), unique=True))
            },
            "tiers": tiers,
        }
    )


@given(cards(), st.sampled_from(["toml", "json"]))
def test_any_valid_card_round_trips(card: RateCard, fmt: str) -> None:
    assert RateCard.from_text(card.to_text(fmt), fmt) == card  # type: ignore[arg-type]
