"""Alert conditions on a symbol: whether each holds now.

Conventions: prices are the stored (adjusted) closes; `pct_move` is the absolute simple
return of the latest close over the one before, as a fraction (0.05 = 5%), `pct_drop` and
`pct_rise` the same return one way only (a fall of at least 5%: -0.05 or lower); RSI is the
indicator tool's (Wilder, 14 bars); `cross_sma` holds on a close where the price crossed
its `value`-bar simple moving average (above it after being at or below it the close
before, or the other way); `anomaly` holds when the latest daily return's robust z-score
(tools/anomaly.py: median and MAD of the 60 returns before it) is at least `value` in
size. An alert on prices fires when its condition becomes true and re-arms when it is
false again (see assistant/alerts.py), so a condition that stays true fires once.

Document conditions are events, not states: `new_filing` holds for each filing of the
given forms (any form when none is given) about the symbol that the alert has not yet
reported; `news_sentiment` for each news story whose score (the mean of its chunks'
scores, -1..1) is at least `value` when `value` is positive, at most `value` when it is
negative. Each document fires once; the ones in the index when the alert is made are
its starting point and never fire.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import talib
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

from tools.anomaly import BASELINE, robust_z


class ConditionType(StrEnum):
    PRICE_ABOVE = "price_above"
    PRICE_BELOW = "price_below"
    PCT_MOVE = "pct_move"
    PCT_DROP = "pct_drop"
    PCT_RISE = "pct_rise"
    RSI_ABOVE = "rsi_above"
    RSI_BELOW = "rsi_below"
    CROSS_SMA = "cross_sma"
    ANOMALY = "anomaly"
    NEW_FILING = "new_filing"
    NEWS_SENTIMENT = "news_sentiment"


DOCUMENT_TYPES = frozenset({ConditionType.NEW_FILING, ConditionType.NEWS_SENTIMENT})


class _Condition(BaseModel):
    """A condition's type and its value; each family states its value's range in the
    schema, so that the API's schema is exactly what the server accepts."""

    model_config = ConfigDict(extra="forbid")

    type: ConditionType

    @property
    def on_documents(self) -> bool:
        return self.type in DOCUMENT_TYPES

    def describe(self, symbol: str) -> str:
        raise NotImplementedError


def a_number(value: object) -> object:
    """JSON's true and "100" are no numbers (pydantic would read them as 1 and 100): the
    schema says number, and the server takes what it says."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("a number is needed (not true, false or a string)")
    return value


Number = Annotated[float, BeforeValidator(a_number)]
Window = Annotated[int, BeforeValidator(a_number)]
"""A whole number (JSON's 20.0 is one; true and "20" are not)."""


class PriceCondition(_Condition):
    type: Literal[ConditionType.PRICE_ABOVE, ConditionType.PRICE_BELOW]
    value: Number = Field(gt=0, le=1e7, allow_inf_nan=False, description="A price.")

    def describe(self, symbol: str) -> str:
        way = "above" if self.type is ConditionType.PRICE_ABOVE else "below"
        return f"{symbol} closes {way} {self.value:g}"


MOVE_WORDS = {
    ConditionType.PCT_MOVE: "moves",
    ConditionType.PCT_DROP: "falls",
    ConditionType.PCT_RISE: "rises",
}


class MoveCondition(_Condition):
    type: Literal[ConditionType.PCT_MOVE, ConditionType.PCT_DROP, ConditionType.PCT_RISE]
    value: Number = Field(
        ge=0.0001,
        lt=1,
        allow_inf_nan=False,
        description="A fraction: 0.05 is a 5% move (pct_move either way, pct_drop down, "
        "pct_rise up).",
    )

    def describe(self, symbol: str) -> str:
        return f"{symbol} {MOVE_WORDS[self.type]} {self.value:.1%} or more in a day"


class RsiCondition(_Condition):
    type: Literal[ConditionType.RSI_ABOVE, ConditionType.RSI_BELOW]
    value: Number = Field(gt=0, lt=100, allow_inf_nan=False, description="An RSI(14) level.")

    def describe(self, symbol: str) -> str:
        way = "above" if self.type is ConditionType.RSI_ABOVE else "below"
        return f"{symbol}'s RSI(14) is {way} {self.value:g}"


class SmaCondition(_Condition):
    type: Literal[ConditionType.CROSS_SMA]
    value: Window = Field(ge=2, le=400, description="The moving average's window, in bars.")

    def describe(self, symbol: str) -> str:
        return f"{symbol} crosses its {self.value:g}-day moving average"


class AnomalyCondition(_Condition):
    type: Literal[ConditionType.ANOMALY]
    value: Number = Field(
        default=5.0,
        ge=2,
        le=50,
        allow_inf_nan=False,
        description="The robust z-score of the day's return, in size (5 is the analytics default).",
    )

    def describe(self, symbol: str) -> str:
        return f"{symbol} makes an abnormal move (robust z of {self.value:g} or more)"


def split_forms(value: str) -> list[str]:
    """'10-K, 8-K' (or '10-K; 8-K') as forms, for the CLI and chat; the API takes a list."""
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


Form = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9/ .-]*$"),
    AfterValidator(lambda v: " ".join(v.split()).upper()),
]


class FilingCondition(_Condition):
    type: Literal[ConditionType.NEW_FILING]
    value: Annotated[list[Form], AfterValidator(lambda v: list(dict.fromkeys(v)))] = Field(
        default_factory=list,
        max_length=10,
        description="Forms (10-K, 10-Q, 8-K...); none means any form.",
    )

    def describe(self, symbol: str) -> str:
        forms = " or ".join(self.value) if self.value else "any form"
        return f"{symbol} has a new filing ({forms})"


class SentimentCondition(_Condition):
    type: Literal[ConditionType.NEWS_SENTIMENT]
    value: Number = Field(
        ge=-1,
        le=1,
        allow_inf_nan=False,
        description="A story's score, -1..1: positive means at least this positive, "
        "negative at least this negative (0.5 / -0.5 are strong).",
    )

    def describe(self, symbol: str) -> str:
        if self.value >= 0:
            return f"a news story on {symbol} scores {self.value:+.2f} or more"
        return f"a news story on {symbol} scores {self.value:+.2f} or less"


Condition = Annotated[
    PriceCondition
    | MoveCondition
    | RsiCondition
    | SmaCondition
    | AnomalyCondition
    | FilingCondition
    | SentimentCondition,
    Field(discriminator="type"),
]
CONDITION: TypeAdapter = TypeAdapter(Condition)


def make_condition(kind: str | ConditionType, value: object = None) -> _Condition:
    """A condition from its parts, checked (pydantic's ValidationError names the problem).
    ``value`` may be omitted where the family has a default (anomaly, new_filing); forms
    may be given as one comma-separated string."""
    fields: dict = {"type": kind}
    if isinstance(value, str) and kind == ConditionType.NEW_FILING:
        value = split_forms(value)
    if value is not None:
        fields["value"] = value
    return CONDITION.validate_python(fields)


class Reading(BaseModel):
    """A condition at one close: whether it holds, and what was measured."""

    holds: bool
    as_of: date
    measured: float | None = Field(description="The close, move, RSI, close - SMA or z read.")
    detail: str


class Mention(BaseModel):
    """A document about the symbol, as the index holds it (a news story's score is the
    mean of its chunks')."""

    doc_id: str
    title: str
    kind: Literal["news", "filing"]
    form: str | None = None
    published_at: date
    url: str | None = None
    score: float | None = None


def matching(condition: _Condition, documents: list[Mention]) -> list[Mention]:
    """The documents a document condition reports, oldest first."""
    if isinstance(condition, FilingCondition):
        keep = [
            d
            for d in documents
            if d.kind == "filing" and (not condition.value or (d.form or "") in condition.value)
        ]
    elif isinstance(condition, SentimentCondition):
        v = condition.value
        keep = [
            d
            for d in documents
            if d.kind == "news"
            and d.score is not None
            and (d.score >= v if v >= 0 else d.score <= v)
        ]
    else:
        raise ValueError(f"{condition.type} is not about documents")
    return sorted(keep, key=lambda d: (d.published_at, d.doc_id))


def evaluate(condition: _Condition, closes: pd.Series, symbol: str) -> Reading:
    """``condition`` at the last of ``closes`` (dated, oldest first); a condition on
    documents is read by :func:`matching` instead."""
    if condition.on_documents:
        raise ValueError(f"{condition.type} is read from documents, not closes")
    values = closes.dropna().to_numpy(dtype="float64")
    if not len(values):
        raise ValueError(f"no closes for {symbol}")
    as_of = closes.dropna().index[-1].date()
    last = float(values[-1])
    t, v = condition.type, condition.value
    if t in (ConditionType.PRICE_ABOVE, ConditionType.PRICE_BELOW):
        holds = last > v if t is ConditionType.PRICE_ABOVE else last < v
        return Reading(holds=holds, as_of=as_of, measured=last, detail=f"close {last:g}")
    if t in MOVE_WORDS:
        if len(values) < 2:
            return Reading(holds=False, as_of=as_of, measured=None, detail="one close only")
        move = last / float(values[-2]) - 1
        holds = {
            ConditionType.PCT_MOVE: abs(move) >= v,
            ConditionType.PCT_DROP: move <= -v,
            ConditionType.PCT_RISE: move >= v,
        }[t]
        return Reading(holds=holds, as_of=as_of, measured=move, detail=f"moved {move:+.2%}")
    if t is ConditionType.ANOMALY:
        returns = closes.dropna().pct_change().dropna()
        if len(returns) <= BASELINE:
            return Reading(holds=False, as_of=as_of, measured=None, detail="too few closes")
        z = float(robust_z(returns.iloc[-(BASELINE + 1) :]).iloc[-1])
        if not np.isfinite(z):
            return Reading(holds=False, as_of=as_of, measured=None, detail="no spread to measure")
        move = float(returns.iloc[-1])
        return Reading(
            holds=abs(z) >= v,
            as_of=as_of,
            measured=z,
            detail=f"moved {move:+.2%}, robust z {z:+.1f}",
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
