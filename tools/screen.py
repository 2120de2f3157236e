"""Screening: every stored symbol measured at once and ranked, with conditions such as
``rsi_14<30`` or ``price>sma_200``.

Symbols that share a calendar are measured together, one column each, by the same
vectorised formulas as ``get_indicators`` (:func:`tools.indicators.close_set`), so a
screen's RSI is the indicator tool's RSI. Window measures follow ``compare_symbols``:
``return`` = last / first close of the window − 1, ``volatility`` = sample std (ddof=1)
of daily returns × √252, ``sharpe`` = mean / std × √252 (risk-free 0), ``max_drawdown``
from the running high (a negative fraction). Indicators are read at each symbol's last
close on or before the window's end, warmed up on all earlier data.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import InvalidInputError
from tools.indicators import CLOSE_NAMES, close_set
from tools.performance import TRADING_DAYS

WINDOW_METRICS = ("return", "volatility", "sharpe", "max_drawdown")
METRICS: tuple[str, ...] = (*WINDOW_METRICS, "price", *CLOSE_NAMES)
LOWER_IS_BETTER = {"volatility", "volatility_20d", "volatility_60d"}
"""Ranked lowest first unless asked otherwise; every other metric highest first."""
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|<|>)\s*([a-z_0-9.+-]+)\s*$", re.I)
MIN_CLOSES = 3


class Condition(BaseModel):
    left: str
    op: str
    right: str | float

    def __str__(self) -> str:
        right = f"{self.right:g}" if isinstance(self.right, float) else self.right
        return f"{self.left}{self.op}{right}"


class Screened(BaseModel):
    symbol: str
    value: float = Field(description="The ranking metric's value.")
    as_of: date = Field(description="The close the values are read at.")
    values: dict[str, float | None] = Field(
        description="The ranking metric and every metric a condition names."
    )


class ScreenResult(BaseModel):
    metric: str
    ascending: bool
    start: date | None
    end: date | None
    conditions: list[str]
    universe: int = Field(description="Symbols screened.")
    matched: int = Field(description="Symbols that met every condition.")
    results: list[Screened] = Field(description="Best first, at most `top`.")
    excluded: dict[str, str] = Field(
        default_factory=dict, description="Symbols with no value for a metric used, and why."
    )


ALIASES = {
    "rsi": "rsi_14",
    "returns": "return",
    "total_return": "return",
    "vol": "volatility",
    "drawdown": "max_drawdown",
    "sharpe_ratio": "sharpe",
    "close": "price",
    "last": "price",
}


def check_metric(name: str) -> str:
    name = name.strip().lower().replace("-", "_")
    name = ALIASES.get(name, name)
    if name not in METRICS:
        raise InvalidInputError(f"unknown metric {name!r}; use one of: {', '.join(METRICS)}")
    return name


def parse_condition(text: str) -> Condition:
    """``rsi_14<30``, ``price>sma_200``, ``return>=0.1`` (fractions are fractions)."""
    m = CONDITION.match(text)
    if m is None:
        raise InvalidInputError(
            f"condition {text!r} is not METRIC<VALUE, METRIC>METRIC or the like "
            "(operators < <= > >=), e.g. rsi_14<30 or price>sma_200"
        )
    left = check_metric(m[1])
    right_text = m[3].lower()
    try:
        right: str | float = float(right_text)
    except ValueError:
        right = check_metric(right_text)
    else:
        if not math.isfinite(right):
            raise InvalidInputError(f"condition {text!r}: {right_text} is not a finite number")
    return Condition(left=left, op=m[2], right=right)


def _window_measures(closes: pd.DataFrame) -> dict[str, pd.Series]:
    """Per column, over its own closes in the window (leading gaps are a later listing)."""
    if closes.empty:
        empty = pd.Series(np.nan, index=closes.columns)
        return dict.fromkeys(WINDOW_METRICS, empty)
    first = closes.bfill().iloc[0]
    last = closes.ffill().iloc[-1]
    daily = closes.pct_change(fill_method=None)
    std = daily.std(ddof=1)
    running = closes.cummax()
    return {
        "return": last / first - 1,
        "volatility": std * math.sqrt(TRADING_DAYS),
        "sharpe": (daily.mean() / std.where(std > 0)) * math.sqrt(TRADING_DAYS),
        "max_drawdown": (closes / running - 1).min(),
    }


def measure(
    history: pd.DataFrame, start: date | None, end: date | None, wanted: set[str]
) -> pd.DataFrame:
    """Rows: symbols (the columns of ``history``, all on its calendar, no later than
    ``end``); columns: the metrics in ``wanted``, and ``as_of``."""
    out: dict[str, pd.Series] = {}
    in_window = history if start is None else history[history.index >= pd.Timestamp(start)]
    if wanted & set(WINDOW_METRICS):
        counts = in_window.notna().sum()
        measures = _window_measures(in_window)
        for name in wanted & set(WINDOW_METRICS):
            out[name] = measures[name].where(counts >= MIN_CLOSES)
    if wanted & set(CLOSE_NAMES):
        series = close_set(history)
        for name in wanted & set(CLOSE_NAMES):
            out[name] = series[name].ffill().iloc[-1] if len(history) else pd.Series(dtype=float)
    out["price"] = history.ffill().iloc[-1]
    out["as_of"] = history.apply(lambda c: c.last_valid_index())
    return pd.DataFrame(out)


def screen(
    histories: dict[str, pd.Series],
    metric: str,
    conditions: list[Condition] = (),
    start: date | None = None,
    end: date | None = None,
    top: int = 10,
    ascending: bool | None = None,
) -> ScreenResult:
    """Rank ``histories`` (each symbol's closes up to ``end``, warm-up included) by
    ``metric`` over ``[start, end]``, keeping those that meet every condition."""
    metric = check_metric(metric)
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"start {start} is after end {end}")
    ascending = metric in LOWER_IS_BETTER if ascending is None else ascending
    wanted = {metric} | {c.left for c in conditions}
    wanted |= {c.right for c in conditions if isinstance(c.right, str)}
    groups: dict[pd.Timestamp, dict[str, pd.Series]] = {}
    for symbol, closes in histories.items():
        closes = closes.dropna()
        if end is not None:
            closes = closes[closes.index <= pd.Timestamp(end)]
        if len(closes):
            groups.setdefault(closes.index[-1], {})[symbol] = closes
    frames = [
        measure(pd.DataFrame(members), start, end, wanted)
        for members in _same_calendar(groups.values())
    ]
    table = pd.concat(frames) if frames else pd.DataFrame(columns=[*wanted, "as_of"])
    excluded = {s: "no prices on or before the window's end" for s in histories}
    excluded = {s: r for s, r in excluded.items() if s not in table.index}
    for name in sorted(wanted):
        for symbol in table.index[table[name].isna()]:
            excluded.setdefault(symbol, f"no {name} (too little history)")
    usable = table.drop(index=[s for s in excluded if s in table.index])
    keep = np.ones(len(usable), dtype=bool)
    for c in conditions:
        right = usable[c.right] if isinstance(c.right, str) else c.right
        keep &= OPERATORS[c.op](usable[c.left], right).to_numpy()
    matched = usable[keep].sort_values(metric, ascending=ascending, kind="stable")
    columns = sorted(wanted, key=lambda n: (n != metric, n))
    return ScreenResult(
        metric=metric,
        ascending=ascending,
        start=start,
        end=end,
        conditions=[str(c) for c in conditions],
        universe=len(histories),
        matched=len(matched),
        results=[
            Screened(
                symbol=symbol,
                value=float(row[metric]),
                as_of=row["as_of"].date(),
                values={n: float(row[n]) for n in columns},
            )
            for symbol, row in matched.head(top).iterrows()
        ],
        excluded=excluded,
    )


def _same_calendar(groups) -> list[dict[str, pd.Series]]:
    """Symbols ending on one day whose closes fall on the same days from their first on
    (a later listing is only leading gaps, which the formulas skip) are measured
    together, one column each; any other alone."""
    out = []
    for members in groups:
        indexes = [c.index for c in members.values()]
        union = indexes[0]
        for index in indexes[1:]:
            if not index.equals(union):
                union = union.union(index)
        fits = {s: c for s, c in members.items() if c.index.equals(union[union >= c.index[0]])}
        out.append(fits)
        out.extend({s: c} for s, c in members.items() if s not in fits)
    return [group for group in out if group]
