"""Multi-asset rebalancing and walk-forward analysis."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.backtest import backtest, sweep
from tools.errors import InvalidInputError, NoDataError
from tools.market_data import PriceStore
from tools.portfolio import estimate, optimize_estimates
from tools.rebalance import rebalance_backtest
from tools.walkforward import walk_forward

from .conftest import make_ohlcv

SYMS = ["AAPL", "KO", "JNJ", "XOM"]
START, END = date(2016, 1, 1), date(2019, 12, 31)


def test_rebalance_matches_a_per_bar_loop(sample_store, sample_dir):
    result = rebalance_backtest(
        sample_store, SYMS, "min-variance", start=START, end=END, cost_bps=10, lookback_days=126
    )
    prices = pd.concat(
        {
            s: pd.read_parquet(sample_dir / "prices" / f"{s}.parquet").set_index("date")[
                "adj_close"
            ]
            for s in SYMS
        },
        axis=1,
        join="inner",
    ).loc[: pd.Timestamp(END)]
    returns = prices.pct_change()
    first = int(np.searchsorted(prices.index, pd.Timestamp(START)))
    dates = prices.index[first:]
    month = dates.to_period("M")
    equity, held, curve = 1.0, np.zeros(len(SYMS)), [1.0]
    weights_seen = []
    for t in range(first, len(prices) - 1):
        i = t - first
        if i == 0 or month[i] != month[i + 1]:  # month's last day (or the start): rebalance
            est = estimate(returns.iloc[max(1, t - 126 + 1) : t + 1])
            w, _ = optimize_estimates(est, "min-variance")
            weights_seen.append(w)
            turnover, held = np.abs(w - held).sum(), w
        else:
            turnover = 0.0
        r = prices.iloc[t + 1].to_numpy() / prices.iloc[t].to_numpy() - 1
        equity *= 1 + held @ r - 0.001 * turnover
        held = held * (1 + r) / (1 + held @ r)
        curve.append(equity)
    assert result.metrics.final_equity == pytest.approx(equity, abs=1e-9)
    assert result.equity_curve.equity == pytest.approx(curve, abs=1e-9)
    assert len(result.rebalances) == len(weights_seen)
    assert result.rebalances[0].turnover == pytest.approx(1.0)  # bought from cash


def test_rebalance_has_no_look_ahead(tmp_path):
    a, b = make_ohlcv(500, seed=1), make_ohlcv(500, seed=2)
    calm, shocked = PriceStore(tmp_path / "calm"), PriceStore(tmp_path / "shock")
    for store, factor in ((calm, 1.0), (shocked, 3.0)):
        bumped = b.copy()
        bumped.iloc[400:, :4] *= factor
        store.save("A", a, "t")
        store.save("B", bumped, "t")
    start = a.index[100].date()
    one = rebalance_backtest(calm, ["A", "B"], "max-sharpe", start=start, lookback_days=60)
    two = rebalance_backtest(shocked, ["A", "B"], "max-sharpe", start=start, lookback_days=60)
    cut = a.index[400].date()
    before = [e for e in one.rebalances if e.date < cut]
    assert before == [e for e in two.rebalances if e.date < cut]
    assert one.rebalances[-1] != two.rebalances[-1]


def test_quarterly_rebalances_less_and_costs_cost(sample_store):
    monthly = rebalance_backtest(sample_store, SYMS, "risk-parity", start=START, end=END)
    quarterly = rebalance_backtest(
        sample_store, SYMS, "risk-parity", start=START, end=END, frequency="quarterly"
    )
    assert len(quarterly.rebalances) == 16 and len(monthly.rebalances) == 48
    costly = rebalance_backtest(
        sample_store, SYMS, "risk-parity", start=START, end=END, cost_bps=50
    )
    assert costly.metrics.final_equity < monthly.metrics.final_equity


def test_rebalance_errors(sample_store):
    with pytest.raises(NoDataError, match="start later"):
        rebalance_backtest(sample_store, SYMS, start=date(1990, 1, 2))
    with pytest.raises(InvalidInputError, match="at least two symbols"):
        rebalance_backtest(sample_store, ["AAPL"], start=START)
    with pytest.raises(ValueError, match="weekly"):
        rebalance_backtest(sample_store, SYMS, frequency="weekly")
    with pytest.raises(InvalidInputError, match="multi-asset"):
        backtest(sample_store, "AAPL", "rebalance")


def test_walk_forward_picks_on_train_and_reports_on_test(sample_store):
    grid = {"fast": [10.0, 20.0, 50.0], "slow": [100.0, 200.0]}
    result = walk_forward(
        sample_store,
        "AAPL",
        "sma-cross",
        grid,
        train_days=504,
        test_days=252,
        start=date(2010, 1, 1),
        end=date(2020, 12, 31),
        cost_bps=5,
    )
    assert len(result.windows) >= 8
    for earlier, later in zip(result.windows, result.windows[1:], strict=False):
        assert earlier.test_end < later.test_start  # test windows never overlap
    first = result.windows[0]
    assert first.train_end < first.test_start
    on_train = sweep(
        sample_store,
        "AAPL",
        "sma-cross",
        grid,
        start=first.train_start,
        end=first.train_end,
        cost_bps=5,
        top=None,
    )
    assert first.params == on_train.rows[0].params
    assert first.train_score == pytest.approx(on_train.rows[0].sharpe)
    on_test = backtest(
        sample_store,
        "AAPL",
        "sma-cross",
        first.params,
        start=first.test_start,
        end=first.test_end,
        cost_bps=5,
    )
    assert first.test_total_return == pytest.approx(on_test.metrics.total_return)
    chained = np.prod([1 + w.test_total_return for w in result.windows]) - 1
    assert result.oos_total_return == pytest.approx(chained)


def test_walk_forward_needs_enough_data(sample_store):
    with pytest.raises(NoDataError, match="at least train \\+ test"):
        walk_forward(
            sample_store,
            "AAPL",
            "sma-cross",
            {"fast": [10.0], "slow": [50.0]},
            start=date(2020, 1, 1),
            end=date(2020, 12, 31),
        )


def test_max_sharpe_falls_back_to_min_variance_when_everything_fell(tmp_path):
    store = PriceStore(tmp_path)
    for name, seed in (("A", 3), ("B", 4)):
        bars = make_ohlcv(300, seed=seed)
        decline = np.linspace(1.0, 0.3, len(bars))[:, None]
        bars.iloc[:, :4] = bars.iloc[:, :4].to_numpy() * decline
        store.save(name, bars, "t")
    result = rebalance_backtest(
        store, ["A", "B"], "max-sharpe", start=bars.index[150].date(), lookback_days=120
    )
    assert all(e.note and e.note.startswith("min-variance used") for e in result.rebalances)


def test_cli_rebalance_and_walk_forward(cli, use_sample):
    import json

    result = cli(
        "tools",
        "backtest",
        "AAPL",
        "KO",
        "JNJ",
        "--strategy",
        "rebalance",
        "--method",
        "min-variance",
        "--frequency",
        "quarterly",
        "--start",
        "2016-01-01",
        "--end",
        "2019-12-31",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["symbols"] == ["AAPL", "KO", "JNJ"] and len(data["rebalances"]) == 16
    assert data["chart_path"].endswith(".png")
    walked = cli(
        "tools",
        "backtest",
        "AAPL",
        "--strategy",
        "sma-cross",
        "--sweep",
        "--walk-forward",
        "fast=10,20",
        "slow=100,200",
        "--train-days",
        "504",
        "--start",
        "2010-01-01",
        "--end",
        "2020-12-31",
        "--json",
    )
    assert walked.exit_code == 0, walked.output
    assert json.loads(walked.output)["windows"][0]["train_start"] == "2010-01-04"
