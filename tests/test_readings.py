"""The indicator readings a question names are said first, from the tool's result: a
value, why it is not available, or what is computed instead."""

from datetime import date

import pytest

from assistant.models.offline.readings import asked_readings
from assistant.results import IndicatorSummary

SUMMARY = IndicatorSummary(
    symbol="PEP",
    as_of=date(2022, 12, 28),
    source="sample",
    price=179.28,
    values={"rsi_14": 50.8, "sma_20": 180.2512, "sma_50": 177.67, "sma_200": 168.1,
            "ema_12": 179.6311, "ema_26": 179.1102, "macd_hist": -0.3},
    unavailable={"atr_14": "needs OHLCV: PEP has no high, low data"},
    windows={"rsi": 14, "sma_fast": 50, "sma_slow": 200, "volatility": 20},
    rsi_bounds={"oversold": 30, "overbought": 70},
)  # fmt: skip


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("whats the 20 day sma for pep", "The 20-day SMA was 180.25."),
        ("pep ema 12?", "The 12-day EMA was 179.63."),
        ("the sma and ema of pep", "The 12-day EMA was 179.63. The 26-day EMA was 179.11."),
        ("macd histogram on pep", "The MACD histogram was -0.3."),
        ("atr for pep", "The 14-day ATR is not available: needs OHLCV: PEP has no high, low data."),
        ("what's the 100 day sma of pep", "The 100-day SMA is not computed here; RSI 14, SMAs"),
        ("stochastic on pep", "Stochastic is not computed here; RSI 14"),
    ],
)
def test_a_named_reading_is_answered(question, said):
    assert said in asked_readings(SUMMARY, question)


def test_a_question_naming_no_reading_adds_nothing():
    assert asked_readings(SUMMARY, "how is pep doing") == ""
    assert asked_readings(SUMMARY, "pep's rsi") == ""  # the paragraph says it


def test_stale_price_notes_of_many_calls_are_one_sentence():
    from assistant.models.offline.answer import merged_notes

    def note(names: str) -> str:
        return (
            f"The stored prices of {names} end 2022-12-28, before the last trading day, and no "
            "price provider is configured to refresh them."
        )

    other = "No XYZ prices after 2022-12-28: shown is the same span of time ending 2022-12-28."
    merged = merged_notes([note("KO"), other, note("PEP and PG"), note("KO")])
    assert merged == [note("KO, PEP and PG"), other]
    many = merged_notes([note(s) for s in "A B C D E F G H".split()])
    assert many == [note("8 symbols")]
    assert merged_notes([note("KO")]) == [note("KO")]
