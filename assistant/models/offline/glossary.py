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
TERMS: list[tuple[re.Pattern, str]] = [  # the first that matches: specific before general
    (
        re.compile(
            r"\b(?:ema|exponential)\b.{0,60}\b(?:sma|simple)\b|"
            r"\b(?:sma|simple)\b.{0,60}\b(?:ema|exponential)\b",
            re.I,
        ),
        "A simple moving average (SMA) weights each of the last N closes equally; an "
        "exponential moving average (EMA) gives recent closes more weight, so it turns sooner "
        "after a change of direction and lags less, at the cost of more false turns.",
    ),
    (
        re.compile(r"\bmacd\b.{0,40}\bhistogram\b|\bhistogram\b.{0,40}\bmacd\b", re.I),
        "The MACD histogram is MACD minus its signal line: above zero when MACD is above the "
        "signal (momentum improving), below zero when under it; bars shrinking toward zero warn "
        "that a crossover may be near.",
    ),
    (
        re.compile(r"\bsignal line\b", re.I),
        "The signal line is a nine-day exponential average of MACD; MACD crossing above it is "
        "read as momentum turning up, crossing below as turning down.",
    ),
    (
        re.compile(r"\bema\b|\bexponential moving average\b", re.I),
        "An exponential moving average (EMA) averages recent closes with weights that fall off "
        "exponentially with age, so it follows the price more closely than a simple average.",
    ),
    (
        re.compile(r"\bover(?:bought|sold)\b", re.I),
        "Overbought and oversold describe a price that rose or fell fast; by convention an RSI "
        "above seventy is called overbought and below thirty oversold. Neither says it must turn.",
    ),
    (
        re.compile(r"\bcorrelat\w*", re.I),
        "Correlation measures how two return series move together, from minus one (opposite) to "
        "one (in step); low correlation between holdings is what makes diversification work.",
    ),
    (
        re.compile(r"\bcagr\b|compound(?:ed)? annual growth", re.I),
        "CAGR (compound annual growth rate) is the constant yearly return that would turn the "
        "starting value into the ending one over the period.",
    ),
    (
        re.compile(r"\bmarket cap(?:itali[sz]ation)?\b", re.I),
        "Market capitalisation is the share price times the number of shares outstanding: what "
        "the market values the whole company at.",
    ),
    (
        re.compile(r"\betfs?\b|exchange[- ]traded fund", re.I),
        "An ETF (exchange-traded fund) is a fund that trades on an exchange like a stock, "
        "usually tracking an index such as the S&P 500.",
    ),
    (
        re.compile(r"\bshort(?:ing| selling| sale)\b", re.I),
        "Short selling is selling borrowed shares in the hope of buying them back cheaper; the "
        "loss is unlimited if the price keeps rising. This assistant only proposes sells of "
        "shares held.",
    ),
    (
        re.compile(r"\bdollar[- ]cost averag\w*|\bdca\b", re.I),
        "Dollar-cost averaging invests a fixed amount at regular intervals whatever the price, so "
        "more shares are bought when prices are low and fewer when high.",
    ),
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
        re.compile(r"\bsqueeze\b", re.I),
        "A Bollinger squeeze is when the bands narrow to their tightest in months: volatility is "
        "unusually low, which often comes before a large move, in either direction.",
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
        re.compile(r"\b(?:limit|stop)\s+orders?\b|\bstop[- ]loss\b", re.I),
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
