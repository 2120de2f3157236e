"""The indicator readings a question names, said before the usual paragraph: "what's the
20 day SMA and EMA for PEP", "ATR for XOM", "MACD histogram on UNH". A reading the tool
computes is given; one it cannot compute here (ATR without OHLCV data) says why; one it
never computes (a 100-day SMA, a stochastic) says what is computed instead, so that a
question is never answered with a paragraph that leaves out what it asked."""

from __future__ import annotations

import re

from assistant.models.offline.formats import num
from assistant.results import CrossSummary, IndicatorSummary
from tools.crosses import Cross, CrossKind

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


STANDARD = {"sma": {20, 50, 200}, "ema": {12, 26}}


def asked_windows(question: str) -> dict[str, list[int]]:
    """The moving averages a question names that the usual set lacks ("the 100 day moving
    average", "ema 50"): get_indicators' ``sma`` and ``ema`` arguments."""
    out: dict[str, list[int]] = {}
    for m in AVERAGE.finditer(question):
        window, word = (m[1], m[2]) if m[1] else (m[4], m[3])
        kind, n = _kind(word), int(window)
        if 2 <= n <= 400 and n not in STANDARD[kind] and n not in out.get(kind, []):
            out.setdefault(kind, []).append(n)
    return {k: v[:5] for k, v in out.items()}


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
            if (value := d.values.get(key)) is not None:
                side = "above" if d.price > value else "below" if d.price < value else "at"
                said.append(f"The close ({num(d.price)}) was {side} it.")
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


def _cross(c: Cross, d: CrossSummary) -> str:
    slow = f"the {d.slow}-day SMA ({num(round(c.slow, 2))})"
    if d.fast == 1:
        way = "above" if c.kind is CrossKind.ABOVE else "below"
        return f"{c.day}, closing at {num(c.close)}, {way} {slow}"
    name = "a golden cross" if c.kind is CrossKind.GOLDEN else "a death cross"
    way = "above" if c.kind is CrossKind.GOLDEN else "below"
    return f"{c.day}, {name}: the {d.fast}-day SMA ({num(round(c.fast, 2))}) went {way} {slow}"


def write_crosses(d: CrossSummary) -> str:
    """The crosses of the window, most recent last, and where the lines stand now."""
    fast = "the close" if d.fast == 1 else f"the {d.fast}-day SMA"
    pair = f"{fast} and the {d.slow}-day SMA"
    if not d.count:
        text = f"{d.symbol}: no cross of {pair} from {d.start} to {d.end}."
        if d.before is not None:
            text += f" The last one before: {_cross(d.before, d)}."
    else:
        listed = f" (the latest {len(d.crosses)})" if d.count > len(d.crosses) else ""
        plural = "es" if d.count > 1 else ""
        crosses = "; ".join(_cross(c, d) for c in d.crosses)
        text = f"{d.symbol}: {d.count} cross{plural} of {pair} from {d.start} to {d.end}{listed}: "
        text += crosses + "."
        if d.count > 1:
            latest = {c.kind: c.day for c in d.crosses}  # each kind's most recent
            names = {
                CrossKind.GOLDEN: "golden cross",
                CrossKind.DEATH: "death cross",
                CrossKind.ABOVE: "cross above",
                CrossKind.BELOW: "cross below",
            }
            text += " The most recent " + " and the most recent ".join(
                f"{names[kind]}: {day}" for kind, day in sorted(latest.items(), key=lambda x: x[1])
            )
            text += "."
    if d.above_now is not None and d.fast_now is not None and d.slow_now is not None:
        side = "above" if d.above_now else "below"
        text += (
            f" On {d.end}, {fast} ({num(round(d.fast_now, 2))}) was {side} the {d.slow}-day "
            f"SMA ({num(round(d.slow_now, 2))})."
        )
    return text
