"""screen_symbols: the universe ranked by the indicator tool's own values and the
comparison's formulas, conditions kept, gaps explained; the front doors."""

import itertools
import math
import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.errors import InvalidInputError
from tools.indicators import close_set, indicators
from tools.screen import parse_condition, screen


def _walk(n, seed, start="2020-01-01"):
    rng = np.random.default_rng(seed)
    values = 100 * np.cumprod(1 + rng.normal(0.0005, 0.015, n))
    return pd.Series(values, index=pd.bdate_range(start, periods=n))


def test_screen_values_are_the_indicator_tools_values(sample_store):
    histories = {s: sample_store.load(s).price for s in sample_store.symbols()}
    out = screen(histories, "rsi_14", [parse_condition("rsi_14<50")], ascending=True, top=50)
    assert out.universe == len(histories) and out.matched == len(out.results) > 0
    values = [r.value for r in out.results]
    assert values == sorted(values) and all(v < 50 for v in values)
    for r in out.results:
        assert r.value == pytest.approx(indicators(sample_store, r.symbol).rsi_14, abs=1e-9)
    kept = {r.symbol for r in out.results}
    for symbol in set(histories) - kept:
        assert indicators(sample_store, symbol).rsi_14 >= 50


def test_window_measures_follow_the_comparison_conventions():
    a, b = _walk(300, 1), _walk(300, 2)
    out = screen({"A": a, "B": b}, "sharpe", start=date(2020, 3, 2))
    for r in out.results:
        closes = (a if r.symbol == "A" else b)[lambda s: s.index >= "2020-03-02"].tolist()
        rets = [y / x - 1 for x, y in itertools.pairwise(closes)]
        assert r.value == pytest.approx(
            statistics.mean(rets) / statistics.stdev(rets) * math.sqrt(252)
        )
    vol = screen({"A": a, "B": b}, "volatility")
    assert vol.ascending and vol.results[0].value <= vol.results[1].value  # calmest first


def test_a_later_listing_screens_as_it_would_alone_and_gaps_are_explained():
    full, late = _walk(400, 3), _walk(400, 4).iloc[250:]
    out = screen({"F": full, "L": late, "S": _walk(10, 5)}, "rsi_14", top=5)
    got = {r.symbol: r.value for r in out.results}
    assert got["L"] == pytest.approx(close_set(late)["rsi_14"].iloc[-1], abs=1e-9)
    assert got["F"] == pytest.approx(close_set(full)["rsi_14"].iloc[-1], abs=1e-9)
    assert out.excluded == {"S": "no rsi_14 (too little history)"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rsi<30", None),  # an alias
        ("rsi_14 30", "is not METRIC<VALUE"),
        ("foo>3", "unknown metric 'foo'"),
        ("rsi_14<nan", "not a finite number"),
        ("price>bar", "unknown metric 'bar'"),
    ],
)
def test_conditions_are_read_or_refused_with_the_reason(text, message):
    if message is None:
        assert str(parse_condition(text)) == "rsi_14<30"
    else:
        with pytest.raises(InvalidInputError, match=message):
            parse_condition(text)


def test_cli_screen(cli, use_sample, sample_store):
    import json

    done = cli(
        "tools",
        "screen",
        "--metric",
        "return",
        "--where",
        "price>sma_200",
        "--start",
        "2022-01-01",
        "--json",
    )
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["conditions"] == ["price>sma_200"] and out["results"]
    first = out["results"][0]
    closes = sample_store.load(first["symbol"], date(2022, 1, 1), None).price
    assert first["value"] == pytest.approx(closes.iloc[-1] / closes.iloc[0] - 1, abs=1e-4)
    assert all(r["values"]["price"] > r["values"]["sma_200"] for r in out["results"])
    shown = cli("tools", "screen", "--metric", "rsi", "--top", "3")
    assert shown.exit_code == 0 and "by rsi_14" in shown.output
    assert "The stored prices of 20 symbols end" in shown.output  # counted, not listed
    assert "SPX" not in shown.output  # the stocks, not the index


def test_a_screen_among_some_symbols_ranks_only_those(cli, use_sample, sample_store):
    import json

    done = cli("tools", "screen", "--metric", "rsi_14", "--among", "pfe, jnj,MRK", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["universe"] == 3 and {r["symbol"] for r in out["results"]} == {"PFE", "JNJ", "MRK"}
    values = [r["value"] for r in out["results"]]
    assert values == sorted(values, reverse=True)
    assert out["as_of"] == "2022-12-28"
    none = cli("tools", "screen", "--metric", "rsi_14", "--among", "ZZZ,QQQQ")
    assert none.exit_code == 2 and "has stored prices to screen" in none.stderr
    empty = cli("tools", "screen", "--metric", "rsi_14", "--among", " , ")
    assert empty.exit_code == 2 and "--among" in empty.stderr
    nothing = cli(
        "tools", "screen", "--metric", "rsi_14", "--where", "rsi_14<1", "--among", "KO", "--json"
    )
    assert json.loads(nothing.output)["as_of"] == "2022-12-28"  # the data's day, not today


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "foo"], "unknown metric 'foo'"),
        (["--metric", "rsi_14", "--where", "rsi_14 30"], "is not METRIC<VALUE"),
        (["--metric", "return", "--start", "2022-06-01", "--end", "2022-01-01"], "is after end"),
        (["--metric", "rsi_14", "--top", "0"], "--top"),
    ],
)
def test_cli_screen_bad_input_is_one_error_line(cli, use_sample, args, message):
    done = cli("tools", "screen", *args)
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


@pytest.mark.parametrize(
    ("question", "args"),
    [
        (
            "stocks above their 200 day moving average",
            {"metric": "return_1y", "where": ["price>sma_200"]},
        ),
        (
            "stocks with rsi above 70",
            {"metric": "rsi_14", "where": ["rsi_14>70"], "ascending": False},
        ),
        (
            "whats overbought right now",
            {"metric": "rsi_14", "where": ["rsi_14>70"], "ascending": False},
        ),
        (
            "which stocks have rsi under 30 and above 200 day ma",
            {"metric": "rsi_14", "where": ["rsi_14<30", "price>sma_200"], "ascending": True},
        ),
        ("rank stocks by rsi lowest first", {"metric": "rsi_14", "where": [], "ascending": True}),
        (
            "which pharma stocks are oversold",
            {
                "metric": "rsi_14",
                "where": ["rsi_14<30"],
                "ascending": True,
                "symbols": ["JNJ", "LLY", "MRK", "PFE"],
            },
        ),
        (
            "energy stocks above their 200 day average",
            {"metric": "return_1y", "where": ["price>sma_200"], "symbols": ["CVX", "XOM"]},
        ),
    ],
)
def test_screens_as_strangers_ask_them(model_cache, question, args):
    from assistant.models.offline import planner as make_planner

    sample = set(
        "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC SPX UNH WMT XOM".split()
    )
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert plan.calls == [("screen_symbols", args)]


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("whats the vibe on apple in the news", "news_sentiment"),
        ("is the press bullish on exxon", "news_sentiment"),
        ("has amd been pumped and dumped", "detect_anomalies"),
        ("show me spikes in chevron", "detect_anomalies"),
    ],
)
def test_tone_and_unusual_trading_as_strangers_ask(model_cache, question, tool):
    from assistant.models.offline import planner as make_planner

    sample = set(
        "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC SPX UNH WMT XOM".split()
    )
    plan = make_planner(lambda: sample, lambda: date(2022, 12, 28), model_cache).plan(question)
    assert [name for name, _ in plan.calls] == [tool]
