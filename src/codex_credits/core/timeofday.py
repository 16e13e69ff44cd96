"""Time-of-day pricing windows: local hours in an IANA time zone, as UTC intervals.

Theory of operation (docs/rate-cards.md, "Time-of-day windows"): a card may
list windows such as "02:00 to 07:00 in America/New_York, sandbox 40% off".
A window is local wall-clock time, so its UTC instants move with daylight
saving: :func:`window_intervals` lists, for every local day, the UTC interval
``[open, close)`` of the window. A local hour that does not exist (the spring
gap) opens at the first instant after the gap; a local hour that happens twice
(the autumn fold) uses its first occurrence. ``end_hour`` may be smaller than
``start_hour`` (a window across midnight) and may be 24 (midnight at the end
of the day).

>>> w = PricingWindow(name="night", time_zone="America/New_York", start_hour=2,
...                   end_hour=7, meters=("sandbox",), discount=Decimal("0.4"))
>>> march_7 = 1_772_841_600_000_000  # 2026-03-07T00:00Z; DST begins on 8 March
>>> opens, closes = window_intervals(w, march_7, march_7 + 86_400_000_000)
>>> [(int(o) // 3_600_000_000 % 24, int(c) // 3_600_000_000 % 24)
...  for o, c in zip(opens, closes)][3:6]
[(7, 12), (7, 11), (6, 11)]
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.units import Ccu

__all__ = [
    "PricingWindow",
    "discount_factor",
    "in_window",
    "next_opening",
    "window_intervals",
]

_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

if TYPE_CHECKING:  # numpy loads with the first window computed: the CLI starts without it
    import numpy as np
    import numpy.typing as npt

    Int64Array = npt.NDArray[np.int64]


@final
class PricingWindow(Frozen):
    """A daily window of local hours in which some meters are discounted."""

    name: str = Field(min_length=1)
    time_zone: str = Field(description="an IANA time zone, e.g. America/New_York")
    start_hour: int = Field(ge=0, le=23, description="local hour the window opens")
    end_hour: int = Field(ge=1, le=24, description="local hour it closes (exclusive)")
    meters: tuple[str, ...] = Field(min_length=1, description="categories discounted")
    discount: Ccu = Field(gt=0, le=1, description="share taken off, e.g. 0.4 for 40% off")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as America/New_York"
            ) from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> PricingWindow:
        if self.start_hour == self.end_hour:
            raise ValueError("start_hour and end_hour are equal: the window would be empty")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The window's time zone."""
        return ZoneInfo(self.time_zone)


def _local_instant_us(day: date, hour: int, zone: ZoneInfo) -> int:
    """The UTC instant (epoch µs) of ``hour``:00 on local ``day``.

    A nonexistent local time maps to the first instant after the gap; an
    ambiguous one to its first occurrence.
    """
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    local = datetime.combine(day, time(hour), tzinfo=zone)  # fold=0: first occurrence
    utc = local.astimezone(UTC)
    wall = local.replace(tzinfo=None)
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        # In the spring gap: the wall clock jumped over this hour. Open when it resumes.
        utc = local.replace(fold=1).astimezone(UTC)
        while utc.astimezone(zone).replace(tzinfo=None) < wall:
            utc += timedelta(minutes=1)
    delta = utc - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def window_intervals(
    window: PricingWindow, start_us: int, end_us: int
) -> tuple[Int64Array, Int64Array]:
    """UTC ``[open, close)`` intervals of ``window`` covering ``[start_us, end_us]``.

    Returns two ascending arrays of epoch microseconds, one interval per local day.
    """
    import numpy as np

    zone = window.zone
    first = (_EPOCH + timedelta(microseconds=start_us)).astimezone(zone).date() - timedelta(days=2)
    last = (_EPOCH + timedelta(microseconds=end_us)).astimezone(zone).date() + timedelta(days=2)
    wraps = window.end_hour <= window.start_hour
    opens: list[int] = []
    closes: list[int] = []
    day = first
    while day <= last:
        opens.append(_local_instant_us(day, window.start_hour, zone))
        close_day = day + timedelta(days=1) if wraps else day
        closes.append(_local_instant_us(close_day, window.end_hour, zone))
        day += timedelta(days=1)
    return np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64)


def _bounds(window: PricingWindow, ts_us: Int64Array) -> tuple[Int64Array, Int64Array]:
    lo = int(ts_us.min()) if ts_us.size else 0
    hi = int(ts_us.max()) if ts_us.size else 0
    return window_intervals(window, lo, hi)


def in_window(window: PricingWindow, ts_us: Int64Array) -> npt.NDArray[np.bool_]:
    """Whether each instant (epoch µs, UTC) falls inside ``window``."""
    import numpy as np

    if not ts_us.size:
        return np.zeros(0, dtype=np.bool_)
    opens, closes = _bounds(window, ts_us)
    idx = np.searchsorted(opens, ts_us, side="right") - 1
    result: npt.NDArray[np.bool_] = (idx >= 0) & (ts_us < closes[np.maximum(idx, 0)])
    return result


def next_opening(window: PricingWindow, ts_us: Int64Array) -> Int64Array:
    """For each instant, itself when inside ``window``, else the window's next opening."""
    import numpy as np

    if not ts_us.size:
        return ts_us.copy()
    opens, _ = _bounds(window, ts_us)
    inside = in_window(window, ts_us)
    nxt = opens[np.searchsorted(opens, ts_us, side="left")]
    result: Int64Array = np.where(inside, ts_us, nxt)
    return result


def discount_factor(window: PricingWindow) -> Decimal:
    """What a discounted meter costs inside the window: 1 - discount."""
    return Decimal(1) - window.discount
