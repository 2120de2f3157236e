"""Short definitions for the terms the tools work with ("what is a Sharpe ratio?",
"explain RSI"), so a question about a word is answered instead of asked back.

Definitions state conventions in words, not figures that look like data: every figure
in an answer comes from a tool.
"""

from __future__ import annotations

import re

DEFINITIONAL = re.compile(
    r"^\W*(?:what(?:'s|s|\s+is|\s+are|\s+does)|explain|define|definition\s+of|meaning\s+of|"
    r"how\s+(?:does|do)\b.{0,40}\bwork|what\s+do\s+you\s+mean\s+by|tell\s+me\s+what)\b",
    re.I,
)
TERMS: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"\brsi\b|relative strength", re.I),
        "RSI (relative strength index) measures how strong recent gains were against recent "
        "losses, on a scale from zero to one hundred, usually over fourteen days. Readings above "
        "seventy are conventionally called overbought and below thirty oversold. Ask for a "
        "stock's RSI, e.g. \"What is KO's RSI?\".",
    ),
    (
        re.compile(r"\bmacd\b", re.I),
        "MACD is the difference between a fast and a slow exponential moving average of the "
        "price (usually twelve and twenty-six days), with a signal line that averages it; MACD "
        "crossing above its signal line is read as momentum turning up.",
    ),
    (
        re.compile(r"\bsharpe\b", re.I),
        "The Sharpe ratio is return per unit of risk: the annualised return (above cash) divided "
        "by the annualised volatility. Higher is better; it says nothing about the worst loss.",
    ),
    (
        re.compile(r"\bdraw\s*-?downs?\b", re.I),
        "A drawdown is the fall from a previous peak to a later low; the maximum drawdown is the "
        "worst such fall over a period, the loss someone who bought at the top would have seen.",
    ),
    (
        re.compile(r"\bvolatility\b", re.I),
        "Volatility is how much returns swing: the standard deviation of daily returns, "
        "annualised. Higher volatility means wider swings both ways.",
    ),
    (
        re.compile(r"\bbollinger\b", re.I),
        "Bollinger bands are a moving average with bands a number of standard deviations above "
        "and below it (usually twenty days and two deviations); a close outside a band is read "
        "as stretched.",
    ),
    (
        re.compile(r"\b(?:moving averages?|sma|ema)\b", re.I),
        "A moving average is the average closing price over the last N days; a price above its "
        "long average is read as an uptrend. A golden cross is the fifty-day average crossing "
        "above the two-hundred-day one; a death cross is the reverse.",
    ),
    (
        re.compile(r"\b(?:golden|death)\s+cross\b", re.I),
        "A golden cross is the fifty-day moving average crossing above the two-hundred-day one; "
        'a death cross is the reverse. Backtest one with e.g. "Backtest a golden cross on KO".',
    ),
    (
        re.compile(r"\brisk\s+parity\b", re.I),
        "Risk parity weights a portfolio so that each holding contributes the same share of its "
        "risk, instead of the same share of its money.",
    ),
    (
        re.compile(r"\bmin(?:imum)?[- ]variance\b", re.I),
        "A minimum-variance portfolio is the mix of the chosen stocks with the lowest expected "
        "volatility, whatever its return.",
    ),
    (
        re.compile(r"\bbacktest\w*\b", re.I),
        "A backtest replays a trading rule on past prices, trading only on what was known each "
        "day, and reports the return, risk and drawdown it would have had.",
    ),
    (
        re.compile(r"\bwalk[- ]?forward\b", re.I),
        "Walk-forward testing picks a strategy's settings on one stretch of history and tests "
        "them on the next, repeatedly, so the result is out of sample.",
    ),
    (
        re.compile(r"\bbeta\b", re.I),
        "Beta measures how much a stock moves with the market: one means in step, above one "
        "more than the market. The local data has no beta figures.",
    ),
    (
        re.compile(r"\bp\s*/\s*e\b|price[- ]to[- ]earnings|\bpe ratio\b", re.I),
        "The P/E ratio is the share price divided by earnings per share: what investors pay for "
        "each dollar of profit. The local data has prices, not earnings, so I cannot compute it.",
    ),
    (
        re.compile(r"\bdividend yield\b", re.I),
        "The dividend yield is the yearly dividend divided by the share price. The local data "
        "has no dividend figures.",
    ),
    (
        re.compile(r"\b(?:limit|stop)\s+orders?\b", re.I),
        "A limit order trades only at the given price or better (a buy at or below it); a stop "
        "order becomes a market order once the price reaches the stop (a sell stop protects "
        "against a further fall).",
    ),
]


def define(question: str) -> str | None:
    """The definition a definitional question asks for, or None."""
    if not DEFINITIONAL.search(question) and not re.search(r"\blike i'?m\s+\w+\b", question, re.I):
        return None
    if re.search(
        r"^\W*what(?:'s|s|\s+is|\s+was)\s+the\s+(?:current\s+|latest\s+)?(?:rsi|macd|price|"
        r"volatility|sharpe|drawdown|moving average|sma|ema|bollinger|beta|p/?e|dividend|return)",
        question,
        re.I,
    ):
        return None  # "what's the RSI?" asks for a reading: of which stock?
    for pattern, text in TERMS:
        if pattern.search(question):
            return text
    return None
