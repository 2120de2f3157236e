"""Reading a risk question: whether it asks what holdings risk (VaR, a stress test, "how
bad would 2008 be for my portfolio"), whose holdings (the account's, or those named),
and their weights ("60% AAPL and 40% KO", "AAPL=0.6", "half in KO"); equal weights when
none are given."""

from __future__ import annotations

import re

from assistant.models.offline.entities import Mention

RISK_MEASURE = re.compile(
    r"\b(v\s?a\s?r|value[- ]at[- ]risk|c\s?var|expected shortfall|stress[- ]?test\w*|"
    r"tail risk|(?<!equal )(?<!same )risk contributions?|contribut\w*(?: \w+)? (?:to|of) "
    r"(?:the )?risk|share of (?:the )?risk)\b",
    re.I,
)
STRICT_MEASURE = re.compile(
    r"\b(v\s?a\s?r|value[- ]at[- ]risk|c\s?var|expected shortfall|stress[- ]?test\w*)\b", re.I
)
BUILD = re.compile(
    r"\b(optimi[sz]\w*|allocat\w*|build|construct|create|make me|weights?|weighting|"
    r"how (?:would|should) (?:you|i) (?:weight|split|allocate|divide)|safest|lowest[- ]risk|"
    r"low[- ]risk|least risky|conservative|aggressive|risk[- ]parity|equal[- ]risk|same risk|"
    r"max\w*[- ]sharpe|minimi[sz]\w*|efficient frontier|optimal|ideal|risk[- ]adjusted|"
    r"best\b.{0,30}\b(?:mix|portfolio|allocation|split|weights?))\b",
    re.I,
)
STRATEGY = re.compile(
    r"\b(back-?test\w*|strateg\w+|golden cross|death cross|crossover|sma|rsi|macd|bollinger|"
    r"buy[- ]and[- ]hold|rebalanc\w*|walk[- ]?forward)\b",
    re.I,
)
"""Words that name a portfolio risk measure on their own."""
HOLDINGS = re.compile(
    r"\b(portfolio|holdings?|positions?|my account|my stocks|my shares|what i (?:own|hold)|"
    r"allocation|split|mix)\b",
    re.I,
)
DANGER = re.compile(
    r"\b(risk\w*|lose|losses?|lost|crash\w*|bad|worst|downturn|recession|shock\w*|"
    r"bear market|sell-?off|meltdown|2008|1987|covid|dot-?com|financial crisis|gfc|"
    r"rate (?:hikes?|rises?)|if the market (?:falls?|drops?|crashes?|tanks?))\b",
    re.I,
)
MINE = re.compile(
    r"\b(my|our)\s+(?:paper\s+)?(portfolio|holdings?|positions?|account|stocks|shares)\b|"
    r"\bwhat i (?:own|hold)\b",
    re.I,
)
SCENARIO_WORDS = {
    "black-monday-1987": re.compile(r"\b(1987|black monday)\b", re.I),
    "dot-com-2000": re.compile(r"\b(dot-?com|2000|2001|2002|tech (?:bubble|bust|crash))\b", re.I),
    "gfc-2008": re.compile(
        r"\b(2007|2008|2009|gfc|financial crisis|great recession|lehman|subprime)\b", re.I
    ),
    "covid-2020": re.compile(r"\b(covid|corona\w*|pandemic|2020)\b", re.I),
    "rates-2022": re.compile(r"\b(2022|rate (?:hikes?|rises?|increases?)|inflation)\b", re.I),
}
NUMBER = r"(\d+(?:\.\d+)?)"
FRACTION_WORDS = {"half": 0.5, "a third": 1 / 3, "a quarter": 0.25, "two thirds": 2 / 3}


def asks_risk(text: str, symbols: list[str]) -> bool:
    """A question about what holdings risk, not about one stock's own risk ("how risky is
    AAPL" is a price question: its volatility and drawdown)."""
    if STRATEGY.search(text):
        return False  # a strategy's drawdown is its backtest's
    if BUILD.search(text) and not STRICT_MEASURE.search(text):
        return False  # holdings to be chosen (the optimiser), not chosen ones measured
    if RISK_MEASURE.search(text):
        return True
    return bool(HOLDINGS.search(text) and DANGER.search(text)) and (
        bool(MINE.search(text)) or len(symbols) > 1 or bool(_weight_marks(text))
    )


def asks_account(text: str) -> bool:
    return bool(MINE.search(text))


def scenarios_asked(text: str) -> list[str]:
    return [name for name, words in SCENARIO_WORDS.items() if words.search(text)]


def _weight_marks(text: str) -> list[tuple[int, int, float]]:
    """(start, end, fraction) of each weight written in the text."""
    marks = []
    for m in re.finditer(rf"{NUMBER}\s*(%|percent\b|pct\b)", text, re.I):
        marks.append((m.start(), m.end(), float(m[1]) / 100))
    for m in re.finditer(rf"=\s*{NUMBER}", text):
        value = float(m[1])
        marks.append((m.start(), m.end(), value if value <= 1 else value / 100))
    for words, value in FRACTION_WORDS.items():
        for m in re.finditer(rf"\b{words}\b", text, re.I):
            marks.append((m.start(), m.end(), value))
    return sorted(marks)


def read_weights(text: str, mentions: list[Mention]) -> dict[str, float]:
    """Each named symbol's weight: the nearest weight written beside it (before or after,
    in the same clause); equal weights when none is written. Weights that do not sum to 1
    are kept as written: the tool says so."""
    symbols = list(dict.fromkeys(m.symbol for m in mentions))
    marks = _weight_marks(text)
    if not marks or not symbols:
        return {s: round(1 / len(symbols), 6) for s in symbols} if symbols else {}
    weights: dict[str, float] = {}
    used: set[int] = set()
    for mention in mentions:
        if mention.symbol in weights:
            continue
        best, gap = None, 30
        for i, (start, end, _) in enumerate(marks):
            if i in used:
                continue
            between = (
                text[end : mention.start] if end <= mention.start else text[mention.end : start]
            )
            distance = len(between)
            if distance < gap and not re.search(r"[,;]|\band\b", between):
                best, gap = i, distance
        if best is not None:
            used.add(best)
            weights[mention.symbol] = marks[best][2]
    missing = [s for s in symbols if s not in weights]
    if missing:
        rest = max(0.0, 1 - sum(weights.values()))
        for s in missing:
            weights[s] = round(rest / len(missing), 6)
    return weights
