"""When one simple moving average crossed another, or the price crossed an average:
"did JPM have a golden cross recently", "when did KO last cross above its 50-day".

Conventions: the stored (adjusted) closes; SMAs of ``fast`` and ``slow`` closes, warmed up
on all the history before the window, so a cross on the window's first day counts. A
cross is the first close on which the fast line (the price, when ``fast`` is 1) is
above the slow one after being at or below it the close before ("golden", or "above"
for the price), or below it after being at or above it ("death", or "below"). The same
rule as the `cross_sma` alert and the sma-cross backtest's signal. A 1-close SMA is the
close itself: ``fast`` 1 is the price crossing the slow average.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, Field

from tools.errors import InvalidInputError
from tools.market_data import PriceFrame


class CrossKind(StrEnum):
    GOLDEN = "golden"
    DEATH = "death"
    ABOVE = "above"
    BELOW = "below"


class Cross(BaseModel):
    day: date
    kind: CrossKind
    close: float
    fast: float = Field(description="The fast SMA on that close (the close itself for price).")
    slow: float


class Crosses(BaseModel):
    symbol: str
    as_of: date
    start: date
    end: date
    fast: int = Field(description="The fast SMA's closes; 1: the price itself.")
    slow: int
    crosses: list[Cross] = Field(description="Every cross in [start, end], oldest first.")
    before: Cross | None = Field(
        description="The last cross before `start`, when the window has none."
    )
    fast_now: float | None
    slow_now: float | None
    above_now: bool | None = Field(description="Whether the fast line ends above the slow one.")


def find_crosses(
    history: PriceFrame, slow: int, fast: int = 1, start: date | None = None
) -> Crosses:
    """The crosses of ``history`` (all of it up to its last close) from ``start`` on."""
    if fast >= slow:
        raise InvalidInputError(f"the fast average ({fast}) must be shorter than the slow ({slow})")
    price = history.price.astype("float64")
    slow_line = price.rolling(slow).mean()
    fast_line = price.rolling(fast).mean()
    gap = (fast_line - slow_line).to_numpy()
    index = price.index
    up, down = (
        (CrossKind.ABOVE, CrossKind.BELOW) if fast == 1 else (CrossKind.GOLDEN, CrossKind.DEATH)
    )
    found: list[Cross] = []
    for i in range(1, len(gap)):
        if np.isnan(gap[i]) or np.isnan(gap[i - 1]):
            continue
        kind = up if gap[i] > 0 >= gap[i - 1] else down if gap[i] < 0 <= gap[i - 1] else None
        if kind is not None:
            found.append(
                Cross(
                    day=index[i].date(),
                    kind=kind,
                    close=float(price.iloc[i]),
                    fast=float(fast_line.iloc[i]),
                    slow=float(slow_line.iloc[i]),
                )
            )
    first = start or index[0].date()
    inside = [c for c in found if c.day >= first]
    earlier = [c for c in found if c.day < first]
    last_gap = gap[-1] if len(gap) else np.nan
    return Crosses(
        symbol=history.symbol,
        as_of=history.as_of,
        start=max(first, index[0].date()),
        end=history.as_of,
        fast=fast,
        slow=slow,
        crosses=inside,
        before=earlier[-1] if earlier and not inside else None,
        fast_now=None if np.isnan(fast_line.iloc[-1]) else float(fast_line.iloc[-1]),
        slow_now=None if np.isnan(slow_line.iloc[-1]) else float(slow_line.iloc[-1]),
        above_now=None if np.isnan(last_gap) else bool(last_gap > 0),
    )
