"""Unusual-trading flags against formulas written out here, on series with known
injected patterns; the front doors."""

import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.anomaly import FlagKind, detect, news_bursts, robust_z, spikes_and_reversals


def _quiet(n=300, seed=0, start="2020-01-01"):
    rng = np.random.default_rng(seed)
    return pd.Series(
        100 * np.cumprod(1 + rng.normal(0, 0.01, n)), index=pd.bdate_range(start, periods=n)
    )


def test_robust_z_is_median_and_mad_of_the_days_before():
    rng = np.random.default_rng(1)
    values = pd.Series(rng.normal(0, 1, 100))
    z = robust_z(values, baseline=60)
    for t in (60, 75, 99):
        before = values.iloc[t - 60 : t].tolist()
        med = statistics.median(before)
        mad = statistics.median([abs(x - med) for x in before])
        assert z.iloc[t] == pytest.approx((values.iloc[t] - med) / (1.4826 * mad))
    assert z.iloc[:60].isna().all()


def test_an_injected_jump_is_flagged_and_a_quiet_series_is_not():
    closes = _quiet()
    assert [f for f in detect("Q", closes).flags if f.kind is FlagKind.RETURN] == []
    jumped = closes.copy()
    jumped.iloc[200:] *= 1.12  # a 12% one-day move in a 1%-a-day series
    flags = detect("Q", jumped).flags
    returns = [f for f in flags if f.kind is FlagKind.RETURN]
    assert [f.date for f in returns] == [jumped.index[200].date()]
    assert returns[0].value == pytest.approx(jumped.iloc[200] / jumped.iloc[199] - 1)
    assert returns[0].z > 4


def test_a_spike_that_gives_back_half_is_a_spike_and_reversal():
    closes = _quiet(120)
    pumped = closes.copy()
    base = pumped.iloc[80]
    pumped.iloc[70:81] = base  # a flat run-up: the rise is measured from base
    for i, rise in enumerate([0.08, 0.16, 0.25, 0.30]):
        pumped.iloc[81 + i] = base * (1 + rise)
    for i in range(85, 120):
        pumped.iloc[i] = base * 1.05  # back down: gives back more than half of +30%
    flags = spikes_and_reversals(pumped)
    assert len(flags) == 1 and flags[0].date == pumped.index[84].date()
    assert flags[0].value == pytest.approx(0.30)
    held = closes.copy()
    held.iloc[70:81] = base
    for i, rise in enumerate([0.08, 0.16, 0.25, 0.30]):
        held.iloc[81 + i] = base * (1 + rise)
    held.iloc[85:] = base * 1.28  # the rise holds: no reversal
    assert spikes_and_reversals(held) == []


def test_a_news_burst_counts_only_without_a_filing_nearby():
    days = pd.bdate_range("2021-01-01", periods=120)
    background = [days[i].date() for i in range(0, 120, 9)]
    burst_day = days[100].date()
    stories = background + [burst_day] * 5
    flags = news_bursts(stories, [], days)
    assert [(f.date, f.value) for f in flags] == [(burst_day, 5.0)]
    assert news_bursts(stories, [days[101].date()], days) == []  # a filing the next day explains it
    assert news_bursts(background + [burst_day] * 2, [], days) == []  # 3 stories at least


def test_volume_is_checked_only_when_stored():
    closes = _quiet()
    out = detect("Q", closes)
    assert "abnormal_volume" in out.unavailable
    volume = pd.Series(1e6, index=closes.index) * np.random.default_rng(2).uniform(
        0.9, 1.1, len(closes)
    )
    volume.iloc[250] = 2e7
    flags = detect("Q", closes, volume).flags
    assert [f.date for f in flags if f.kind is FlagKind.VOLUME] == [closes.index[250].date()]


def test_cli_and_agent(cli, use_sample, tmp_path, sample_store, sample_index_dir):
    import asyncio
    import json

    from assistant.auth import LOCAL_USER
    from tests.agent_env import make_services

    done = cli(
        "tools", "anomalies", "AMD", "--start", "2020-01-01", "--end", "2020-12-31", "--json"
    )
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["symbol"] == "AMD" and out["start"] >= "2020-01-01" and out["end"] <= "2020-12-31"
    assert all("2020-01-01" <= f["date"] <= "2020-12-31" for f in out["flags"])
    bad = cli("tools", "anomalies", "AMD", "--threshold", "1")
    assert bad.exit_code == 2 and bad.stderr.startswith("error:")
    services = make_services(
        tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", sample_store, sample_index_dir
    )
    turn = asyncio.run(services.chat.ask("any unusual trading in AMD in 2020?", LOCAL_USER))
    assert [(c.name, c.args) for c in turn.tool_calls] == [
        ("detect_anomalies", {"symbol": "AMD", "start": "2020-01-01", "end": "2020-12-31"})
    ]
    assert "Unusual trading in AMD" in turn.answer and "not evidence of wrongdoing" in turn.answer


@pytest.mark.parametrize(
    "question",
    [
        "signs of a pump and dump in amd in 2020?",  # the router said technicals, no keyword:
        "was there abnormal price action in amd during 2020",  # this crashed the planner
        "did AMD have any weird moves in 2020",
    ],
)
def test_unusual_trading_questions_are_planned(model_cache, question):
    from assistant.models.offline import planner as make_planner

    sample = set(
        "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC SPX UNH WMT XOM".split()
    )
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert plan.calls == [
        ("detect_anomalies", {"symbol": "AMD", "start": "2020-01-01", "end": "2020-12-31"})
    ]
