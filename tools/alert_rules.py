"""Alert conditions on a symbol's closes: whether each holds at the latest close.

Conventions: prices are the stored (adjusted) closes; `pct_move` is the absolute simple
return of the latest close over the one before, as a fraction (0.05 = 5%); RSI is the
indicator tool's (Wilder, 14 bars); `cross_sma` holds on a close where the price crossed
its `value`-bar simple moving average (above it after being at or below it the close
before, or the other way). An alert fires when its condition becomes true and re-arms
when it is false again (see assistant/alerts.py), so a condition that stays true fires
once.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class ConditionType(StrEnum):
    PRICE_ABOVE = "price_above"
    PRICE_BELOW = "price_below"
    PCT_MOVE = "pct_move"
    RSI_ABOVE = "rsi_above"
    RSI_BELOW = "rsi_below"
    CROSS_SMA = "cross_sma"


class _Condition(BaseModel):
    """A condition's type and its value; each family states its value's range in the
    schema, so that the API's schema is exactly what the server accepts."""

    model_config = ConfigDict(extra="forbid")

    type: ConditionType
    value: float

    def describe(self, symbol: str) -> str:
        v = self.value
        return {
            ConditionType.PRICE_ABOVE: f"{symbol} closes above {v:g}",
            ConditionType.PRICE_BELOW: f"{symbol} closes below {v:g}",
            ConditionType.PCT_MOVE: f"{symbol} moves {v:.1%} or more in a day",
            ConditionType.RSI_ABOVE: f"{symbol}'s RSI(14) is above {v:g}",
            ConditionType.RSI_BELOW: f"{symbol}'s RSI(14) is below {v:g}",
            ConditionType.CROSS_SMA: f"{symbol} crosses its {v:g}-day moving average",
        }[self.type]


class PriceCondition(_Condition):
    type: Literal[ConditionType.PRICE_ABOVE, ConditionType.PRICE_BELOW]
    value: float = Field(gt=0, le=1e7, allow_inf_nan=False, description="A price.")


class MoveCondition(_Condition):
    type: Literal[ConditionType.PCT_MOVE]
    value: float = Field(
        ge=0.0001, lt=1, allow_inf_nan=False, description="A fraction: 0.05 is a 5% move."
    )


class RsiCondition(_Condition):
    type: Literal[ConditionType.RSI_ABOVE, ConditionType.RSI_BELOW]
    value: float = Field(gt=0, lt=100, allow_inf_nan=False, description="An RSI(14) level.")


class SmaCondition(_Condition):
    type: Literal[ConditionType.CROSS_SMA]
    value: int = Field(ge=2, le=400, description="The moving average's window, in bars.")


Condition = Annotated[
    PriceCondition | MoveCondition | RsiCondition | SmaCondition, Field(discriminator="type")
]
CONDITION: TypeAdapter = TypeAdapter(Condition)


def make_condition(kind: str | ConditionType, value: float) -> _Condition:
    """A condition from its parts, checked (pydantic's ValidationError names the problem)."""
    return CONDITION.validate_python({"type": kind, "value": value})


class Reading(BaseModel):
    """A condition at one close: whether it holds, and what was measured."""

    holds: bool
    as_of: date
    measured: float | None = Field(description="The close, move, RSI or close - SMA read.")
    detail: str


def evaluate(condition: _Condition, closes: pd.Series, symbol: str) -> Reading:
    """``condition`` at the last of ``closes`` (dated, oldest first)."""
    values = closes.dropna().to_numpy(dtype="float64")
    if not len(values):
        raise ValueError(f"no closes for {symbol}")
    as_of = closes.dropna().index[-1].date()
    last = float(values[-1])
    t, v = condition.type, condition.value
    if t in (ConditionType.PRICE_ABOVE, ConditionType.PRICE_BELOW):
        holds = last > v if t is ConditionType.PRICE_ABOVE else last < v
        return Reading(holds=holds, as_of=as_of, measured=last, detail=f"close {last:g}")
    if t is ConditionType.PCT_MOVE:
        if len(values) < 2:
            return Reading(holds=False, as_of=as_of, measured=None, detail="one close only")
        move = last / float(values[-2]) - 1
        return Reading(
            holds=abs(move) >= v, as_of=as_of, measured=move, detail=f"moved {move:+.2%}"
        )
    if t in (ConditionType.RSI_ABOVE, ConditionType.RSI_BELOW):
        rsi = float(talib.RSI(values, 14)[-1]) if len(values) > 14 else float("nan")
        if not np.isfinite(rsi):
            return Reading(holds=False, as_of=as_of, measured=None, detail="too few closes")
        holds = rsi > v if t is ConditionType.RSI_ABOVE else rsi < v
        return Reading(holds=holds, as_of=as_of, measured=rsi, detail=f"RSI {rsi:.2f}")
    n = int(v)
    sma = talib.SMA(values, n)
    if len(values) < n + 1 or not np.isfinite(sma[-2]):
        return Reading(holds=False, as_of=as_of, measured=None, detail="too few closes")
    before, now = values[-2] - sma[-2], last - sma[-1]
    crossed = (before <= 0 < now) or (before >= 0 > now)
    way = "above" if now > 0 else "below"
    return Reading(
        holds=bool(crossed),
        as_of=as_of,
        measured=float(now),
        detail=f"close {last:g} {way} the {n}-day average {sma[-1]:.2f}",
    )
