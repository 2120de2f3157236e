"""Reading a screening question: one about the stored universe ("which stocks are
oversold", "the best Sharpe ratios over five years", "what's above its 200-day
average") rather than about named stocks; and what to rank by and keep."""

from __future__ import annotations

import re

UNIVERSE = re.compile(
    r"\b(?:which|what|any|list|show|find|give me|name)\b.{0,25}\b(?:stocks?|names|companies|"
    r"symbols|tickers|shares|ones)\b|\b(?:stocks?|names|companies|tickers)\b.{0,15}\b(?:are|is|"
    r"have|had|with)\b|\b(?:all|every|each)\b.{0,20}\b(?:stocks?|symbols?|companies|names|"
    r"tickers)\b|\bscreen\w*\b|\b(?:top|bottom)\s+\d+\b|"
    r"\b(?:your|these|the stored|the available)\s+(?:stocks|names|tickers|companies|symbols)\b",
    re.I,
)
OVERSOLD = re.compile(r"\bover-?sold\b", re.I)
OVERBOUGHT = re.compile(r"\bover-?bought\b", re.I)
MOVING_AVERAGE = re.compile(
    r"\b(above|below|under|over)\b.{0,25}?\b(20|50|200)[- ]?(?:day|d|dma|sma)\b", re.I
)
SHARPE = re.compile(r"\b(sharpe|risk[- ]adjusted)\b", re.I)
VOLATILITY = re.compile(r"\b(volatil\w*|risk(?:y|ier|iest)|stable|steadi\w*|calm\w*)\b", re.I)
OTHER_TOOL = re.compile(
    r"\b(portfolio|optimi[sz]\w*|allocat\w*|weights?|back-?test\w*|strateg\w+|rebalanc\w*|"
    r"news|headlines?|filings?|10-?k|10-?q|buy|sell|my (?:account|positions?|holdings?))\b",
    re.I,
)
"""A question another tool answers, though it says "which stocks" ("a risk parity
portfolio of the pharma names you have")."""
DRAWDOWN = re.compile(r"\b(draw ?downs?|fell the most from (?:its|their) (?:high|peak))\b", re.I)
LOW = re.compile(r"\b(low\w*|least|less|smallest|calm\w*|stable|steadi\w*|safest)\b", re.I)
HIGH = re.compile(r"\b(high\w*|most|biggest|largest|greatest|best|worst|deepest)\b", re.I)


def read_screen(text: str, names_stocks: bool) -> dict | None:
    """The screen's metric, order and conditions, or None when the question names its
    stocks or asks nothing a screen answers (a ranking by return stays with the price
    tool's ranking)."""
    if names_stocks or not UNIVERSE.search(text) or OTHER_TOOL.search(text):
        return None
    if OVERSOLD.search(text):
        return {"metric": "rsi_14", "where": ["rsi_14<30"], "ascending": True}
    if OVERBOUGHT.search(text):
        return {"metric": "rsi_14", "where": ["rsi_14>70"], "ascending": False}
    if m := MOVING_AVERAGE.search(text):
        op = ">" if m[1].lower() in ("above", "over") else "<"
        return {"metric": "return_1y", "where": [f"price{op}sma_{m[2]}"]}
    if SHARPE.search(text):
        return {"metric": "sharpe", "ascending": bool(LOW.search(text))}
    if DRAWDOWN.search(text):
        worst = bool(HIGH.search(text)) or not LOW.search(text)
        return {"metric": "max_drawdown", "ascending": worst}
    if VOLATILITY.search(text):
        calm = bool(LOW.search(text)) and not re.search(r"\bmost\b", text, re.I)
        return {"metric": "volatility", "ascending": calm}
    return None
