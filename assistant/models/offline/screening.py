"""Reading a screening question: one about the stored universe ("which stocks are
oversold", "the best Sharpe ratios over five years", "what's above its 200-day
average") rather than about named stocks; and what to rank by and keep."""

from __future__ import annotations

import re

UNIVERSE = re.compile(
    r"\b(?:stocks|names|tickers|companies|symbols|equities|shares)\b|\brank\w*\b|"
    r"\bscreen\w*\b|\b(?:top|bottom)\s+\d+\b|\b(?:which|what|any)\s+(?:stock|one|name)s?\b|"
    r"\b(?:gainers|losers|performers|movers|winners)\b|\b(?:each|every)\s+(?:stock|name|ticker|company)\b",
    re.I,
)
NOW = re.compile(r"\b(right now|now|today|currently|rn|at the moment|these days)\b", re.I)
RSI_CONDITION = re.compile(
    r"\brsi\w*\s*(?:is\s*|of\s*)?(above|over|greater than|more than|>|below|under|less than|<)"
    r"\s*(\d+(?:\.\d+)?)",
    re.I,
)
HIGH_RETURN = re.compile(
    r"\b(?:highest|best|top|biggest|largest)\s+(?:total\s+)?returns?\b|\bmost\s+(?:gains?|up)\b",
    re.I,
)
NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twenty": 20,
}  # fmt: skip
COUNT = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + ")"
WINNERS = re.compile(
    r"\b(?:gainers|winners)\b|\b(?:top|best)\b.{0,20}\bperform(?:ers?|ing)\b|"
    rf"\b(?:best|top)\s+(?:{COUNT}\s+)?(?:stocks?|names|companies)\b|"
    r"\b(?:gained|rose|climbed|went\s+up|did\s+best)\s+the\s+most\b",
    re.I,
)
LOSERS = re.compile(
    r"\b(?:lowest|worst)\s+(?:total\s+)?returns?\b|\b(?:losers|laggards)\b|"
    r"\b(?:worst|bottom)\b.{0,20}\bperform(?:ers?|ing)\b|"
    rf"\b(?:worst|bottom)\s+(?:{COUNT}\s+)?(?:stocks?|names|companies)\b|"
    r"\b(?:down|lost|fell|dropped|declined|went\s+down)\s+the\s+most\b|\bmost\s+down\b",
    re.I,
)
"""Rankings by return in other words ("the top 3 performers", "biggest losers"): read
after every other measure, so "top 5 stocks by Sharpe" stays a Sharpe ranking."""
WINDOW_AFTER = r"(?![- ]?(?:day|d|week|wk|month|mo|year|yr|bar)s?\b)"
"""Not a window: "the lowest 14 day RSI" lists no 14."""
TOP_N = re.compile(
    rf"\b(?:top|bottom|best|worst|highest|lowest|biggest)\s+{COUNT}\b{WINDOW_AFTER}|"
    rf"\b{COUNT}\s+(?:best|worst|top|highest|lowest|biggest|most)\b|"
    rf"\b{COUNT}\s+(?:stocks?|names|companies)\b",
    re.I,
)
"""How many to list ("the top 3 performers", "the five worst stocks", "which 5 stocks")."""
OVERSOLD = re.compile(r"\bover-?sold\b", re.I)
OVERBOUGHT = re.compile(r"\bover-?bought\b", re.I)
MOVING_AVERAGE = re.compile(
    r"\b(above|below|under|over)\s+(?:the\s+|its\s+|their\s+)?(20|50|200)[- ]?(?:day|d|dma|sma)\b",
    re.I,
)
HISTOGRAM = re.compile(r"\bhistogram\b", re.I)
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
    """The screen's metric, order, conditions and how many to list, or None when the
    question names its stocks or asks nothing a screen answers."""
    screen = _read_screen(text, names_stocks)
    if screen is not None and (m := TOP_N.search(text)):
        said = next(g for g in m.groups() if g)
        count = int(said) if said.isdigit() else NUMBER_WORDS[said.lower()]
        if 1 <= count <= 50:
            screen["top"] = count
    return screen


def _read_screen(text: str, names_stocks: bool) -> dict | None:
    if names_stocks or OTHER_TOOL.search(text):
        return None
    extreme = OVERSOLD.search(text) or OVERBOUGHT.search(text)
    ranked = SHARPE.search(text) and re.search(r"\b(best|highest|top|worst|lowest)\b", text, re.I)
    if not (UNIVERSE.search(text) or (extreme and NOW.search(text)) or ranked):
        return None
    where = []
    for m in RSI_CONDITION.finditer(text):
        op = ">" if m[1].lower() in ("above", "over", "greater than", "more than", ">") else "<"
        where.append(f"rsi_14{op}{m[2]}")
    if OVERSOLD.search(text) and not where:
        where.append("rsi_14<30")
    if OVERBOUGHT.search(text) and not where:
        where.append("rsi_14>70")
    for m in MOVING_AVERAGE.finditer(text):
        op = ">" if m[1].lower() in ("above", "over") else "<"
        where.append(f"price{op}sma_{m[2]}")
    if where and where[0].startswith("rsi"):
        return {"metric": "rsi_14", "where": where, "ascending": "<" in where[0]}
    if re.search(r"\brsi\b", text, re.I):
        return {"metric": "rsi_14", "where": where, "ascending": bool(LOW.search(text))}
    if re.search(r"\bmacd\b", text, re.I):
        return {"metric": "macd_hist" if HISTOGRAM.search(text) else "macd", "where": where}
    if re.search(r"\bbollinger\b", text, re.I):
        return {"metric": "bb_pctb", "where": where}
    if where:
        return {"metric": "return_1y", "where": where}
    if HIGH_RETURN.search(text):
        return {"metric": "return"}
    if SHARPE.search(text):
        return {"metric": "sharpe", "ascending": bool(LOW.search(text))}
    if DRAWDOWN.search(text):
        worst = bool(HIGH.search(text)) or not LOW.search(text)
        return {"metric": "max_drawdown", "ascending": worst}
    if VOLATILITY.search(text):
        calm = bool(LOW.search(text)) and not re.search(r"\bmost\b", text, re.I)
        return {"metric": "volatility", "ascending": calm}
    if LOSERS.search(text):
        return {"metric": "return", "ascending": True}
    if WINNERS.search(text):
        return {"metric": "return"}
    return None
