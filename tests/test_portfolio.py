"""Optimiser results: optimality (no feasible direction improves), skfolio agreement, errors."""

import itertools
import json
from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError
from skfolio import RiskMeasure
from skfolio.optimization import MeanRisk, ObjectiveFunction, RiskBudgeting

from tools.errors import InvalidInputError, NoDataError, UnknownSymbolError
from tools.portfolio import Constraints, InfeasibleError, aligned_returns, estimate, optimize

SYMS = ["AAPL", "JNJ", "KO", "MSFT", "XOM", "WMT"]
START, END = date(2016, 1, 1), date(2020, 12, 31)


def run(store, method, **kw):
    constraints = kw.pop("constraints", Constraints(max_weight=0.3))
    return optimize(store, SYMS, method, constraints, start=START, end=END, **kw)


def cov_mu(store):
    returns, _ = aligned_returns(store, SYMS, START, END)
    est = estimate(returns)
    return returns, est.cov, est.mu


def feasible_moves(w, lo, hi, eps=1e-3):
    """Every pairwise transfer of ``eps`` from one asset to another that stays in bounds."""
    for i, j in itertools.permutations(range(len(w)), 2):
        if w[i] - eps >= lo - 1e-12 and w[j] + eps <= hi + 1e-12:
            moved = w.copy()
            moved[i] -= eps
            moved[j] += eps
            yield moved


def test_min_variance_is_optimal_and_feasible(sample_store):
    result = run(sample_store, "min-variance")
    _, cov, _ = cov_mu(sample_store)
    w = np.array([result.weights[s] for s in SYMS])
    assert w.sum() == pytest.approx(1.0)
    assert w.min() >= -1e-9 and w.max() <= 0.3 + 1e-9
    best = w @ cov @ w
    moves = list(feasible_moves(w, 0.0, 0.3))
    assert moves
    assert all(m @ cov @ m >= best - 1e-12 for m in moves)
    assert result.volatility == pytest.approx(np.sqrt(best))


def test_max_sharpe_is_optimal(sample_store):
    result = run(sample_store, "max-sharpe")
    _, cov, mu = cov_mu(sample_store)
    w = np.array([result.weights[s] for s in SYMS])

    def sharpe(x):
        return (mu @ x) / np.sqrt(x @ cov @ x)

    assert result.sharpe == pytest.approx(sharpe(w))
    assert all(sharpe(m) <= sharpe(w) + 1e-9 for m in feasible_moves(w, 0.0, 0.3))


@pytest.mark.parametrize(
    ("method", "objective"),
    [
        ("min-variance", ObjectiveFunction.MINIMIZE_RISK),
        ("max-sharpe", ObjectiveFunction.MAXIMIZE_RATIO),
    ],
)
def test_agrees_with_skfolio(sample_store, method, objective):
    result = run(sample_store, method)
    returns, _, _ = cov_mu(sample_store)
    model = MeanRisk(
        objective_function=objective,
        risk_measure=RiskMeasure.VARIANCE,
        max_weights=0.3,
        min_weights=0.0,
    ).fit(returns)
    ours = np.array([result.weights[s] for s in SYMS])
    assert ours == pytest.approx(model.weights_, abs=2e-3)


def test_risk_parity_equalises_risk_and_matches_skfolio(sample_store):
    result = run(sample_store, "risk-parity", constraints=Constraints())
    contributions = np.array(list(result.risk_contributions.values()))
    assert contributions == pytest.approx(np.full(len(SYMS), 1 / len(SYMS)), abs=1e-5)
    returns, _, _ = cov_mu(sample_store)
    model = RiskBudgeting(risk_measure=RiskMeasure.VARIANCE).fit(returns)
    assert np.array([result.weights[s] for s in SYMS]) == pytest.approx(model.weights_, abs=2e-3)


def test_mean_variance_target_and_risk_aversion(sample_store):
    low = run(sample_store, "min-variance")
    target = low.expected_return + 0.03
    result = run(sample_store, "mean-variance", target_return=target)
    assert result.expected_return >= target - 1e-6
    assert result.volatility > low.volatility
    with pytest.raises(InfeasibleError, match="above the highest attainable"):
        run(sample_store, "mean-variance", target_return=5.0)
    cautious = run(sample_store, "mean-variance", risk_aversion=50)
    bold = run(sample_store, "mean-variance", risk_aversion=0.5)
    assert cautious.volatility < bold.volatility


def test_sector_caps_and_turnover_penalty(sample_store):
    sectors = {"AAPL": "tech", "MSFT": "tech", "XOM": "energy"}
    capped = run(
        sample_store,
        "max-sharpe",
        constraints=Constraints(max_weight=0.5, sectors=sectors, sector_caps={"tech": 0.25}),
    )
    assert capped.weights["AAPL"] + capped.weights["MSFT"] <= 0.25 + 1e-7
    current = dict.fromkeys(SYMS, 1 / len(SYMS))
    sticky = run(
        sample_store,
        "min-variance",
        constraints=Constraints(max_weight=0.3, current_weights=current, turnover_penalty=10.0),
    )
    free = run(sample_store, "min-variance")

    def distance(r):
        return sum(abs(r.weights[s] - current[s]) for s in SYMS)

    assert distance(sticky) < distance(free)
    assert distance(sticky) == pytest.approx(0.0, abs=1e-4)


def test_frontier_is_ordered(sample_store):
    result = run(sample_store, "min-variance", frontier_points=6)
    points = result.frontier
    assert len(points) == 6
    returns = [p.expected_return for p in points]
    vols = [p.volatility for p in points]
    assert returns == sorted(returns)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(vols))
    assert points[0].volatility == pytest.approx(result.volatility, rel=1e-4)


def test_shrinkage_changes_the_estimate(sample_store):
    plain = run(sample_store, "min-variance")
    shrunk = run(sample_store, "min-variance", shrinkage=True)
    assert shrunk.shrinkage is True
    assert plain.weights != pytest.approx(shrunk.weights, abs=1e-6)


@pytest.mark.parametrize(
    ("symbols", "constraints", "error", "message"),
    [
        (["AAPL"], Constraints(), InvalidInputError, "at least two symbols"),
        (
            ["AAPL", "MSFT", "KO"],
            Constraints(max_weight=0.3),
            InfeasibleError,
            r"a cap of 30.00% on each of 3 stocks adds up to 90.00%",
        ),
        (
            ["AAPL", "MSFT"],
            Constraints(min_weight=0.6),
            InfeasibleError,
            r"min weight 0.6 × 2 assets",
        ),
        (
            ["AAPL", "MSFT"],
            Constraints(min_weight=0.5, max_weight=0.4),
            InvalidInputError,
            "is above",
        ),
        (["AAPL", "NOPE"], Constraints(), UnknownSymbolError, "unknown symbol 'NOPE'"),
    ],
)
def test_bad_requests(sample_store, symbols, constraints, error, message):
    with pytest.raises(error, match=message):
        optimize(sample_store, symbols, "max-sharpe", constraints)


def test_too_few_observations(sample_store):
    with pytest.raises(NoDataError, match="at least 60 are needed"):
        optimize(sample_store, ["AAPL", "MSFT"], start=date(2022, 12, 1))


def test_max_sharpe_without_positive_returns_is_explained(sample_store):
    with pytest.raises(InfeasibleError, match="risk-free rate"):
        optimize(sample_store, ["AAPL", "MSFT"], start=START, end=END, risk_free_rate=0.95)


@pytest.mark.parametrize("rate", [5.0, -1.0, float("nan"), float("inf")])
def test_a_risk_free_rate_that_is_not_an_annual_fraction_is_refused(sample_store, rate):
    """5 is a percent typed as a fraction; NaN would poison every Sharpe ratio."""
    with pytest.raises(InvalidInputError, match="annual fraction between -1 and 1"):
        optimize(sample_store, ["AAPL", "MSFT"], start=START, end=END, risk_free_rate=rate)


def test_cli_optimize_json(cli, use_sample):
    result = cli(
        "tools",
        "optimize",
        "AAPL",
        "MSFT",
        "KO",
        "JNJ",
        "--method",
        "min-variance",
        "--max-weight",
        "0.4",
        "--start",
        "2016-01-01",
        "--end",
        "2020-12-31",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sum(data["weights"].values()) == pytest.approx(1.0)
    assert max(data["weights"].values()) <= 0.4 + 1e-9
    assert data["as_of"] == "2020-12-31"
    assert sum(data["risk_contributions"].values()) == pytest.approx(1.0)
    bad = cli("tools", "optimize", "AAPL", "MSFT", "--max-weight", "0.3")
    assert bad.exit_code == 2
    assert bad.output.startswith("error: infeasible")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_return": float("nan")}, "target return nan"),
        ({"risk_aversion": -1.0}, "risk aversion -1.0 must be above 0 and at most 1,000,000"),
        ({"risk_aversion": 1e308}, "at most 1,000,000"),
        ({"risk_aversion": float("nan")}, "risk aversion nan"),
        ({"frontier_points": 100_000}, "between 0 and 200"),
        ({"frontier_points": -1}, "between 0 and 200"),
        ({"start": date(1, 1, 1)}, "outside 1900-01-01"),
    ],
)
def test_impossible_settings_are_refused_before_the_solver_sees_them(sample_store, kwargs, message):
    """These reached cvxpy and came back as tracebacks (or ran for minutes)."""
    with pytest.raises(InvalidInputError, match=message):
        optimize(sample_store, ["AAPL", "MSFT"], "mean-variance", **kwargs)
    with pytest.raises(ValidationError):
        Constraints(sector_caps={"Tech": float("nan")})
