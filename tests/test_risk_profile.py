"""Risk profiles: the questionnaire's rule, what a level sets (the optimiser's defaults,
a volatility limit the solver honours, a position cap in the pre-trade checks, re-read
when the order executes), the CLI, and chat with the offline model."""

import asyncio
import itertools
import json
import math
import re
from datetime import date

import numpy as np
import pytest

from assistant.auth import Role, User
from assistant.events import ToolResult
from assistant.profiles import ProfileStore, optimiser_defaults
from assistant.results import ApprovalStatus
from tests.agent_env import make_services
from tools.orders import Order, Side
from tools.portfolio import aligned_returns, optimize
from tools.portfolio_inputs import Constraints, Method, VolatilityTargetError
from tools.risk import Account, PositionCap, RiskLimits, check_order
from tools.risk_profile import (
    SETTINGS,
    Answers,
    Experience,
    Goal,
    Horizon,
    LossTolerance,
    RiskLevel,
    assess,
)

TRADER = User(id="tina", role=Role.TRADER)
APPROVER = User(id="alex", role=Role.APPROVER)
CALM = ["KO", "PEP", "JNJ", "WMT", "PG", "MSFT", "AAPL"]


def answers(h, loss, goal, exp) -> Answers:
    return Answers(horizon=h, loss_tolerance=loss, goal=goal, experience=exp)


def test_every_combination_follows_the_stated_rule():
    """The docstring's rule, written again independently and checked on all 256 answer
    sets: the score's band, then the capacity caps."""
    order = [RiskLevel.CONSERVATIVE, RiskLevel.MODERATE, RiskLevel.AGGRESSIVE]
    for h, loss, goal, exp in itertools.product(Horizon, LossTolerance, Goal, Experience):
        score = sum(list(type(v)).index(v) for v in (h, loss, goal, exp))
        band = 0 if score <= 4 else 1 if score <= 8 else 2
        if h is Horizon.UNDER_1Y or loss is LossTolerance.SELL_ALL:
            band = 0
        elif h is Horizon.ONE_TO_3Y:
            band = min(band, 1)
        got = assess(answers(h, loss, goal, exp))
        assert got.level is order[band] and got.score == score


def test_capacity_caps_willingness_and_says_why():
    keen = assess(
        answers(
            Horizon.UNDER_1Y,
            LossTolerance.BUY_MORE,
            Goal.AGGRESSIVE_GROWTH,
            Experience.PROFESSIONAL,
        )
    )
    assert keen.score == 9 and keen.level is RiskLevel.CONSERVATIVE
    assert any("within a year" in r for r in keen.reasons)
    assert (
        assess(answers(Horizon.OVER_10Y, LossTolerance.HOLD, Goal.GROWTH, Experience.SOME)).level
        is RiskLevel.MODERATE
    )


def _profile(store, level):
    return ProfileStore(store).state("u", level)


def test_left_out_settings_come_from_the_profile_and_given_ones_win(tmp_path):
    from sqlalchemy import create_engine

    profiles = ProfileStore(create_engine(f"sqlite:///{tmp_path / 'p.db'}"))
    conservative = profiles.state("u", RiskLevel.CONSERVATIVE)
    chosen = optimiser_defaults(conservative, 8)
    assert (chosen.method, chosen.max_weight, chosen.max_volatility) == (
        Method.MIN_VARIANCE,
        0.20,
        None,
    )
    assert chosen.profile is RiskLevel.CONSERVATIVE and len(chosen.applied) == 2
    raised = optimiser_defaults(conservative, 5)  # 5 x 20% would fix every weight at 20%
    assert raised.max_weight == pytest.approx(0.30) and "raised" in raised.applied[1]
    assert optimiser_defaults(conservative, 8).max_weight == 0.20
    given = optimiser_defaults(conservative, 6, Method.MAX_SHARPE, 0.5, 0.3)
    assert (given.method, given.max_weight, given.max_volatility, given.profile) == (
        Method.MAX_SHARPE,
        0.5,
        0.3,
        None,
    )
    moderate = profiles.state("u", RiskLevel.MODERATE)
    assert (
        optimiser_defaults(moderate, 6).max_volatility
        == SETTINGS[RiskLevel.MODERATE].max_volatility
    )
    parity = optimiser_defaults(moderate, 6, Method.RISK_PARITY)
    assert parity.max_weight == 1.0 and parity.max_volatility is None  # fixed weights
    assert optimiser_defaults(None, 6).method is Method.MAX_SHARPE
    assert profiles.get("someone else") is None


def test_the_volatility_limit_binds_and_an_unreachable_one_names_the_lowest(sample_store):
    start, end = date(2015, 1, 1), date(2019, 12, 31)
    free = optimize(sample_store, CALM, Method.MAX_SHARPE, start=start, end=end)
    limit = round(free.volatility * 0.9, 4)
    held = optimize(
        sample_store,
        CALM,
        Method.MAX_SHARPE,
        Constraints(max_volatility=limit),
        start=start,
        end=end,
    )
    returns, _ = aligned_returns(sample_store, CALM, start, end)
    w = np.array([held.weights[s] for s in returns.columns])
    vol = float(np.std(returns.to_numpy() @ w, ddof=1) * math.sqrt(252))
    assert vol <= limit * (1 + 1e-4)
    assert vol == pytest.approx(limit, rel=1e-3)  # it binds: the free optimum is riskier
    assert held.sharpe <= free.sharpe + 1e-9
    calmest = optimize(sample_store, CALM, Method.MIN_VARIANCE, start=start, end=end)
    with pytest.raises(VolatilityTargetError) as caught:
        optimize(
            sample_store,
            CALM,
            Method.MAX_SHARPE,
            Constraints(max_volatility=calmest.volatility * 0.8),
            start=start,
            end=end,
        )
    assert caught.value.lowest == pytest.approx(calmest.volatility, rel=1e-4)
    assert "the lowest is" in str(caught.value)


ACCOUNT = Account(cash=90_000.0, positions={"KO": 100.0}, prices={"KO": 100.0, "MSFT": 100.0})


@pytest.mark.parametrize(
    ("order", "passed", "words"),
    [
        (Order(symbol="MSFT", side=Side.BUY, quantity=80), True, "8.0% of equity"),
        (Order(symbol="MSFT", side=Side.BUY, quantity=150), False, "15.0% of equity, above"),
        (Order(symbol="KO", side=Side.SELL, quantity=50), True, "goes from"),
    ],
)
def test_the_profile_cap_is_a_check_of_its_own(order, passed, words):
    cap = PositionCap(profile="conservative", max_weight=0.10)
    report = check_order(order, ACCOUNT, RiskLimits(), cap)
    check = next(c for c in report.checks if c.name == "profile_position_cap")
    assert check.passed is passed and words in check.reason
    assert "conservative risk profile" in check.reason
    assert report.passed is passed
    assert "profile_position_cap" not in {
        c.name for c in check_order(order, ACCOUNT, RiskLimits()).checks
    }


@pytest.fixture
def services(tmp_path, db_url, sample_store, sample_index_dir):
    return make_services(
        tmp_path / "data", db_url, sample_store, sample_index_dir, roles={"tina": "trader"}
    )


def run(coro):
    return asyncio.run(coro)


def test_an_order_above_the_requesters_cap_fails_its_checks(services):
    services.profiles.state(TRADER.id, RiskLevel.CONSERVATIVE)
    turn = run(services.chat.ask("buy 150 KO", TRADER))
    assert [c.name for c in turn.tool_calls] == ["place_order"]
    # 150 KO at the last sample close (~$63) is ~9.4% of $100k equity: within 10%
    assert turn.approvals and not turn.error
    big = run(services.chat.ask("buy 200 KO", TRADER, turn.conversation_id))
    assert not big.approvals
    [row] = [
        r
        for r in services.store.approvals(ApprovalStatus.FAILED_CHECKS)
        if r.conversation_id == turn.conversation_id
    ]
    checks = json.loads(row.risk_json)["checks"]
    capped = next(c for c in checks if c["name"] == "profile_position_cap")
    assert not capped["passed"] and "conservative risk profile" in capped["reason"]
    assert next(c for c in checks if c["name"] == "max_position_weight")["passed"]


def test_a_stricter_profile_set_before_the_approval_binds_at_execution(services):
    services.profiles.state(TRADER.id, RiskLevel.AGGRESSIVE)
    turn = run(services.chat.ask("buy 250 KO", TRADER))  # ~16% of equity: within 30%
    [approval] = turn.approvals
    services.profiles.state(TRADER.id, RiskLevel.CONSERVATIVE)
    row = services.approvals.approve(approval.approval_id, APPROVER)
    assert row.status == ApprovalStatus.FAILED_CHECKS
    assert "conservative risk profile" in row.reason
    assert services.approvals.broker_factory().positions() == []


def test_chat_sets_the_profile_and_optimisations_follow_it(services):
    said = run(services.chat.ask("I'm a pretty cautious investor", TRADER))
    assert [c.name for c in said.tool_calls] == ["set_risk_profile"]
    assert "conservative" in said.answer
    turn = run(services.chat.ask("build me a portfolio of KO, PEP, JNJ, WMT, PG and MSFT", TRADER))
    [call] = turn.tool_calls
    assert call.name == "optimize_portfolio" and "method" not in call.args
    [result] = [e for e in turn.events if isinstance(e, ToolResult)]
    assert "min-variance" in result.summary
    assert (
        "Your conservative risk profile set: method min-variance, each stock at most 25% "
        "(raised from 20%: with 6 stocks that cap would fix every weight)" in turn.answer
    )
    percents = [float(x) for x in re.findall(r"[A-Z]{2,4} (\d+\.\d+)%", turn.answer)]
    assert percents and max(percents) <= 25.0 + 1e-6
    explicit = run(
        services.chat.ask("optimise KO PEP JNJ WMT PG MSFT by max sharpe, max 50% each", TRADER)
    )
    assert explicit.tool_calls[0].args["method"] == "max-sharpe"
    assert "risk profile set" not in explicit.answer


def test_the_questionnaire_over_several_messages(services):
    first = run(services.chat.ask("can you assess my risk tolerance?", TRADER))
    assert "When will you need most of this money?" in first.answer
    assert services.profiles.get(TRADER.id) is None
    part = run(
        services.chat.ask("probably 15 years, and I'd hold on", TRADER, first.conversation_id)
    )
    assert "Noted your answers on horizon, loss tolerance. Still needed:" in part.answer
    done = run(
        services.chat.ask("growth, and some experience with funds", TRADER, first.conversation_id)
    )
    saved = services.profiles.get(TRADER.id)
    assert saved is not None and saved.level is RiskLevel.MODERATE and saved.score == 8
    assert "moderate" in done.answer
    shown = run(services.chat.ask("what's my risk profile?", TRADER))
    assert "Your risk profile is moderate" in shown.answer


def test_cli_profile(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "d"))
    assert "No risk profile yet" in cli("profile", "show").output
    asked = cli("profile", input="4\nsomething\n3\ngrowth\n2\n")
    assert asked.exit_code == 0, asked.output
    assert "answer 1 to 4" in asked.output and "Risk profile: moderate" in asked.output
    shown = cli("profile", "show", "--json")
    assert json.loads(shown.output)["profile"]["level"] == "moderate"
    stated = cli("profile", "set", "--level", "aggressive", "--json")
    assert json.loads(stated.output)["settings"]["max_position_weight"] == 0.30
    for bad in (
        ["profile", "set", "--level", "bold"],
        ["profile", "set", "--horizon", "1_to_3y"],
        ["profile", "set", "--level", "moderate", "--goal", "growth"],
    ):
        result = cli(*bad)
        assert result.exit_code == 2 and result.output.count("error:") == 1, result.output
    unanswered = cli("profile", input="")
    assert unanswered.exit_code == 2 and "assistant profile set" in unanswered.output
    assert "cleared" in cli("profile", "clear").output
    assert "no risk profile" in cli("profile", "clear").output


def test_orders_proposed_together_are_checked_together(services):
    """Each alone is within the 10% cap; the second, counted with the first (same turn)
    and then with the pending approval (a later turn), is not."""
    services.profiles.state(TRADER.id, RiskLevel.CONSERVATIVE)
    both = run(services.chat.ask("buy 100 KO and buy 100 KO", TRADER))  # ~6.3% each
    assert len(both.approvals) == 1
    [row] = [
        r
        for r in services.store.approvals(ApprovalStatus.FAILED_CHECKS)
        if r.conversation_id == both.conversation_id
    ]
    assert "conservative risk profile" in row.reason
    later = run(services.chat.ask("buy 100 KO", TRADER))
    assert not later.approvals  # the pending 100 counts: 200 KO is ~12.5%


def test_clearing_the_profile_before_the_approval_does_not_lift_the_cap(services):
    """The cap an order was proposed under still binds at execution, whatever the
    profile is by then: clearing it cannot let a checked order through larger."""
    services.profiles.state(TRADER.id, RiskLevel.CONSERVATIVE)
    turn = run(services.chat.ask("buy 100 KO", TRADER))  # ~6.3%: within 10%
    [approval] = turn.approvals
    broker = services.approvals.broker_factory()
    broker.submit(Order(symbol="KO", side=Side.BUY, quantity=80), client_order_id="held")
    services.profiles.clear(TRADER.id)  # 80 held + 100 = ~11.3%: above the 10% proposed under
    row = services.approvals.approve(approval.approval_id, APPROVER)
    assert row.status == ApprovalStatus.FAILED_CHECKS
    assert "conservative risk profile" in row.reason


@pytest.mark.parametrize(
    ("turns", "call"),
    [
        (["I'd describe myself as risk-averse"], ("set_risk_profile", {"level": "conservative"})),
        (["I don't like risk"], ("set_risk_profile", {"level": "conservative"})),
        (["I can handle a lot of risk"], ("set_risk_profile", {"level": "aggressive"})),
        (["put me down as moderate risk"], ("set_risk_profile", {"level": "moderate"})),
        (["I'm moderately aggressive"], ("set_risk_profile", {"level": "moderate"})),
        (["delete my risk profile"], ("clear_risk_profile", {})),
        (["I want to retake the questionnaire"], ("set_risk_profile", {})),
        (
            ["over 10 years, I'd hold, growth, some experience"],
            (
                "set_risk_profile",
                {
                    "horizon": "over_10y",
                    "loss_tolerance": "hold",
                    "goal": "growth",
                    "experience": "some",
                },
            ),
        ),
        (
            [
                "take the risk questionnaire",
                "I need the money in 2 years for retirement, I'd buy more, aggressive growth, professional",
            ],
            (
                "set_risk_profile",
                {
                    "horizon": "1_to_3y",
                    "loss_tolerance": "buy_more",
                    "goal": "aggressive_growth",
                    "experience": "professional",
                },
            ),
        ),
        (
            ["take the risk questionnaire", "keeping what I have"],
            ("set_risk_profile", {"goal": "preserve"}),
        ),
        (
            ["take the risk questionnaire", "3 to 10 years, hold, income", "none"],
            (
                "set_risk_profile",
                {
                    "horizon": "3_to_10y",
                    "loss_tolerance": "hold",
                    "goal": "income",
                    "experience": "none",
                },
            ),
        ),
        (
            ["take the risk questionnaire", "4, 3, 3, 2"],
            (
                "set_risk_profile",
                {
                    "horizon": "over_10y",
                    "loss_tolerance": "hold",
                    "goal": "growth",
                    "experience": "some",
                },
            ),
        ),
        (
            ["I'm a conservative investor", "actually, make that aggressive"],
            ("set_risk_profile", {"level": "aggressive"}),
        ),
    ],
)
def test_profile_talk_as_strangers_type_it(model_cache, turns, call):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO PEP MSFT JNJ WMT PG".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(
        turns[-1], turns[:-1]
    )
    assert plan.calls == [call]


@pytest.mark.parametrize(
    "question",
    [
        "I'm low on cash",
        "is KO a conservative pick?",
        "my dad is a conservative investor",
        "hold AAPL?",
    ],
)
def test_other_talk_is_not_profile_talk(model_cache, question):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO PEP MSFT JNJ WMT PG".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert not any("risk_profile" in name for name, _ in plan.calls)


def test_a_portfolio_that_suits_my_profile_is_an_optimisation(model_cache):
    from assistant.models.offline import planner as make_planner

    sample = set("AAPL KO PEP MSFT JNJ WMT PG".split())
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(
        "what portfolio of MSFT, AAPL, KO would suit my risk profile?"
    )
    assert [name for name, _ in plan.calls] == ["optimize_portfolio"]
    assert "method" not in plan.calls[0][1]
