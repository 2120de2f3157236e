"""A watchlist symbol at a glance, for briefings: its last close, its moves, RSI and its
place against the 50-day average.

Conventions: closes are the stored (adjusted) closes; a move is the simple return over
the last 1 and 5 closes (a trading day and a trading week), as a fraction; RSI is Wilder's
over 14 bars (the indicator tool's); the 50-day average is a simple moving average of
closes. A figure that needs more closes than there are is None, never a guess.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, Field

RSI_BARS = 14
SMA_BARS = 50


class Snapshot(BaseModel):
    symbol: str
    as_of: date = Field(description="The date of the last close.")
    close: float
    change_1d: float | None = Field(description="Simple return over the last close, a fraction.")
    change_5d: float | None = Field(description="Simple return over the last 5 closes.")
    rsi14: float | None
    sma50: float | None
    source: str

    @property
    def reading(self) -> str:
        """RSI read as analysts do: 70 and above overbought, 30 and below oversold."""
        if self.rsi14 is None:
            return "too few closes for an RSI"
        if self.rsi14 >= 70:
            return "overbought"
        if self.rsi14 <= 30:
            return "oversold"
        return "neutral"


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def snapshot(symbol: str, closes: pd.Series, source: str) -> Snapshot:
    """``closes`` dated, oldest first (ValueError when there are none)."""
    closes = closes.dropna()
    if closes.empty:
        raise ValueError(f"no closes for {symbol}")
    values = closes.to_numpy(dtype="float64")
    last = float(values[-1])

    def change(bars: int) -> float | None:
        return last / float(values[-1 - bars]) - 1 if len(values) > bars else None

    rsi = talib.RSI(values, RSI_BARS)[-1] if len(values) > RSI_BARS else np.nan
    sma = talib.SMA(values, SMA_BARS)[-1] if len(values) >= SMA_BARS else np.nan
    return Snapshot(
        symbol=symbol,
        as_of=closes.index[-1].date(),
        close=last,
        change_1d=change(1),
        change_5d=change(5),
        rsi14=_finite(rsi),
        sma50=_finite(sma),
        source=source,
    )
