"""A vectorised single-asset backtester: signal strategies, costs, metrics, sweeps.

Timing convention (no look-ahead): the position held over day (t, t+1] is decided
from data up to the close of day t. With ``p`` the positions and ``r`` simple daily
returns, one step of equity is::

    equity[t+1] = equity[t] * (1 + p[t] * r[t+1] - c * |p[t] - p[t-1]|)

where ``c`` is (cost + slippage) in bps / 10,000 charged on the traded notional, and
``p[-1] = 0`` (flat before ``start``). Signals warm up on the data before ``start``;
trading, the equity curve and every metric cover ``[start, end]`` only, starting from
``capital`` at the close of the first day. Everything is array arithmetic: a sweep
stacks the positions of all parameter sets into one matrix and computes equity and
metrics for all of them at once.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.errors import InvalidInputError, NoDataError
from tools.market_data import PriceStore, check_range
from tools.performance import (
    check_capital,
    check_risk_free_rate,
    full_measures,
    ranking_measures,
)

_SWEEP_CHUNK = 32


class Strategy(StrEnum):
    SMA_CROSS = "sma-cross"
    RSI_REVERSION = "rsi-reversion"
    BOLLINGER = "bollinger"
    MACD = "macd"
    BUY_HOLD = "buy-hold"
    REBALANCE = "rebalance"  # multi-asset: see tools.rebalance


DEFAULTS: dict[Strategy, dict[str, float]] = {
    Strategy.SMA_CROSS: {"fast": 20, "slow": 50},
    Strategy.RSI_REVERSION: {"window": 14, "lower": 30, "upper": 70},
    Strategy.BOLLINGER: {"window": 20, "k": 2.0},
    Strategy.MACD: {"fast": 12, "slow": 26, "signal": 9},
    Strategy.BUY_HOLD: {},
    Strategy.REBALANCE: {},
}
_INTEGER_PARAMS = {"fast", "slow", "window", "signal"}


class _Indicators:
    """Memoised indicator arrays over one price history, shared by all parameter sets."""

    def __init__(self, price: np.ndarray) -> None:
        self.price = price
        self._series = pd.Series(price)
        self._cache: dict[tuple, np.ndarray] = {}

    def _memo(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def sma(self, n: int) -> np.ndarray:
        return self._memo(("sma", n), lambda: self._series.rolling(n).mean().to_numpy())

    def std(self, n: int) -> np.ndarray:
        return self._memo(("std", n), lambda: self._series.rolling(n).std(ddof=0).to_numpy())

    def ema(self, n: int) -> np.ndarray:
        return self._memo(
            ("ema", n),
            lambda: self._series.ewm(span=n, adjust=False, min_periods=n).mean().to_numpy(),
        )

    def rsi(self, n: int) -> np.ndarray:
        def make() -> np.ndarray:
            diff = self._series.diff()
            up = diff.clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
            down = (-diff).clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
            with np.errstate(divide="ignore", invalid="ignore"):
                rs = up.to_numpy() / down.to_numpy()
                return np.where(down.to_numpy() == 0, 100.0, 100 - 100 / (1 + rs))

        return self._memo(("rsi", n), make)


def _hold_until(
    enter: np.ndarray, leave: np.ndarray, short: np.ndarray | None = None
) -> np.ndarray:
    """Stateful long/flat(/short) from entry and exit events, by forward-fill (no loop)."""
    state = np.full(len(enter), np.nan)
    state[leave] = 0.0
    if short is not None:
        state[short] = -1.0
    state[enter] = 1.0
    return pd.Series(state).ffill().fillna(0.0).to_numpy()


def _positions(
    strategy: Strategy, p: dict[str, float], ind: _Indicators, allow_short: bool
) -> np.ndarray:
    """Target position at each close, from data up to that close only."""
    low = -1.0 if allow_short else 0.0
    if strategy is Strategy.BUY_HOLD:
        return np.ones(len(ind.price))
    if strategy is Strategy.SMA_CROSS:
        fast, slow = ind.sma(int(p["fast"])), ind.sma(int(p["slow"]))
        ready = ~np.isnan(slow) & ~np.isnan(fast)
        return np.where(ready, np.where(fast > slow, 1.0, low), 0.0)
    if strategy is Strategy.MACD:
        line = ind.ema(int(p["fast"])) - ind.ema(int(p["slow"]))
        signal = pd.Series(line).ewm(span=int(p["signal"]), adjust=False).mean().to_numpy()
        ready = ~np.isnan(line)
        return np.where(ready, np.where(line > signal, 1.0, low), 0.0)
    if strategy is Strategy.RSI_REVERSION:
        rsi = ind.rsi(int(p["window"]))
        enter, over = rsi < p["lower"], rsi > p["upper"]
        return _hold_until(enter, over, over if allow_short else None)
    if strategy is Strategy.BOLLINGER:
        n = int(p["window"])
        mid, sd = ind.sma(n), ind.std(n)
        below, above = ind.price < mid - p["k"] * sd, ind.price > mid + p["k"] * sd
        # Enter outside a band, leave when the price crosses back over the middle.
        return _hold_until(below, _crossed(ind.price, mid), above if allow_short else None)
    raise InvalidInputError(f"unknown strategy {strategy!r}")


def _crossed(price: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """Days on which the price crosses its moving average (either way)."""
    side = np.sign(price - mid)
    out = np.zeros(len(price), dtype=bool)
    out[1:] = side[1:] != side[:-1]
    return out


MAX_COST_BPS = 1_000.0


def check_costs(cost_bps: float, slippage_bps: float) -> None:
    for name, value in (("cost", cost_bps), ("slippage", slippage_bps)):
        if not (math.isfinite(value) and 0 <= value <= MAX_COST_BPS):
            raise InvalidInputError(
                f"{name} of {value} bps: must be between 0 and {MAX_COST_BPS:g} bps"
            )


def resolve_params(strategy: Strategy, given: dict[str, float] | None) -> dict[str, float]:
    """Defaults overlaid with ``given``; unknown names and impossible values are errors."""
    params = dict(DEFAULTS[strategy])
    for name, value in (given or {}).items():
        if name not in params:
            known = ", ".join(params) or "none"
            raise InvalidInputError(f"{strategy} has no parameter {name!r} (parameters: {known})")
        if not math.isfinite(value) or abs(value) > 100_000:
            raise InvalidInputError(f"{name} must be a number up to 100,000, got {value}")
        params[name] = value
    for name, value in params.items():
        if name in _INTEGER_PARAMS and (value < 1 or value != int(value)):
            raise InvalidInputError(f"{name} must be a whole number of bars ≥ 1, got {value}")
    if "fast" in params and params["fast"] >= params["slow"]:
        raise InvalidInputError(
            f"fast ({params['fast']:g}) must be below slow ({params['slow']:g})"
        )
    if strategy is Strategy.RSI_REVERSION and not 0 <= params["lower"] < params["upper"] <= 100:
        raise InvalidInputError("rsi-reversion needs 0 ≤ lower < upper ≤ 100")
    if strategy is Strategy.BOLLINGER and params["k"] <= 0:
        raise InvalidInputError("bollinger k must be positive")
    if strategy is Strategy.BOLLINGER and params["window"] < 2:
        raise InvalidInputError("bollinger window must be at least 2 bars (a band needs a spread)")
    return params


def check_history(params: dict[str, float], prep: _Prepared) -> None:
    """A window longer than the whole history never produces a signal: the run would
    report zeros as if the strategy had been tried. Say so instead."""
    windows = {n: int(v) for n, v in params.items() if n in _INTEGER_PARAMS}
    if not windows:
        return
    name, longest = max(windows.items(), key=lambda kv: kv[1])
    if longest >= len(prep.price):
        raise InvalidInputError(
            f"{name} of {longest} bars is longer than {prep.symbol}'s history "
            f"({len(prep.price)} bars up to {prep.dates[-1].date()}): use a shorter window"
        )


# --- equity and metrics on matrices (rows: days, columns: parameter sets) -------------


def _step_returns(pos: np.ndarray, r: np.ndarray, cost: float) -> np.ndarray:
    """Strategy return of each step t -> t+1 for positions ``pos`` (T x K)."""
    traded = np.abs(np.diff(pos, axis=0, prepend=0.0))
    return pos[:-1] * r[1:, None] - cost * traded[:-1]


class Metrics(BaseModel):
    """Performance over ``[start, end]``; fractions, daily VaR/CVaR as negative returns."""

    total_return: float
    cagr: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float = Field(description="Negative fraction, e.g. -0.23.")
    max_drawdown_duration: int = Field(description="Longest peak-to-recovery, in trading days.")
    trades: int = Field(description="Position changes, the first entry included.")
    win_rate: float | None = Field(description="Winning share of closed round trips.")
    profit_factor: float | None
    exposure: float = Field(description="Share of days with a position.")
    var_95: float = Field(description="5% quantile of daily returns.")
    cvar_95: float = Field(description="Mean daily return at or below var_95.")
    final_equity: float


class Trade(BaseModel):
    """One round trip: a run of days with the same non-zero position."""

    entry_date: date
    entry_price: float
    exit_date: date
    exit_price: float
    side: str
    bars: int
    return_: float = Field(alias="return", description="Net of costs, a fraction.")
    open: bool = Field(description="Still held at the end date (marked at the last close).")

    model_config = {"populate_by_name": True}


def _as_dates(index: pd.DatetimeIndex) -> list[date]:
    """Python dates, via numpy (pandas' ``.date`` is ~20x slower on long indexes)."""
    return index.to_numpy().astype("datetime64[D]").tolist()


def _trades(days: list[date], price: np.ndarray, pos: np.ndarray, cost: float) -> list[Trade]:
    change = np.flatnonzero(np.diff(pos, prepend=0.0) != 0)
    trades = []
    for i, start in enumerate(change):
        size = pos[start]
        if size == 0:
            continue
        stop = change[i + 1] if i + 1 < len(change) else len(pos) - 1
        still_open = i + 1 >= len(change)
        gross = np.sign(size) * (price[stop] / price[start] - 1) * abs(size)
        fees = cost * abs(size) * (1 if still_open else 2)
        trades.append(
            Trade(
                entry_date=days[start],
                entry_price=float(price[start]),
                exit_date=days[stop],
                exit_price=float(price[stop]),
                side="long" if size > 0 else "short",
                bars=int(stop - start),
                return_=float(gross - fees),
                open=still_open,
            )
        )
    return trades


def _trade_stats(trades: list[Trade]) -> tuple[float | None, float | None]:
    closed = [t.return_ for t in trades if not t.open]
    if not closed:
        return None, None
    wins = [x for x in closed if x > 0]
    losses = [x for x in closed if x <= 0]
    win_rate = len(wins) / len(closed)
    loss_sum = -sum(losses)
    profit_factor = sum(wins) / loss_sum if loss_sum > 0 else None
    return win_rate, profit_factor


# --- public API ----------------------------------------------------------------------


class EquityCurve(BaseModel):
    """Columns aligned with ``dates``: equity, drawdown (≤ 0) and the position held."""

    dates: list[date]
    equity: list[float]
    drawdown: list[float]
    position: list[float]


def format_params(params: dict[str, float]) -> str:
    """``fast=50 slow=200``: a parameter set as people write it."""
    return " ".join(f"{k}={v:g}" for k, v in params.items())


class RunResult(BaseModel):
    """What every backtest reports, single-asset or portfolio."""

    start: date
    end: date
    as_of: date
    source: str
    bars: int
    capital: float
    cost_bps: float
    slippage_bps: float
    metrics: Metrics
    equity_curve: EquityCurve
    chart_path: str | None = None

    def label(self) -> str:
        """One line naming the run, for chart titles and file names."""
        raise NotImplementedError


class BacktestResult(RunResult):
    symbol: str
    strategy: Strategy
    params: dict[str, float]
    allow_short: bool
    trades: list[Trade]

    def label(self) -> str:
        params = format_params(self.params)
        return f"{self.symbol} {self.strategy} {params}".strip()


@dataclass(frozen=True)
class _Prepared:
    """Prices with warm-up, and where the ``[start, end]`` window begins."""

    symbol: str
    source: str
    dates: pd.DatetimeIndex
    price: np.ndarray
    first: int  # index of the start day within the warm-up history

    def window_dates(self) -> pd.DatetimeIndex:
        return self.dates[self.first :]


def _prepare(store: PriceStore, symbol: str, start: date | None, end: date | None) -> _Prepared:
    """One read of the history up to ``end``; ``start`` only marks where trading begins."""
    check_range(start, end)
    history = store.load(symbol, None, end)  # unknown symbol / end before the data: errors
    index = history.frame.index
    first = int(np.searchsorted(index, pd.Timestamp(start))) if start else 0
    if len(index) - first < 2:
        window = (
            f"between {start} and {end}"
            if start and end
            else f"from {start} on"
            if start
            else f"up to {end}"
        )
        raise NoDataError(
            f"{history.symbol} has {max(len(index) - first, 0)} bar(s) {window}; a backtest "
            f"needs at least 2 (the store covers {store.info(symbol).start} to "
            f"{store.info(symbol).end})"
        )
    return _Prepared(
        symbol=history.symbol,
        source=history.source,
        dates=index,
        price=history.price.to_numpy(dtype="float64"),
        first=first,
    )


def backtest(
    store: PriceStore,
    symbol: str,
    strategy: Strategy | str = Strategy.SMA_CROSS,
    params: dict[str, float] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    cost_bps: float = 0.0,
    slippage_bps: float = 0.0,
    capital: float = 1.0,
    allow_short: bool = False,
    risk_free_rate: float = 0.0,
    chart_dir: Path | None = None,
) -> BacktestResult:
    """Backtest one strategy on one symbol; see the module docstring for the conventions."""
    strategy = Strategy(strategy)
    if strategy is Strategy.REBALANCE:
        raise InvalidInputError("rebalance is multi-asset: use tools.rebalance with 2+ symbols")
    params = resolve_params(strategy, params)
    check_costs(cost_bps, slippage_bps)
    check_capital(capital)
    check_risk_free_rate(risk_free_rate)
    prep = _prepare(store, symbol, start, end)
    check_history(params, prep)
    ind = _Indicators(prep.price)
    pos = _positions(strategy, params, ind, allow_short)[prep.first :]
    price = prep.price[prep.first :]
    r = np.diff(price, prepend=np.nan) / np.concatenate([[np.nan], price[:-1]])
    cost = (cost_bps + slippage_bps) / 10_000
    steps = _step_returns(pos[:, None], r, cost)
    dates = prep.window_dates()
    days = _as_dates(dates)
    trades = _trades(days, price, pos, cost)
    win_rate, profit_factor = _trade_stats(trades)
    metrics, curve = summarise_run(
        steps[:, 0],
        pos,
        days,
        capital,
        risk_free_rate=risk_free_rate,
        win_rate=win_rate,
        profit_factor=profit_factor,
    )
    result = BacktestResult(
        symbol=prep.symbol,
        strategy=strategy,
        params=params,
        start=dates[0].date(),
        end=dates[-1].date(),
        as_of=dates[-1].date(),
        source=prep.source,
        bars=len(dates),
        capital=capital,
        cost_bps=cost_bps,
        slippage_bps=slippage_bps,
        allow_short=allow_short,
        metrics=metrics,
        trades=trades,
        equity_curve=curve,
    )
    if chart_dir is not None:
        result.chart_path = str(write_chart(result, chart_dir))
    return result


def summarise_run(
    steps: np.ndarray,
    position: np.ndarray,
    days: list[date],
    capital: float,
    *,
    risk_free_rate: float = 0.0,
    win_rate: float | None = None,
    profit_factor: float | None = None,
    trades: int | None = None,
) -> tuple[Metrics, EquityCurve]:
    """Metrics and equity curve of one run from its step returns and positions held."""
    m = full_measures(steps[:, None], risk_free_rate)
    paths = {"equity": m.pop("equity")[:, 0], "drawdown": m.pop("drawdown")[:, 0]}
    traded = np.abs(np.diff(position, prepend=0.0))
    metrics = Metrics(
        **{k: float(v[0]) for k, v in m.items()},
        trades=int((traded > 0).sum()) if trades is None else trades,
        exposure=float((position != 0).mean()),
        win_rate=win_rate,
        profit_factor=profit_factor,
    )
    metrics.final_equity *= capital
    curve = EquityCurve(
        dates=days,
        equity=(paths["equity"] * capital).tolist(),
        drawdown=paths["drawdown"].tolist(),
        position=position.tolist(),
    )
    return metrics, curve


def write_chart(result: RunResult, chart_dir: Path) -> Path:
    """PNG of equity and drawdown; the name is derived from the run so reruns overwrite."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    label = result.label()
    key = f"{label}|{result.start}|{result.end}|{result.cost_bps}|{result.slippage_bps}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    slug = "-".join(label.split()[:2]).replace("/", "_")
    chart_dir.mkdir(parents=True, exist_ok=True)
    path = chart_dir / f"backtest-{slug}-{digest}.png"
    curve = result.equity_curve
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot(curve.dates, curve.equity, lw=1.2)
    top.set_title(
        f"{label}: total {result.metrics.total_return:.1%}, Sharpe {result.metrics.sharpe:.2f}"
    )
    top.set_ylabel("equity")
    bottom.fill_between(curve.dates, curve.drawdown, 0, color="tab:red")
    bottom.set_ylabel("drawdown")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def check_rank_by(rank_by: str) -> None:
    if rank_by not in SweepRow.model_fields or rank_by == "params":
        names = ", ".join(n for n in SweepRow.model_fields if n != "params")
        raise InvalidInputError(f"cannot rank by {rank_by!r}; use one of {names}")


# --- sweeps ----------------------------------------------------------------------------


class SweepRow(BaseModel):
    params: dict[str, float]
    total_return: float
    cagr: float
    sharpe: float
    max_drawdown: float
    trades: int
    exposure: float


class SweepResult(BaseModel):
    symbol: str
    strategy: Strategy
    start: date
    end: date
    as_of: date
    source: str
    combinations: int
    rank_by: str
    rows: list[SweepRow] = Field(description="Best first.")


MAX_RANGE_VALUES = 100_000


def parse_range(spec: str) -> tuple[str, list[float]]:
    """``fast=5:50:5`` -> ("fast", [5, 10, ..., 50]); ``k=1.5,2,2.5`` lists values."""
    name, sep, values = spec.partition("=")
    if not sep or not name or not values:
        raise InvalidInputError(f"sweep range {spec!r}: expected NAME=START:STOP:STEP or NAME=A,B")
    problem = InvalidInputError(
        f"sweep range {spec!r}: START:STOP:STEP needs numbers with STEP > 0 and STOP ≥ START"
    )
    try:
        numbers = [float(x) for x in values.split(":" if ":" in values else ",")]
    except ValueError:
        raise problem from None
    if not all(map(math.isfinite, numbers)):
        raise problem
    if ":" in values:
        if len(numbers) != 3 or numbers[2] <= 0 or numbers[1] < numbers[0]:
            raise problem
        lo, hi, step = numbers
        count = math.floor((hi - lo) / step + 0.5) + 1
        if count > MAX_RANGE_VALUES:  # counted before anything is built
            raise InvalidInputError(
                f"sweep range {spec!r} has {count:,} values; at most "
                f"{MAX_RANGE_VALUES:,} per parameter"
            )
        grid = list(np.arange(lo, hi + step / 2, step))
    else:
        grid = numbers
    return name.strip(), sorted({round(x, 10) for x in grid})


def sweep(
    store: PriceStore,
    symbol: str,
    strategy: Strategy | str,
    grid: dict[str, list[float]],
    *,
    start: date | None = None,
    end: date | None = None,
    cost_bps: float = 0.0,
    slippage_bps: float = 0.0,
    allow_short: bool = False,
    rank_by: str = "sharpe",
    top: int | None = 20,
    max_combinations: int = 100_000,
) -> SweepResult:
    """Every parameter combination of ``grid`` at once; invalid ones (fast ≥ slow) skipped."""
    strategy = Strategy(strategy)
    check_rank_by(rank_by)
    check_costs(cost_bps, slippage_bps)
    for name, values in grid.items():  # a window of 7.5 days would be rounded, silently
        fractional = [v for v in values if name in _INTEGER_PARAMS and v != int(v)]
        if fractional:
            shown = ", ".join(f"{v:g}" for v in fractional[:5])
            raise InvalidInputError(f"{name} takes whole numbers of days; not {shown}")
    prep = _prepare(store, symbol, start, end)
    combos = _combinations(strategy, grid, max_combinations)
    ind = _Indicators(prep.price)
    price = prep.price[prep.first :]
    cost = (cost_bps + slippage_bps) / 10_000
    columns: dict[str, list[np.ndarray]] = {}
    for lo in range(0, len(combos), _SWEEP_CHUNK):  # chunks keep the matrices in cache
        pos = _position_matrix(strategy, combos[lo : lo + _SWEEP_CHUNK], ind, allow_short)
        for key, values in sweep_matrix(price, pos[prep.first :], cost).items():
            columns.setdefault(key, []).append(values)
    rows = {k: np.concatenate(v) for k, v in columns.items()}
    table = [
        SweepRow(params=c, **{k: float(v[i]) for k, v in rows.items()})
        for i, c in enumerate(combos)
    ]
    table.sort(key=lambda row: getattr(row, rank_by), reverse=True)  # drawdowns are negative
    dates = prep.window_dates()
    return SweepResult(
        symbol=prep.symbol,
        strategy=strategy,
        start=dates[0].date(),
        end=dates[-1].date(),
        as_of=dates[-1].date(),
        source=prep.source,
        combinations=len(combos),
        rank_by=rank_by,
        rows=table[:top] if top else table,
    )


def sweep_matrix(price: np.ndarray, pos: np.ndarray, cost: float) -> dict[str, np.ndarray]:
    """Ranking measures for each column of the position matrix ``pos`` (T x K): the
    definitions of :mod:`tools.performance`, plus trade count and exposure."""
    r = np.concatenate([[np.nan], price[1:] / price[:-1] - 1])
    traded = np.abs(np.diff(pos, axis=0, prepend=0.0))
    steps = pos[:-1] * r[1:, None] - cost * traded[:-1]
    return {
        **ranking_measures(steps),
        "trades": (traded > 0).sum(axis=0),
        "exposure": (pos != 0).mean(axis=0),
    }


def _position_matrix(
    strategy: Strategy, combos: list[dict[str, float]], ind: _Indicators, allow_short: bool
) -> np.ndarray:
    """Positions for many parameter sets as columns; sma-cross by one broadcast comparison."""
    if strategy is not Strategy.SMA_CROSS:
        return np.column_stack([_positions(strategy, c, ind, allow_short) for c in combos])
    windows = sorted({int(c[k]) for c in combos for k in ("fast", "slow")})
    col = {w: i for i, w in enumerate(windows)}
    smas = np.column_stack([ind.sma(w) for w in windows])
    fast = smas[:, [col[int(c["fast"])] for c in combos]]
    slow = smas[:, [col[int(c["slow"])] for c in combos]]
    low = -1.0 if allow_short else 0.0
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(slow), 0.0, np.where(fast > slow, 1.0, low))


def _combinations(
    strategy: Strategy, grid: dict[str, list[float]], limit: int
) -> list[dict[str, float]]:
    if not grid:
        raise InvalidInputError("a sweep needs at least one NAME=START:STOP:STEP range")
    names = list(grid)
    total = math.prod(len(v) for v in grid.values())
    if total > limit:
        raise InvalidInputError(f"{total:,} combinations exceed the limit of {limit:,}")
    unknown = set(names) - set(DEFAULTS[strategy])
    if unknown:
        known = ", ".join(DEFAULTS[strategy]) or "none"
        raise InvalidInputError(
            f"{strategy} has no parameter {sorted(unknown)[0]!r} (parameters: {known})"
        )
    combos = []
    for values in itertools.product(*(grid[n] for n in names)):
        try:
            combos.append(resolve_params(strategy, dict(zip(names, values, strict=True))))
        except InvalidInputError:
            continue  # e.g. fast >= slow: not a strategy, just a corner of the grid
    if not combos:
        raise InvalidInputError("no valid combination in the sweep grid (is fast < slow?)")
    return combos
