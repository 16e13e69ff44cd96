"""Rate cards: every price, pool and factor of the credit model as data.

A :class:`RateCard` holds the meter rates of the CCU model, per-model token
rates, the plan tiers and the model's options (reserve threshold and
efficiency, fast-mode factor, credits per USD...). Nothing in the engine is a
constant in code: load a card with your contract's figures and the same
mechanics apply (docs/rate-cards.md).

Two cards are built in (:data:`BUILTIN_CARDS`):

``codex-ccu-2026-06`` (the default)
    The planning model of CCU (Codex Compute Units): reasoning tokens, tool
    calls, sandbox minutes by class and output tokens; tiers free, go, plus
    and pro with pools, reserve, rollover and overage.
``codex-tokens-2026-04``
    Codex's real per-token credit card: credits per 1,000,000 tokens by
    model, uncached input, cached input and output; 25 credits = 1 USD.

>>> card = RateCard.default()
>>> card.tier("pro").pool(seats=2)
Decimal('20000')
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, final

import tomli_w
from pydantic import Field, ValidationError, field_validator, model_validator

from codex_credits.configfile import parse_document, read_text
from codex_credits.core.builtincards import BUILTIN_CARDS, BUILTIN_DATA, DEFAULT_CARD, TOKEN_CARD
from codex_credits.core.model import Frozen
from codex_credits.core.timeofday import PricingWindow
from codex_credits.core.units import ZERO, Ccu, Usd, quantize_ccu
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError, UnknownModelError
from codex_credits.limits import check_magnitudes

__all__ = [
    "BUILTIN_CARDS",
    "DEFAULT_CARD",
    "TOKEN_CARD",
    "TOKEN_CATEGORIES",
    "MeterRates",
    "ModelRates",
    "ModelTier",
    "Options",
    "RateCard",
    "ReservePolicy",
    "TierSpec",
    "format_validation_error",
]

NonNegative = Field(ge=0)


class ReservePolicy(StrEnum):
    """How much of the hourly savings reserve a tier gets."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


@final
class TierSpec(Frozen):
    """One plan tier. Amounts are per seat and per billing month."""

    price_per_seat_usd: Usd = Field(ge=0)
    monthly_ccu_per_seat: Ccu = Field(ge=0)
    max_seats: int | None = Field(default=None, ge=1, description="None: unlimited")
    concurrency: int | None = Field(default=None, ge=1, description="None: unlimited")
    reserve: ReservePolicy = ReservePolicy.NONE
    reserve_cap_hours: Ccu = Field(default=ZERO, ge=0, description="reserve cap in hours of H")
    rollover_periods: int = Field(default=0, ge=0)
    rollover_cap_pools: Ccu = Field(default=ZERO, ge=0, description="rollover cap in pools")
    overage_usd_per_ccu: Usd | None = Field(default=None, ge=0, description="None: hard stop")
    rate_limit_multiple: Ccu = Field(default=Decimal(10), gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> TierSpec:
        if self.reserve is ReservePolicy.NONE and self.reserve_cap_hours != 0:
            raise ValueError("reserve_cap_hours must be 0 when reserve is 'none'")
        if self.rollover_periods == 0 and self.rollover_cap_pools != 0:
            raise ValueError("rollover_cap_pools must be 0 when rollover_periods is 0")
        return self

    @property
    def has_overage(self) -> bool:
        """True when spending past the balance is billed instead of blocked."""
        return self.overage_usd_per_ccu is not None

    def pool(self, seats: int = 1) -> Decimal:
        """The shared monthly pool: seats x monthly CCU per seat."""
        return self.monthly_ccu_per_seat * seats

    def check_seats(self, seats: int, name: str = "tier") -> None:
        """Raise ConfigError when ``seats`` is outside what the tier allows."""
        if seats < 1:
            raise ConfigError(f"seats must be at least 1, got {seats}")
        if self.max_seats is not None and seats > self.max_seats:
            raise ConfigError(f"{name} allows at most {self.max_seats} seat(s), got {seats}")


@final
class MeterRates(Frozen):
    """Rates of the CCU model's consumption categories."""

    reasoning_per_1k_tokens: Ccu = Field(ge=0)
    tool_call: Ccu = Field(ge=0)
    sandbox_per_minute: dict[str, Ccu]
    default_sandbox_class: str = "medium"
    output_per_1k_tokens: Ccu = Field(ge=0)
    input_per_1k_tokens: Ccu = Field(default=ZERO, ge=0)
    cached_input_per_1k_tokens: Ccu = Field(default=ZERO, ge=0)
    cached_context_per_1k_tokens: Ccu | None = Field(
        default=None,
        ge=0,
        description="CCU per 1,000 reasoning tokens of context served from a cache",
    )

    def categories(self) -> tuple[str, ...]:
        """The categories a task on these meters can be charged in."""
        return (
            "reasoning",
            "tool_calls",
            "sandbox",
            "output",
            "input",
            "cached_input",
            "cached_context",
        )

    @field_validator("sandbox_per_minute")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [name for name, rate in value.items() if rate < 0]
        if bad:
            raise ValueError(f"sandbox rates must be >= 0 (classes {', '.join(bad)})")
        if not value:
            raise ValueError("at least one sandbox class is needed")
        return value

    @model_validator(mode="after")
    def _default_class_known(self) -> MeterRates:
        if self.default_sandbox_class not in self.sandbox_per_minute:
            raise ValueError(
                f"default_sandbox_class {self.default_sandbox_class!r} is not one of "
                f"{sorted(self.sandbox_per_minute)}"
            )
        return self


@final
class ModelRates(Frozen):
    """Credits per 1,000,000 tokens of one model."""

    input_per_1m: Ccu = Field(ge=0)
    cached_input_per_1m: Ccu = Field(ge=0)
    output_per_1m: Ccu = Field(ge=0)


@final
class ModelTier(Frozen):
    """A model of a CCU card: every meter of its tasks costs ``multiplier`` times the rate."""

    multiplier: Ccu = Field(gt=0)
    description: str = ""


TOKEN_CATEGORIES: tuple[str, ...] = ("uncached_input", "cached_input", "output")
"""The categories of a task priced by model (token cards)."""


@final
class Options(Frozen):
    """Figures of the model that are not per tier."""

    hours_per_month: int = Field(default=720, gt=0, description="H = pool / hours_per_month")
    reserve_threshold: Ccu = Field(default=Decimal("0.70"), ge=0, le=1)
    reserve_efficiency: Ccu = Field(default=Decimal("0.60"), ge=0, le=1)
    reserve_window_hours: int | None = Field(
        default=None, gt=0, description="optional anti-gaming rule: cap accrual per window"
    )
    reserve_window_cap_hours: Ccu | None = Field(
        default=None, ge=0, description="most accrual per window, in hours of H"
    )
    fast_mode_factor: Ccu = Field(default=Decimal(2), gt=0)
    credits_per_usd: Ccu = Field(default=Decimal(25), gt=0)


@final
class RateCard(Displayed, Frozen):
    """A complete, validated rate card. Load one with :meth:`load` or :meth:`builtin`."""

    name: str = Field(min_length=1)
    unit: Literal["CCU", "credits"] = "CCU"
    description: str = ""
    meters: MeterRates | None = None
    models: dict[str, ModelRates] = Field(default_factory=dict)
    fallback_model: str | None = None
    tiers: dict[str, TierSpec] = Field(default_factory=dict)
    options: Options = Field(default_factory=Options)
    model_tiers: dict[str, ModelTier] = Field(
        default_factory=dict, description="CCU cards: a multiplier per model name"
    )
    windows: tuple[PricingWindow, ...] = Field(
        default=(), description="time-of-day windows in which some meters are discounted"
    )

    @model_validator(mode="after")
    def _complete(self) -> RateCard:
        if self.meters is None and not self.models:
            raise ValueError("a card needs meter rates, model rates, or both")
        if self.fallback_model is not None and self.fallback_model not in self.models:
            raise ValueError(f"fallback_model {self.fallback_model!r} is not in models")
        if self.model_tiers and self.meters is None:
            raise ValueError("model_tiers need meters: a token card prices each model itself")
        known = self.categories()
        names = [w.name for w in self.windows]
        for i, window in enumerate(self.windows):
            unknown = [m for m in window.meters if m not in known]
            if unknown:
                raise ValueError(
                    f"windows.{i}.meters: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                    f"{', '.join(unknown)}; this card charges {', '.join(known)}"
                )
            if names.count(window.name) > 1:
                raise ValueError(f"windows.{i}.name: {window.name!r} is used twice")
        return self

    def categories(self) -> tuple[str, ...]:
        """The categories this card charges a task in (meters, else token categories)."""
        if self.meters is not None:
            return self.meters.categories()
        return TOKEN_CATEGORIES

    def window(self, name: str | None = None) -> PricingWindow:
        """The window called ``name``, or (``None``) the one with the largest discount."""
        if not self.windows:
            raise ConfigError(f"card {self.name} has no time-of-day windows")
        if name is None:
            return max(self.windows, key=lambda w: w.discount)
        for window in self.windows:
            if window.name == name:
                return window
        known = ", ".join(w.name for w in self.windows)
        raise ConfigError(f"card {self.name} has no window {name!r}; windows: {known}")

    def with_windows(self, *windows: PricingWindow) -> RateCard:
        """This card with ``windows`` added (validated again, like any card)."""
        data = self.to_data()
        data["windows"] = [*data.get("windows", ()), *(w.model_dump() for w in windows)]
        return RateCard.from_data(data, source=f"card {self.name} with windows")

    def model_multiplier(self, model: str | None) -> Decimal:
        """The multiplier of ``model`` on a CCU card: its tier's, else 1."""
        if model is None or not self.model_tiers:
            return Decimal(1)
        tier = self.model_tiers.get(model) or self.model_tiers.get(model.lower())
        return tier.multiplier if tier is not None else Decimal(1)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def default(cls) -> RateCard:
        """The default card, ``codex-ccu-2026-06``."""
        return cls.builtin(DEFAULT_CARD)

    @classmethod
    def builtin(cls, name: str) -> RateCard:
        """A built-in card by name (see :data:`BUILTIN_CARDS`)."""
        try:
            data = BUILTIN_DATA[name]
        except KeyError:
            raise ConfigError(
                f"no built-in card {name!r}; built-in cards are: {', '.join(BUILTIN_CARDS)}"
            ) from None
        return cls.from_data(data, source=f"built-in card {name}")

    @classmethod
    def from_data(cls, data: Any, source: str = "rate card") -> RateCard:
        """Validate a mapping; every problem is reported with its field path."""
        try:
            return cls.model_validate(check_magnitudes(data, source))
        except ValidationError as exc:
            problems = format_validation_error(exc)
            raise ConfigError(
                f"{source} is invalid:\n  " + "\n  ".join(problems), problems
            ) from None

    @classmethod
    def from_text(
        cls, text: str, fmt: Literal["toml", "json"], source: str = "rate card"
    ) -> RateCard:
        """Parse TOML or JSON text; numbers are read as exact decimals."""
        return cls.from_data(parse_document(text, fmt, source), source=source)

    @classmethod
    def load(cls, path: str | Path) -> RateCard:
        """Load a card from a ``.toml`` or ``.json`` file."""
        path = Path(path)
        fmt = _format_of(path)
        return cls.from_text(read_text(path, "rate card"), fmt, source=str(path))

    @classmethod
    def resolve(cls, name_or_path: str | Path | None) -> RateCard:
        """A built-in card by name, a card file by path, or the default for ``None``."""
        if name_or_path is None:
            return cls.default()
        if isinstance(name_or_path, str) and name_or_path in BUILTIN_DATA:
            return cls.builtin(name_or_path)
        return cls.load(name_or_path)

    # -- output ------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """A plain mapping with exact Decimals, omitting unset optional parts."""
        return self.model_dump(mode="python", exclude_none=True)

    def to_text(self, fmt: Literal["toml", "json"]) -> str:
        """The card as TOML or JSON text; :meth:`from_text` reads it back equal."""
        if fmt == "toml":
            return tomli_w.dumps(self.to_data())
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"

    def dump(self, path: str | Path) -> None:
        """Write the card to a ``.toml`` or ``.json`` file (an exact round trip)."""
        path = Path(path)
        path.write_text(self.to_text(_format_of(path)), encoding="utf-8")

    # -- lookups -----------------------------------------------------------------------------

    def tier(self, name: str) -> TierSpec:
        """The tier called ``name``; ConfigError lists the known tiers."""
        try:
            return self.tiers[name]
        except KeyError:
            known = ", ".join(self.tiers) or "none (this card has no tiers)"
            raise ConfigError(f"card {self.name} has no tier {name!r}; tiers: {known}") from None

    def model_rates(self, model: str | None) -> tuple[str, ModelRates, bool]:
        """``(model used, its rates, whether the fallback was used)`` for a model name.

        Raises:
            UnknownModelError: the card does not price ``model`` and has no fallback.
        """
        if model is not None:
            for candidate in (model, model.lower(), model.lower().removeprefix("openai/")):
                if candidate in self.models:
                    return candidate, self.models[candidate], False
        if self.fallback_model is not None:
            return self.fallback_model, self.models[self.fallback_model], True
        known = ", ".join(sorted(self.models)) or "none"
        what = f"model {model!r}" if model is not None else "a task without a model"
        raise UnknownModelError(
            f"card {self.name} does not price {what}; known models: {known}. "
            "Pass one of them, or load a card with a fallback_model."
        )

    def hourly_allocation(self, tier: str, seats: int = 1) -> Decimal:
        """H = pool / hours_per_month, quantized to 0.000001 CCU."""
        return quantize_ccu(self.tier(tier).pool(seats) / self.options.hours_per_month)


def format_validation_error(exc: ValidationError) -> tuple[str, ...]:
    """One line per problem: ``field.path: message``."""
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(card)"
        message = error["msg"]
        ctx = error.get("ctx") or {}
        original = ctx.get("error")
        if isinstance(original, Exception):
            message = str(original)
        lines.append(f"{path}: {message}")
    return tuple(lines)


def _format_of(path: Path) -> Literal["toml", "json"]:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "json"
    raise ConfigError(f"{path}: a rate card file must end in .toml or .json")
