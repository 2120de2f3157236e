"""compare_symbols: each measure against a formula written out independently (plain
Python over lists, not the module's numpy), on a series whose answers are known."""

import itertools
import math
import statistics
from datetime import date

import pandas as pd
import pytest

from tools.compare import compare, symbol_stats
from tools.errors import NoDataError


def _series(values, start="2021-01-04"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def _returns(values):
    return [b / a - 1 for a, b in itertools.pairwise(values)]


def test_each_measure_matches_its_formula():
    rng = [100 * (1 + 0.01 * math.sin(i / 3) + 0.002 * i) for i in range(70)]
    market = [50 * (1 + 0.006 * math.sin(i / 3 + 0.4) + 0.001 * i) for i in range(70)]
    s = symbol_stats("X", _series(rng), _series(market))
    rets, mrets = _returns(rng), _returns(market)
    n = len(rets)
    total = rng[-1] / rng[0] - 1
    assert s.total_return == pytest.approx(total)
    assert s.annual_return == pytest.approx((1 + total) ** (252 / n) - 1)
    sd = statistics.stdev(rets)
    assert s.volatility == pytest.approx(sd * math.sqrt(252))
    assert s.sharpe == pytest.approx(statistics.mean(rets) / sd * math.sqrt(252))
    downside = math.sqrt(sum(min(x, 0) ** 2 for x in rets) / n)
    assert s.sortino == pytest.approx(statistics.mean(rets) / downside * math.sqrt(252))
    # drawdown: walk the closes keeping the running high
    high, worst, at_peak, at_trough, peak_i = rng[0], 0.0, 0, 0, 0
    for i, v in enumerate(rng):
        if v > high:
            high, peak_i = v, i
        if v / high - 1 < worst:
            worst, at_peak, at_trough = v / high - 1, peak_i, i
    days = pd.bdate_range("2021-01-04", periods=70)
    assert s.max_drawdown == pytest.approx(worst) and worst < 0
    assert (s.drawdown_peak, s.drawdown_trough) == (days[at_peak].date(), days[at_trough].date())
    assert s.calmar == pytest.approx(s.annual_return / abs(worst))
    mean_r, mean_m = statistics.mean(rets), statistics.mean(mrets)
    cov = sum((a - mean_r) * (b - mean_m) for a, b in zip(rets, mrets, strict=True)) / (n - 1)
    assert s.beta == pytest.approx(cov / statistics.variance(mrets))
    best = max(range(n), key=lambda i: rets[i])
    assert (s.best_day.date, s.best_day.value) == (days[best + 1].date(), pytest.approx(rets[best]))
    worst_day = min(range(n), key=lambda i: rets[i])
    assert s.worst_day.date == days[worst_day + 1].date()


def test_monthly_returns_run_from_the_previous_month_end():
    # Jan: 100 -> 110 (+10%), Feb ends 99 (-10%), Mar ends 118.8 (+20%)
    index = pd.to_datetime(["2021-01-04", "2021-01-29", "2021-02-01", "2021-02-26", "2021-03-31"])
    closes = pd.Series([100.0, 110.0, 105.0, 99.0, 118.8], index=index)
    s = symbol_stats("X", closes)
    assert s.best_month.date == date(2021, 3, 1) and s.best_month.value == pytest.approx(0.2)
    assert s.worst_month.date == date(2021, 2, 1) and s.worst_month.value == pytest.approx(-0.1)
    assert s.beta is None


def test_correlation_of_daily_returns_pairwise():
    a = [100 + i + (i % 3) for i in range(30)]
    b = [50 + 0.5 * i - (i % 4) for i in range(30)]
    c = [10 + (-1) ** i * 0.1 * i for i in range(30)]
    out = compare({"A": _series(a), "B": _series(b), "C": _series(c)})
    ra, rb = _returns(a), _returns(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    r = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True)) / math.sqrt(
        sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)
    )
    assert out.correlation["A"]["B"] == pytest.approx(r)
    assert out.correlation["B"]["A"] == pytest.approx(r)
    assert out.correlation["C"]["C"] == pytest.approx(1.0)
    assert [s.symbol for s in out.stats] == ["A", "B", "C"]


def test_a_window_with_too_few_closes_is_refused_with_the_count():
    with pytest.raises(NoDataError, match="X has 2 closes in the window"):
        symbol_stats("X", _series([1.0, 2.0]))
