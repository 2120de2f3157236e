"""The indicator readings a question names, said before the usual paragraph: "what's the
20 day SMA and EMA for PEP", "ATR for XOM", "MACD histogram on UNH". A reading the tool
computes is given; one it cannot compute here (ATR without OHLCV data) says why; one it
never computes (a 100-day SMA, a stochastic) says what is computed instead, so that a
question is never answered with a paragraph that leaves out what it asked."""

from __future__ import annotations

import re

from assistant.models.offline.formats import num
from assistant.results import IndicatorSummary

COMPUTED = (
    "RSI 14, SMAs of 20, 50 and 200 days, EMAs of 12 and 26 days, MACD (12, 26, 9) with its "
    "signal and histogram, Bollinger bands (20, 2), 20-day volatility, and ATR 14 where the "
    "data has highs and lows"
)
AVERAGE = re.compile(
    r"\b(?:(\d{1,3})[- ]?(?:day|d|period)?\s*(sma|ema|simple|exponential|moving\s+average|ma)|"
    r"(sma|ema)[\s-]?(\d{1,3}))\b",
    re.I,
)
BARE = re.compile(r"\b(sma|ema|exponential moving average|simple moving average)s?\b", re.I)
NAMED = [
    (re.compile(r"\bhistogram\b", re.I), "macd_hist", "the MACD histogram"),
    (re.compile(r"\batr\b|\baverage true range\b", re.I), "atr_14", "the 14-day ATR"),
]
NEVER = re.compile(
    r"\b(stochastic\w*|williams\s*%?\s*r|adx|obv|on[- ]balance volume|vwap|ichimoku|"
    r"fibonacci|parabolic sar|cci|money flow|mfi)\b",
    re.I,
)


def _kind(word: str) -> str:
    return "ema" if word.lower().startswith(("ema", "exp")) else "sma"


def _reading(d: IndicatorSummary, key: str, label: str) -> str:
    value = d.values.get(key)
    if value is not None:
        return f"{label[0].upper()}{label[1:]} was {num(round(value, 2))}."
    why = d.unavailable.get(key)
    return f"{label[0].upper()}{label[1:]} is not available: {why}." if why else ""


def asked_readings(d: IndicatorSummary, question: str) -> str:
    """Sentences for the readings ``question`` names that the usual paragraph leaves out
    (empty when it names none)."""
    said: list[str] = []
    seen: set[str] = set()
    for m in AVERAGE.finditer(question):
        window, word = (m[1], m[2]) if m[1] else (m[4], m[3])
        kind = _kind(word)
        key = f"{kind}_{window}"
        if key in seen:
            continue
        seen.add(key)
        label = f"the {window}-day {kind.upper()}"
        if key in d.values or key in d.unavailable:
            said.append(_reading(d, key, label))
        else:
            said.append(f"{label[0].upper()}{label[1:]} is not computed here; {COMPUTED} are.")
    for m in BARE.finditer(question):  # "the SMA and EMA for PEP": every window of each
        kind = _kind(m[1])
        if any(k.startswith(kind) for k in seen):
            continue
        windows = ("12", "26") if kind == "ema" else ("20", "50", "200")
        for window in windows:
            seen.add(f"{kind}_{window}")
            said.append(_reading(d, f"{kind}_{window}", f"the {window}-day {kind.upper()}"))
    for pattern, key, label in NAMED:
        if pattern.search(question):
            said.append(_reading(d, key, label))
    if m := NEVER.search(question):
        said.append(f"{m[1][0].upper()}{m[1][1:]} is not computed here; {COMPUTED} are.")
    return " ".join(s for s in said if s)
