"""portfolio_risk: VaR four ways, risk shares, stress scenarios, each against a formula
written out here (plain Python and the standard library), and the front doors."""

import itertools
import math
import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.errors import InvalidInputError, NoDataError
from tools.portfolio_risk import HISTORICAL_SCENARIOS, portfolio_risk


def _series(values, start="2021-01-04"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def _walk(n, seed, drift=0.0003, vol=0.012, start="2021-01-04"):
    rng = np.random.default_rng(seed)
    return _series(100 * np.cumprod(1 + rng.normal(drift, vol, n)), start)


def _quantile(values, q):
    """Linear interpolation between order statistics (numpy's default, written out)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def test_var_cvar_and_risk_shares_match_their_formulas():
    a, b, m = _walk(300, 1), _walk(300, 2, vol=0.02), _walk(300, 3, vol=0.01)
    out = portfolio_risk({"A": a, "B": b}, {"A": 0.6, "B": 0.4}, market=m)
    ra = [y / x - 1 for x, y in itertools.pairwise(a)]
    rb = [y / x - 1 for x, y in itertools.pairwise(b)]
    rp = [0.6 * x + 0.4 * y for x, y in zip(ra, rb, strict=True)]
    assert out.days == len(rp)
    assert out.annual_volatility == pytest.approx(statistics.stdev(rp) * math.sqrt(252))
    v95 = next(v for v in out.var if v.level == 0.95)
    hist = _quantile(rp, 0.05)
    assert v95.historical == pytest.approx(hist)
    assert v95.cvar == pytest.approx(statistics.mean([x for x in rp if x <= hist]))
    mu, sd = statistics.mean(rp), statistics.stdev(rp)
    z = -1.6448536269514722
    assert v95.parametric == pytest.approx(mu + z * sd)
    n = len(rp)
    m2 = sum((x - mu) ** 2 for x in rp) / n
    s = sum((x - mu) ** 3 for x in rp) / n / m2**1.5
    k = sum((x - mu) ** 4 for x in rp) / n / m2**2 - 3
    zcf = z + (z * z - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s * s / 36
    assert v95.cornish_fisher == pytest.approx(mu + zcf * sd)
    v99 = next(v for v in out.var if v.level == 0.99)
    assert v99.historical == pytest.approx(_quantile(rp, 0.01)) and v99.historical < hist
    # risk shares: w_i * cov(r_i, r_p) / var(r_p), and they sum to 1
    var_p = statistics.variance(rp)
    share_a = 0.6 * statistics.covariance(ra, rp) / var_p
    shares = {c.symbol: c.risk_share for c in out.contributions}
    assert shares["A"] == pytest.approx(share_a) and sum(shares.values()) == pytest.approx(1)
    rm = [y / x - 1 for x, y in itertools.pairwise(m)]
    beta_a = statistics.covariance(ra, rm) / statistics.variance(rm)
    betas = {c.symbol: c.beta for c in out.contributions}
    assert betas["A"] == pytest.approx(beta_a)
    shock = next(s for s in out.stress if s.scenario == "market -20%")
    assert shock.portfolio_return == pytest.approx(-0.2 * (0.6 * beta_a + 0.4 * betas["B"]))


def test_a_scenario_replays_the_window_with_constant_weights_and_skips_without_data():
    start, end = HISTORICAL_SCENARIOS["covid-2020"]
    a = _walk(400, 4, start="2019-09-02")
    b = _walk(400, 5, start="2019-09-02")
    late = _walk(400, 6, start="2020-03-02")  # begins inside the window
    out = portfolio_risk({"A": a, "B": b}, {"A": 0.5, "B": 0.5}, value=10_000)
    covid = next(s for s in out.stress if s.scenario == "covid-2020")
    wa, wb = (
        a[(a.index.date >= start) & (a.index.date <= end)],
        b[(b.index.date >= start) & (b.index.date <= end)],
    )
    growth = 1.0
    for i in range(1, len(wa)):
        growth *= (
            1 + 0.5 * (wa.iloc[i] / wa.iloc[i - 1] - 1) + 0.5 * (wb.iloc[i] / wb.iloc[i - 1] - 1)
        )
    assert covid.portfolio_return == pytest.approx(growth - 1)
    assert covid.loss == pytest.approx(-(growth - 1) * 10_000)
    gfc = next(s for s in out.stress if s.scenario == "gfc-2008")
    assert gfc.portfolio_return is None and "A has no prices from 2007-10-09" in gfc.skipped
    mixed = portfolio_risk({"A": a, "L": late}, {"A": 0.5, "L": 0.5})
    covid = next(s for s in mixed.stress if s.scenario == "covid-2020")
    assert covid.skipped == "L has no prices from 2020-02-19 (its data begins 2020-03-02)"
    pinned = portfolio_risk({"A": a, "B": b}, {"A": 0.5, "B": 0.5}, known_until=date(2020, 3, 1))
    assert "covid-2020" not in {s.scenario for s in pinned.stress}  # not yet history then
    assert "gfc-2008" in {s.scenario for s in pinned.stress}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({}, "no holdings"),
        ({"A": 0.5, "B": 0.3}, "weights sum to 0.8; they must sum to 1"),
        ({"A": 1.5, "B": -0.5}, "weight of A is 1.5"),
        ({"A": float("nan"), "B": 0.5}, "weight of A is nan"),
    ],
)
def test_bad_weights_are_refused_with_the_reason(weights, message):
    closes = {"A": _walk(60, 1), "B": _walk(60, 2)}
    with pytest.raises(InvalidInputError, match=message):
        portfolio_risk(closes, weights)


def test_too_short_a_window_is_refused_with_the_count():
    with pytest.raises(NoDataError, match="share 9 daily returns"):
        portfolio_risk({"A": _walk(10, 1)}, {"A": 1.0})


# -- the front doors -------------------------------------------------------------------


def test_cli_risk_agrees_with_the_stored_prices(cli, use_sample, sample_store):
    import json

    done = cli("tools", "risk", "AAPL=0.6", "KO=0.4", "--start", "2021-01-01", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    closes = {s: sample_store.load(s, date(2021, 1, 1), None).price for s in ("AAPL", "KO")}
    returns = pd.concat({s: c.pct_change() for s, c in closes.items()}, axis=1).dropna()
    rp = (returns["AAPL"] * 0.6 + returns["KO"] * 0.4).tolist()
    v95 = out["var"][0]
    assert v95["level"] == 0.95 and v95["historical"] == pytest.approx(
        _quantile(rp, 0.05), abs=1e-4
    )
    gfc = next(s for s in out["stress"] if s["scenario"] == "gfc-2008")
    start, end = HISTORICAL_SCENARIOS["gfc-2008"]
    growth = 1.0
    window = {s: sample_store.load(s, start, end).price for s in ("AAPL", "KO")}
    for i in range(1, len(window["AAPL"])):
        step = {s: window[s].iloc[i] / window[s].iloc[i - 1] - 1 for s in window}
        growth *= 1 + 0.6 * step["AAPL"] + 0.4 * step["KO"]
    assert gfc["portfolio_return"] == pytest.approx(growth - 1, abs=1e-4)
    assert out["weights"] == {"AAPL": 0.6, "KO": 0.4} and not out["account"]
    shown = cli("tools", "risk", "AAPL=0.6", "KO=0.4")
    assert shown.exit_code == 0 and "Stress tests" in shown.output and "gfc-2008" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["AAPL=0.6", "KO=0.3"], "weights sum to 0.9; they must sum to 1"),
        (["AAPL=x"], "'x' is not a number"),
        ([], "give SYMBOL=WEIGHT pairs or --account"),
        (["AAPL=1", "--account"], "give SYMBOL=WEIGHT pairs or --account"),
        (["NOPE=1"], "unknown symbol 'NOPE'"),
        (["AAPL=nan", "KO=0.5"], "weight of AAPL is nan"),
        (["AAPL=1", "--start", "2022-12-01"], "at least 20 are needed"),
        (["--account"], "the account holds no positions"),
    ],
)
def test_cli_risk_bad_input_is_one_error_line(
    cli, use_sample, tmp_path, monkeypatch, args, message
):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    done = cli("tools", "risk", *args)
    assert done.exit_code == 2, done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_the_offline_agent_measures_named_holdings_and_the_account(
    tmp_path, sample_store, sample_index_dir
):
    import asyncio

    from assistant.auth import LOCAL_USER
    from tests.agent_env import make_services

    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, sample_index_dir
    )

    def ask(question):
        turn = asyncio.run(services.chat.ask(question, LOCAL_USER))
        assert turn.error is None, turn.error
        return turn

    turn = ask("whats the value at risk of 70% msft and 30% jnj")
    assert [(c.name, c.args) for c in turn.tool_calls] == [
        ("portfolio_risk", {"weights": {"MSFT": 0.7, "JNJ": 0.3}})
    ]
    turn = ask("how bad would the 2008 crisis be for a portfolio of KO and PG")
    assert [(c.name, c.args) for c in turn.tool_calls] == [
        ("portfolio_risk", {"weights": {"KO": 0.5, "PG": 0.5}})
    ]
    assert turn.answer.startswith("Asked: gfc-2008 (2007-10-09 to 2009-03-09): ")
    # the account: no positions yet, then one bought on the paper broker
    turn = ask("stress test my portfolio")
    assert [(c.name, c.args) for c in turn.tool_calls] == [("portfolio_risk", {"account": True})]
    assert "the account holds no positions" in turn.answer
    broker = services.approvals.broker_factory()
    from tools.orders import Order, Side

    broker.submit(Order(symbol="KO", side=Side.BUY, quantity=10), client_order_id="t-1")
    turn = ask("stress test my portfolio")
    assert "Your account's positions (100.00% KO; worth $" in turn.answer
    assert "a loss of $" in turn.answer


@pytest.mark.parametrize(
    ("question", "args"),
    [
        (
            "what's my 95% value at risk for 60/40 apple and coke",
            {"weights": {"AAPL": 0.6, "KO": 0.4}},
        ),
        ("whats the 99% var on 25% each aapl msft", {"weights": {"AAPL": 0.5, "MSFT": 0.5}}),
        (
            "my portfolio is 0.6 AAPL and 0.4 KO. whats my risk",
            {"weights": {"AAPL": 0.6, "KO": 0.4}},
        ),
        ("$6,000 in AAPL and $4000 in KO stress test", {"weights": {"AAPL": 0.6, "KO": 0.4}}),
        (
            "one day var for 40 aapl / 30 msft / 30 jnj",
            {"weights": {"AAPL": 0.4, "MSFT": 0.3, "JNJ": 0.3}},
        ),
        (
            "60% in msft and the rest in jnj, how bad would covid be",
            {"weights": {"MSFT": 0.6, "JNJ": 0.4}},
        ),
        (
            "what would a 30% market crash do to 70/30 aapl ko",
            {"weights": {"AAPL": 0.7, "KO": 0.3}, "market_move": -0.3},
        ),
        ("what happens to my portfolio if the market drops 20%", {"account": True}),
        ("stress test my holdings", {"account": True}),
        (
            "hw risky is 1/3 xom 1/3 cvx 1/3 rrc",
            {"weights": {"XOM": 0.333333, "CVX": 0.333333, "RRC": 0.333333}},
        ),
    ],
)
def test_the_offline_planner_reads_holdings_as_people_write_them(model_cache, question, args):
    from assistant.models.offline import planner as make_planner

    sample = set(
        "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC SPX UNH WMT XOM".split()
    )
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert plan.calls == [("portfolio_risk", args)]


@pytest.mark.parametrize(
    "question",
    [
        "build me a low risk portfolio of ko pep and pg",
        "optimise ko, pep and pg",
        "how risky is apple",
        "backtest a golden cross on KO",
        "how did ko do in 2008",
    ],
)
def test_questions_that_are_not_about_holdings_risk_go_elsewhere(model_cache, question):
    from assistant.models.offline import planner as make_planner

    sample = set(
        "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC SPX UNH WMT XOM".split()
    )
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert "portfolio_risk" not in [name for name, _ in plan.calls]
