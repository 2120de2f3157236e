"""Side-by-side measures of several price series: what "how do Coke and Pepsi compare",
"what was the S&P's max drawdown in 2008" and "how correlated are they" need.

Conventions (README, "Analytics"): simple daily close-to-close returns of the window
``[start, end]`` (the first close in the window is the base: no return before it);
``TRADING_DAYS`` = 252; volatility = sample std (ddof=1) × √252; Sharpe = mean / std ×
√252 with a risk-free rate of 0 unless given (daily ``rf / 252`` subtracted); Sortino
divides the same excess mean by the downside deviation √mean(min(r, 0)²); annual return
is the compound rate over the window's returns, (1 + total)^(252 / n) − 1; Calmar =
annual return / |max drawdown|; drawdowns are negative fractions from the running
high, with the dates of that high and of the low. Beta = cov(r, r_b) / var(r_b) on the
days both series have a return (ddof=1). Months are calendar months; a month's return
runs from the previous month's last close (the window's first close for the first).
Correlations are of daily returns, pairwise on the days both have one.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import NoDataError
from tools.performance import TRADING_DAYS

MIN_RETURNS = 2
"""Fewer daily returns than this give no volatility: the window is refused."""


class Dated(BaseModel):
    """A return and when it happened (a day, or a month as its first day)."""

    date: date
    value: float


class SymbolStats(BaseModel):
    symbol: str
    start: date = Field(description="First close in the window (the base).")
    end: date = Field(description="Last close in the window.")
    days: int = Field(description="Daily returns measured.")
    first_close: float
    last_close: float
    total_return: float = Field(description="last / first − 1, a fraction.")
    annual_return: float | None = Field(description="Compound annual rate, a fraction.")
    volatility: float | None = Field(description="Annualised, a fraction.")
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float = Field(description="Largest fall from a running high, <= 0.")
    drawdown_peak: date = Field(description="The high the largest fall started from.")
    drawdown_trough: date = Field(description="The low it reached.")
    beta: float | None = Field(description="To the benchmark; None without one.")
    best_day: Dated
    worst_day: Dated
    best_month: Dated | None = Field(description="None when the window spans one month.")
    worst_month: Dated | None


class Comparison(BaseModel):
    symbols: list[str]
    benchmark: str | None
    stats: list[SymbolStats]
    correlation: dict[str, dict[str, float | None]] = Field(
        description="{SYM: {SYM: r}} of daily returns; None where two series share < 3 days."
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 and math.isfinite(denominator) else None


def symbol_stats(
    symbol: str, closes: pd.Series, benchmark: pd.Series | None = None, rf: float = 0.0
) -> SymbolStats:
    """Every measure of one series of closes (indexed by timestamp, ascending)."""
    closes = closes.dropna()
    returns = closes.pct_change().iloc[1:]
    if len(returns) < MIN_RETURNS:
        raise NoDataError(
            f"{symbol} has {len(closes)} closes in the window: at least {MIN_RETURNS + 1} "
            "are needed to measure returns and volatility"
        )
    values = closes.to_numpy(dtype="float64")
    steps = returns.to_numpy(dtype="float64")
    total = values[-1] / values[0] - 1
    n = len(steps)
    annual = (1 + total) ** (TRADING_DAYS / n) - 1 if total > -1 else -1.0
    std = steps.std(ddof=1)
    excess = steps.mean() - rf / TRADING_DAYS
    downside = math.sqrt(float(np.mean(np.minimum(steps, 0.0) ** 2)))
    sharpe = _ratio(excess, std)
    sortino = _ratio(excess, downside)
    peaks = np.maximum.accumulate(values)
    drawdowns = values / peaks - 1
    trough = int(drawdowns.argmin())
    peak = int(values[: trough + 1].argmax())
    mdd = float(drawdowns[trough])
    beta = None
    if benchmark is not None:
        joined = pd.concat([returns, benchmark.dropna().pct_change()], axis=1, join="inner")
        joined = joined.dropna()
        if len(joined) >= MIN_RETURNS + 1:
            b = joined.iloc[:, 1].to_numpy()
            var = b.var(ddof=1)
            if var > 0:
                beta = float(np.cov(joined.iloc[:, 0].to_numpy(), b, ddof=1)[0, 1] / var)
    month_end = closes.groupby(closes.index.to_period("M")).last()
    monthly = pd.concat([pd.Series([values[0]]), pd.Series(month_end.to_numpy())]).pct_change()
    monthly = pd.Series(monthly.iloc[1:].to_numpy(), index=month_end.index)
    months = (
        (
            Dated(date=monthly.idxmax().start_time.date(), value=float(monthly.max())),
            Dated(date=monthly.idxmin().start_time.date(), value=float(monthly.min())),
        )
        if len(monthly) > 1
        else (None, None)
    )
    dates = closes.index
    return SymbolStats(
        symbol=symbol,
        start=dates[0].date(),
        end=dates[-1].date(),
        days=n,
        first_close=float(values[0]),
        last_close=float(values[-1]),
        total_return=float(total),
        annual_return=float(annual),
        volatility=float(std * math.sqrt(TRADING_DAYS)),
        sharpe=None if sharpe is None else sharpe * math.sqrt(TRADING_DAYS),
        sortino=None if sortino is None else sortino * math.sqrt(TRADING_DAYS),
        calmar=float(annual / abs(mdd)) if mdd < 0 else None,
        max_drawdown=mdd,
        drawdown_peak=dates[peak].date(),
        drawdown_trough=dates[trough].date(),
        beta=beta,
        best_day=Dated(date=returns.idxmax().date(), value=float(returns.max())),
        worst_day=Dated(date=returns.idxmin().date(), value=float(returns.min())),
        best_month=months[0],
        worst_month=months[1],
    )


def correlation(closes: dict[str, pd.Series]) -> dict[str, dict[str, float | None]]:
    """Pairwise correlation of daily returns on the days both series have one."""
    returns = pd.concat({s: c.dropna().pct_change() for s, c in closes.items()}, axis=1)
    matrix = returns.corr(min_periods=3)
    return {
        a: {b: (None if pd.isna(v := matrix.loc[a, b]) else float(v)) for b in matrix.columns}
        for a in matrix.index
    }


def compare(
    closes: dict[str, pd.Series],
    benchmark: tuple[str, pd.Series] | None = None,
    rf: float = 0.0,
) -> Comparison:
    """The measures of each series and their correlations; beta against ``benchmark``."""
    bench = benchmark[1] if benchmark else None
    return Comparison(
        symbols=list(closes),
        benchmark=benchmark[0] if benchmark else None,
        stats=[symbol_stats(s, c, bench, rf) for s, c in closes.items()],
        correlation=correlation(closes),
    )


def write_chart(closes: dict[str, pd.Series], chart_dir: Path) -> Path:
    """PNG of each series rebased to 1 at its first close, and its drawdowns; the name is
    derived from the series and window so a repeated question overwrites its chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "|".join(f"{s}:{c.index[0]}:{c.index[-1]}" for s, c in closes.items())
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    chart_dir.mkdir(parents=True, exist_ok=True)
    path = chart_dir / f"compare-{'-'.join(list(closes)[:4])}-{digest}.png"
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    for symbol, series in closes.items():
        series = series.dropna()
        top.plot(series.index, series / series.iloc[0], lw=1.2, label=symbol)
        bottom.plot(series.index, series / series.cummax() - 1, lw=0.9)
    top.set_ylabel("growth of 1")
    top.legend(loc="best", fontsize="small")
    bottom.set_ylabel("drawdown")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
