"""The vectorised backtester against a plain per-bar loop written here, and its guarantees."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.backtest import backtest, parse_range, sweep
from tools.errors import InvalidInputError
from tools.market_data import PriceStore

from .conftest import make_ohlcv

START, END = date(2012, 1, 1), date(2020, 12, 31)


def loop_backtest(price: np.ndarray, first: int, fast: int, slow: int, cost: float):
    """Per bar: decide at today's close from data so far, earn tomorrow's return."""
    equity, prev, trades, curve = 1.0, 0.0, 0, [1.0]
    positions = []
    for t in range(first, len(price)):
        hist = price[: t + 1]
        pos = 1.0 if len(hist) >= slow and hist[-fast:].mean() > hist[-slow:].mean() else 0.0
        positions.append(pos)
        if pos != prev:
            trades += 1
        if t + 1 < len(price):
            equity *= 1 + pos * (price[t + 1] / price[t] - 1) - cost * abs(pos - prev)
            curve.append(equity)
        prev = pos
    return equity, trades, positions, curve


@pytest.fixture(scope="module")
def aapl(sample_dir):
    frame = pd.read_parquet(sample_dir / "prices" / "AAPL.parquet").set_index("date")
    price = frame.loc[: pd.Timestamp(END), "adj_close"].to_numpy()
    first = int(np.searchsorted(frame.index, pd.Timestamp(START)))
    return price, first


@pytest.mark.parametrize("cost_bps", [0.0, 10.0])
def test_sma_cross_matches_per_bar_loop(sample_store, aapl, cost_bps):
    price, first = aapl
    result = backtest(
        sample_store,
        "AAPL",
        "sma-cross",
        {"fast": 20, "slow": 100},
        start=START,
        end=END,
        cost_bps=cost_bps,
    )
    equity, trades, positions, curve = loop_backtest(price, first, 20, 100, cost_bps / 1e4)
    assert result.metrics.final_equity == pytest.approx(equity, abs=1e-9)
    assert result.metrics.trades == trades
    assert result.equity_curve.position == positions
    assert result.equity_curve.equity == pytest.approx(curve, abs=1e-9)
    assert result.start == date(2012, 1, 3) and result.end == date(2020, 12, 31)
    assert result.equity_curve.equity[0] == 1.0


def test_metrics_follow_the_conventions(sample_store, aapl):
    result = backtest(sample_store, "AAPL", "buy-hold", start=START, end=END)
    price, first = aapl
    window = price[first:]
    daily = window[1:] / window[:-1] - 1
    m = result.metrics
    assert m.total_return == pytest.approx(window[-1] / window[0] - 1)
    assert m.annual_volatility == pytest.approx(daily.std(ddof=1) * np.sqrt(252))
    assert m.sharpe == pytest.approx(daily.mean() / daily.std(ddof=1) * np.sqrt(252))
    assert m.cagr == pytest.approx((window[-1] / window[0]) ** (252 / len(daily)) - 1)
    equity = window / window[0]
    assert m.max_drawdown == pytest.approx((equity / np.maximum.accumulate(equity) - 1).min())
    assert m.max_drawdown < 0
    assert m.var_95 == pytest.approx(np.quantile(daily, 0.05))
    assert m.cvar_95 == pytest.approx(daily[daily <= np.quantile(daily, 0.05)].mean())
    assert m.exposure == 1.0 and m.trades == 1
    assert m.calmar == pytest.approx(m.cagr / abs(m.max_drawdown))


def test_changing_a_future_price_never_changes_past_positions(tmp_path):
    bars = make_ohlcv(400)
    store = PriceStore(tmp_path / "a")
    store.save("X", bars, "t")
    shocked = bars.copy()
    shocked.iloc[300:, :4] *= 1.5  # a jump from day 300 on
    other = PriceStore(tmp_path / "b")
    other.save("X", shocked, "t")
    for strategy in ("sma-cross", "rsi-reversion", "bollinger", "macd"):
        a = backtest(store, "X", strategy).equity_curve
        b = backtest(other, "X", strategy).equity_curve
        assert a.position[:300] == b.position[:300], strategy
        # equity may differ only from the step that earns the day-300 return
        assert a.equity[:300] == pytest.approx(b.equity[:300]), strategy


def test_warm_up_uses_history_before_start(sample_store):
    result = backtest(
        sample_store,
        "AAPL",
        "sma-cross",
        {"fast": 50, "slow": 200},
        start=date(2020, 1, 1),
        end=END,
    )
    # 200-bar SMA available on day one thanks to the warm-up: a position from the start
    assert result.equity_curve.position[0] == 1.0


def test_trade_log_and_chart(sample_store, tmp_path):
    result = backtest(
        sample_store,
        "AAPL",
        "sma-cross",
        start=START,
        end=END,
        cost_bps=5,
        chart_dir=tmp_path / "charts",
    )
    closed = [t for t in result.trades if not t.open]
    assert closed
    assert all(t.exit_date > t.entry_date for t in closed)
    first = closed[0]
    assert first.return_ == pytest.approx(first.exit_price / first.entry_price - 1 - 2 * 5 / 1e4)
    assert result.metrics.win_rate == pytest.approx(
        sum(t.return_ > 0 for t in closed) / len(closed)
    )
    chart = tmp_path / "charts" / result.chart_path.rsplit("/", 1)[-1]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_allow_short_goes_negative(sample_store):
    long_only = backtest(sample_store, "AAPL", "sma-cross", start=START, end=END)
    both = backtest(sample_store, "AAPL", "sma-cross", start=START, end=END, allow_short=True)
    assert min(long_only.equity_curve.position) == 0.0
    assert min(both.equity_curve.position) == -1.0


def test_sweep_agrees_with_single_backtests(sample_store):
    grid = dict([parse_range("fast=10:30:10"), parse_range("slow=50,100")])
    result = sweep(
        sample_store, "AAPL", "sma-cross", grid, start=START, end=END, cost_bps=5, top=None
    )
    assert result.combinations == 6
    sharpes = [row.sharpe for row in result.rows]
    assert sharpes == sorted(sharpes, reverse=True)
    for row in result.rows:
        single = backtest(
            sample_store, "AAPL", "sma-cross", row.params, start=START, end=END, cost_bps=5
        )
        assert row.total_return == pytest.approx(single.metrics.total_return, rel=1e-9)
        assert row.max_drawdown == pytest.approx(single.metrics.max_drawdown, rel=1e-9)
        assert row.trades == single.metrics.trades


def test_sweep_skips_invalid_corners(sample_store):
    grid = {"fast": [10.0, 60.0], "slow": [50.0]}
    assert sweep(sample_store, "AAPL", "sma-cross", grid).combinations == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": {"fast": 50, "slow": 20}}, "fast .* must be below slow"),
        ({"params": {"speed": 3}}, "has no parameter 'speed'"),
        ({"params": {"fast": 2.5}}, "whole number"),
        ({"cost_bps": -1}, "must be between 0 and 1000 bps"),
        ({"cost_bps": float("nan")}, "must be between 0 and 1000 bps"),
        ({"slippage_bps": float("inf")}, "must be between 0 and 1000 bps"),
        ({"capital": float("nan")}, "capital must be a number above 0"),
        ({"capital": 1e308}, "at most 1,000,000,000,000"),
        ({"risk_free_rate": 4.0}, "annual fraction between -1 and 1"),
        ({"params": {"fast": float("nan")}}, "must be a number up to 100,000"),
        ({"start": date(2021, 1, 1), "end": date(2020, 1, 1)}, "after end"),
        ({"end": date(9999, 12, 31)}, "outside 1900-01-01 to 2100-12-31"),
        ({"start": date(1, 1, 1)}, "outside 1900-01-01 to 2100-12-31"),
    ],
)
def test_bad_backtest_input(sample_store, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        backtest(sample_store, "AAPL", "sma-cross", **kwargs)


@pytest.mark.parametrize(
    "spec", ["fast", "fast=5:1:1", "fast=a:b:c", "fast=1:5:0", "fast=1:nan:1", "k=1,inf"]
)
def test_bad_sweep_ranges(spec):
    with pytest.raises(InvalidInputError, match="sweep range"):
        parse_range(spec)


def test_a_huge_sweep_range_is_refused_before_it_is_built():
    """fast=1:1e9:1 used to build a billion values (and get the CLI killed for memory)."""
    with pytest.raises(InvalidInputError, match="1,000,000,000 values; at most 100,000"):
        parse_range("fast=1:1e9:1")
    assert parse_range("fast=5,10,5") == ("fast", [5.0, 10.0])


def test_cli_backtest_and_sweep(cli, use_sample):
    result = cli(
        "tools",
        "backtest",
        "AAPL",
        "--strategy",
        "sma-cross",
        "--fast",
        "20",
        "--slow",
        "100",
        "--cost-bps",
        "10",
        "--start",
        "2012-01-01",
        "--end",
        "2020-12-31",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["params"] == {"fast": 20, "slow": 100}
    assert data["metrics"]["max_drawdown"] < 0
    assert data["chart_path"].endswith(".png")
    swept = cli(
        "tools",
        "backtest",
        "AAPL",
        "--strategy",
        "sma-cross",
        "--sweep",
        "fast=5:50:5",
        "slow=20:200:10",
        "--json",
    )
    assert swept.exit_code == 0, swept.output
    table = json.loads(swept.output)
    assert table["combinations"] == 174
    bad = cli(
        "tools", "backtest", "AAPL", "--strategy", "sma-cross", "--fast", "60", "--slow", "20"
    )
    assert bad.exit_code == 2
    assert bad.output.startswith("error: fast (60) must be below slow (20)")
