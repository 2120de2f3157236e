"""compare_symbols: each measure against a formula written out independently (plain
Python over lists, not the module's numpy), on a series whose answers are known."""

import asyncio
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


# -- the front doors: CLI, HTTP, the offline agent -------------------------------------


def _sample_returns(sample_store, symbol, start, end):
    closes = sample_store.load(symbol, start, end).price
    return closes.pct_change().dropna()


def test_cli_compare_agrees_with_the_stored_prices(cli, use_sample, sample_store):
    import json

    done = cli("tools", "compare", "KO", "PEP", "--start", "2022-01-01", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    ko = _sample_returns(sample_store, "KO", date(2022, 1, 1), None)
    pep = _sample_returns(sample_store, "PEP", date(2022, 1, 1), None)
    spx = _sample_returns(sample_store, "SPX", date(2022, 1, 1), None)
    assert out["correlation"]["KO"]["PEP"] == pytest.approx(ko.corr(pep), abs=1e-4)
    assert out["benchmark"] == "SPX"
    beta = ko.cov(spx) / spx.var()
    assert out["stats"][0]["beta"] == pytest.approx(beta, abs=1e-4)
    assert out["stats"][0]["volatility"] == pytest.approx(ko.std() * math.sqrt(252), abs=1e-4)
    table = cli("tools", "compare", "KO", "PEP", "--start", "2022-01-01")
    assert table.exit_code == 0 and "Correlation" in table.output
    assert "compare-KO-PEP-" in table.output  # the chart's path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "unknown symbol 'NOPE'"),
        (["KO", "--benchmark", "NOPE"], "unknown symbol 'NOPE'"),
        (["KO", "--start", "2022-12-27"], "KO has 2 closes in the window"),
        (["KO", "--start", "2022-13-01"], "--start"),
        ([f"S{i}" for i in range(21)], "at most 20 symbols"),
    ],
)
def test_cli_compare_bad_input_is_one_error_line(cli, use_sample, args, message):
    done = cli("tools", "compare", *args)
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_the_offline_agent_answers_correlation_beta_and_extremes(
    tmp_path, sample_store, sample_index_dir
):
    from assistant.auth import LOCAL_USER
    from tests.agent_env import make_services
    from tools.compare import compare

    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, sample_index_dir
    )

    def ask(question):
        turn = asyncio.run(services.chat.ask(question, LOCAL_USER))
        assert turn.error is None, turn.error
        return turn

    def closes(symbol, start, end):
        return sample_store.load(symbol, start, end).price

    turn = ask("how correlated were coke and pepsi in 2021?")
    assert [(c.name, c.args) for c in turn.tool_calls] == [
        ("compare_symbols", {"symbols": ["KO", "PEP"], "start": "2021-01-01", "end": "2021-12-31"})
    ]
    y2021 = (date(2021, 1, 1), date(2021, 12, 31))
    r = compare({s: closes(s, *y2021) for s in ("KO", "PEP")})
    assert f"KO and PEP: {r.correlation['KO']['PEP']:.2f}" in turn.answer

    turn = ask("what's microsoft's beta in 2022")
    assert [c.name for c in turn.tool_calls] == ["compare_symbols"]
    y2022 = (date(2022, 1, 1), date(2022, 12, 31))
    spx = closes("SPX", *y2022)
    beta = compare({"MSFT": closes("MSFT", *y2022)}, ("SPX", spx)).stats[0].beta
    assert f"MSFT's beta to SPX: {beta:.2f}" in turn.answer

    turn = ask("worst single day for the s&p 500 in 2020?")
    worst = compare({"SPX": closes("SPX", date(2020, 1, 1), date(2020, 12, 31))}).stats[0]
    assert f"SPX's worst day: {worst.worst_day.date}, {worst.worst_day.value * 100:+.2f}%" in (
        turn.answer
    )
