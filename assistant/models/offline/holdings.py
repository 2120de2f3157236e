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
FILLER = re.compile(
    r"^[\s,]*(?:(?:in|of|into|on|to|at|for|is|are|with|and)\s+)?(?:the\s+)?"
    r"(?:(?:shares?|stock|worth|dollars?|usd)\s+(?:of|in)\s+)?[\s$]*$",
    re.I,
)
"""What may stand between a weight and its holding ("60% in", "$6,000 of", "0.4")."""
RATIO = re.compile(
    r"(?<![\d/.-])(\d{1,3}(?:\s*[/-]\s*\d{1,3}){1,4})(?![\d/.-])(?!\s*(?:%|percent|day))"
)
"""Parts that sum to 100, in the order the holdings are named ("60/40", "50-50", "40/30/30")."""
EACH = re.compile(r"\beach\b|\bequal(?:ly)?\b|\bsame (?:amount|weight)", re.I)
NOT_WEIGHT = re.compile(
    r"^\s*(?:%|percent)?\s*(?:var\b|value[- ]at[- ]risk|c\s?var|confidence|level|"
    r"market|drop|fall|crash|decline|shock|move|correction|of the time|chance)",
    re.I,
)
"""A number that is a level ("95% VaR") or a move ("a 20% market drop"), not a weight."""


def asks_risk(text: str, symbols: list[str]) -> bool:
    """A question about what holdings risk, not about one stock's own risk ("how risky is
    AAPL" is a question about that stock: its volatility, drawdown and beta)."""
    if STRATEGY.search(text):
        return False  # a strategy's drawdown is its backtest's
    if BUILD.search(text) and not STRICT_MEASURE.search(text):
        return False  # holdings to be chosen (the optimiser), not chosen ones measured
    if RISK_MEASURE.search(text):
        return True
    if not (DANGER.search(text) or MARKET_MOVE.search(text)):
        return False
    mix = bool(EACH.search(text)) or _has_weights(text) or _is_ratio(text)
    return bool(MINE.search(text)) or (len(symbols) > 1 and (mix or HOLDINGS.search(text)))


MARKET_MOVE = re.compile(
    r"\b(?:market|s&p|stocks?)\b.{0,20}\b(?:drops?|falls?|crash\w*|tanks?|declines?)\b|"
    r"\b(?:drop|fall|crash|decline)\s+(?:of|in)\s+the\s+market\b|"
    r"\d+\s*%\s*(?:market\s+)?(?:drop|fall|crash|decline|correction)",
    re.I,
)


def asks_account(text: str) -> bool:
    return bool(MINE.search(text))


def scenarios_asked(text: str) -> list[str]:
    return [name for name, words in SCENARIO_WORDS.items() if words.search(text)]


def _is_ratio(text: str) -> bool:
    return any(
        abs(sum(float(p) for p in re.split(r"\s*[/-]\s*", m[1])) - 100) < 1e-9
        for m in RATIO.finditer(text)
    )


def market_move(text: str) -> float | None:
    """The market move a question supposes ("if the market drops 30%"), a fraction."""
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:%|percent)", text, re.I):
        around = text[max(0, m.start() - 40) : m.end() + 40]
        if MARKET_MOVE.search(around) and 0 < float(m[1]) < 90:
            rises = re.search(r"\b(ris\w*|rall\w*|jump\w*|gain\w*|up)\b", around, re.I)
            return (
                float(m[1])
                / 100
                * (
                    1
                    if rises and not re.search(r"\b(drop|fall|crash|tank|declin)", around, re.I)
                    else -1
                )
            )
    return None


def holdings_mentions(text: str, mentions: list[Mention]) -> list[Mention]:
    """The holdings named: not "the market" of "if the market drops 20%"."""
    return [m for m in mentions if "market" not in m.text.lower()]


def weights_written(text: str) -> bool:
    """Whether the question writes weights (a ratio, percents, amounts, "each")."""
    return _is_ratio(text) or _has_weights(text) or bool(EACH.search(text))


def _has_weights(text: str) -> bool:
    return any(kind != "bare" for *_, kind in _weight_marks(text))


def _weight_marks(text: str) -> list[tuple[int, int, float, str]]:
    """(start, end, value, kind) of each number that may be a weight: a percent, a
    dollar amount, a fraction word or "1/3", a decimal, a bare number."""
    marks: list[tuple[int, int, float, str]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, value: float, kind: str) -> None:
        if any(a < m.end() and m.start() < b for a, b in taken):
            return
        if NOT_WEIGHT.match(text[m.end() :]):
            return
        taken.append((m.start(), m.end()))
        marks.append((m.start(), m.end(), value, kind))

    for m in re.finditer(rf"{NUMBER}\s*(?:%|percent\b|pct\b)", text, re.I):
        add(m, float(m[1]) / 100, "pct")
    for m in re.finditer(r"\$\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m)?\b", text, re.I):
        scale = {"k": 1e3, "m": 1e6}.get((m[2] or "").lower(), 1)
        add(m, float(m[1].replace(",", "")) * scale, "dollar")
    for m in re.finditer(r"\b(1)\s*/\s*([2-9])\b", text):
        add(m, 1 / float(m[2]), "frac")
    for words, value in FRACTION_WORDS.items():
        for m in re.finditer(rf"\b{words}\b", text, re.I):
            add(m, value, "frac")
    for m in re.finditer(r"=\s*" + NUMBER, text):
        value = float(m[1])
        add(m, value if value <= 1 else value / 100, "frac")
    for m in re.finditer(r"(?<![\d.$/])\b(0?\.\d+|\d{1,3})\b(?![\d./%-])", text):
        value = float(m[1])
        add(m, value, "decimal" if value <= 1 and "." in m[1] else "bare")
    return sorted(marks)


def _ratio(text: str, mentions: list[Mention]) -> dict[str, float] | None:
    """ "60/40 apple and coke", "50-50 ko and pep": parts in the order the holdings are named."""
    m = RATIO.search(text)
    symbols = list(dict.fromkeys(x.symbol for x in mentions))
    if m is None:
        return None
    parts = [float(p) for p in re.split(r"\s*[/-]\s*", m[1])]
    if len(parts) != len(symbols) or abs(sum(parts) - 100) > 1e-9:
        return None  # "1/3" is a fraction, "10-09" part of a date
    return {s: p / sum(parts) for s, p in zip(symbols, parts, strict=True)}


def written_weights(text: str, mentions: list[Mention]) -> dict[str, float] | None:
    """The weights the question writes for the holdings it names; None when it writes
    none ("my portfolio of AAPL and KO": the account's weights are meant)."""
    if not mentions:
        return None
    if _ratio(text, mentions) is not None or EACH.search(text):
        return read_weights(text, mentions)
    marks = _weight_marks(text)
    for mention in mentions:
        for start, end, *_ in marks:
            between = (
                text[end : mention.start] if end <= mention.start else text[mention.end : start]
            )
            if FILLER.match(between):
                return read_weights(text, mentions)
    return None


def read_weights(text: str, mentions: list[Mention]) -> dict[str, float]:
    """Each named symbol's weight: a ratio ("60/40 A and B"), else the number written
    right beside it (before or after: "60% in A", "A 0.6", "$6,000 of A"), dollars and
    bare numbers scaled to fractions; the rest shared equally among the others; equal
    weights when none is written ("each", "an equal mix"). Weights that still do not sum
    to 1 are passed as written: the tool says so."""
    symbols = list(dict.fromkeys(m.symbol for m in mentions))
    if not symbols:
        return {}
    if (ratio := _ratio(text, mentions)) is not None:
        return {s: round(w, 6) for s, w in ratio.items()}
    marks = _weight_marks(text)
    weights: dict[str, tuple[float, str]] = {}
    used: set[int] = set()
    for mention in mentions:
        if mention.symbol in weights:
            continue
        best, gap = None, 1_000
        for i, (start, end, *_) in enumerate(marks):
            if i in used:
                continue
            between = (
                text[end : mention.start] if end <= mention.start else text[mention.end : start]
            )
            if FILLER.match(between) and len(between) < gap:
                best, gap = i, len(between)
        if best is not None:
            used.add(best)
            weights[mention.symbol] = (marks[best][2], marks[best][3])
    if not weights or (EACH.search(text) and len({v for v, _ in weights.values()}) == 1):
        return {s: round(1 / len(symbols), 6) for s in symbols}
    kinds = {k for _, k in weights.values()}
    values = {s: v for s, (v, _) in weights.items()}
    if kinds <= {"dollar", "bare"} and (
        "dollar" in kinds or abs(sum(values.values()) - 100) < 1e-6
    ):
        total = sum(values.values()) if "dollar" in kinds else 100.0
        values = {s: v / total for s, v in values.items()}
    elif "bare" in kinds:
        values = {s: v / 100 if k == "bare" else v for s, (v, k) in weights.items()}
    missing = [s for s in symbols if s not in values]
    if missing:
        rest = max(0.0, 1 - sum(values.values()))
        values.update(dict.fromkeys(missing, rest / len(missing)))
    return {s: round(values[s], 6) for s in symbols}
