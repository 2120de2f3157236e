"""The settings a question gives: strategies and their windows, costs, sweeps, optimiser
method and caps, money to invest, document kinds, rebalancing frequency.

Named strategies map to their usual settings: a golden (or death) cross is the 50/200-day
moving-average cross, RSI trading buys under 30 and sells over 70 unless told otherwise.
Risk words choose the optimiser: low-risk/safest/conservative -> minimum variance,
aggressive/growth -> maximum Sharpe, "equal risk" -> risk parity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NUM = r"(\d+(?:\.\d+)?)"
SETTINGS = (
    r"(?:settings?|parameters?|params|windows?|thresholds?|lengths?|periods?|levels?|values|"
    r"combination|combo|lookbacks?|averages)"
)
PAIRS = {
    "sma-cross": ("fast", "slow"),
    "macd": ("fast", "slow"),
    "rsi-reversion": ("lower", "upper"),
}


@dataclass
class Params:
    strategy: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    cost_bps: float | None = None
    sweep: bool = False
    method: str | None = None
    max_weight: float | None = None
    max_volatility: float | None = None
    capital: float | None = None
    doc_type: str | None = None
    frequency: str | None = None
    grid: dict[str, list[float]] = field(default_factory=dict)
    """Values to sweep that the user listed ("fast 10,20,50 and slow 100,200")."""
    pair: tuple[float, float] | None = None
    """Two numbers given without saying which settings they are ("what about 25/75?"):
    the strategy of the question they follow decides (fast/slow, lower/upper)."""
    versus: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    """Strategies set against each other ("buy and hold vs a golden cross"), in order, each
    with the settings its own words give."""

    def merged(self, newer: Params) -> Params:
        """A follow-up's settings over the earlier question's ("now with fast 10")."""
        values = {**self.values, **newer.values} if not newer.strategy else dict(newer.values)
        if newer.pair and not newer.strategy and (self.strategy or "sma-cross") in PAIRS:
            for key in ("fast", "slow", "lower", "upper"):
                values.pop(key, None)
            values.update(zip(PAIRS[self.strategy or "sma-cross"], newer.pair, strict=True))
        return Params(
            strategy=newer.strategy or self.strategy,
            values=values,
            cost_bps=newer.cost_bps if newer.cost_bps is not None else self.cost_bps,
            sweep=newer.sweep or (self.sweep and not newer.values),
            method=newer.method or self.method,
            max_weight=newer.max_weight if newer.max_weight is not None else self.max_weight,
            max_volatility=newer.max_volatility
            if newer.max_volatility is not None
            else self.max_volatility,
            capital=newer.capital if newer.capital is not None else self.capital,
            doc_type=newer.doc_type or self.doc_type,
            frequency=newer.frequency or self.frequency,
            grid=newer.grid or ({} if newer.values else self.grid),
            versus=newer.versus or ([] if newer.strategy else self.versus),
        )


VERSUS = re.compile(r"\b(?:vs\.?|versus|against|or|than|beats?|compared? (?:to|with)|with)\b", re.I)
"""What sets one strategy against the next, when it stands between their names."""
MARKS = {  # where a text names each strategy (as _strategy reads them)
    "buy-hold": r"\bbuy[\s&-]*(?:and|n)?[\s&-]*hold(?:ing)?\b|\bbought and held\b|\bjust held\b",
    "sma-cross": r"\b(?:golden|death)[- ]cross\b|\b(?:sma|ema)\b|moving[- ]averages?|"
    r"(?<!macd )\bcrossover\b|\bma cross\b|trend[- ]following",
    "bollinger": r"\bbollinger\b",
    "rsi-reversion": r"\brsi\b|mean[- ]rever\w*",
    "macd": r"\bmacd\b",
}


def _versus(t: str) -> list[tuple[str, dict[str, float]]]:
    """Every strategy the text names, in order, when it sets them against each other; each
    one's settings are read from its own words (up to the next strategy named)."""
    at = {name: m.start() for name, mark in MARKS.items() if (m := re.search(mark, t))}
    if len(at) < 2:
        return []
    order = sorted(at, key=at.get)
    between = t[at[order[0]] : at[order[1]]]
    said = {m[0] for m in VERSUS.finditer(between)}
    if not (said - {"with"} or (said and "compar" in t)):
        return []  # "the RSI of AAPL ... and backtest an SMA cross": two asks, not a contest
    out = []
    for i, name in enumerate(order):
        own = t[at[name] : at[order[i + 1]] if i + 1 < len(order) else len(t)]
        strategy, values = _strategy(own)
        out.append((name, values if strategy == name else {}))
    return out


VOLATILITY_LIMIT = re.compile(
    rf"\b(?:volatility|vol|risk|standard deviation)\b(?: (?:target|limit|cap))?[^.?!%\d]{{0,25}}?"
    rf"(?:under|below|beneath|less than|at most|no (?:more|higher) than|not above|max(?:imum)?"
    rf"(?: of)?|of|<=?|capped at|up to|around|about|=|:)\s*{NUM}\s*(%|percent)?"
)
"""A limit on the portfolio's annual volatility ("keep volatility under 12%", "target
volatility of 10%")."""


def read_params(text: str) -> Params:
    t = text.lower()
    p = Params()
    p.strategy, p.values = _strategy(t)
    p.versus = _versus(t)
    if m := re.search(rf"{NUM}\s*(?:bps|bp|basis points?)\b", t):
        p.cost_bps = float(m[1])
    elif m := re.search(rf"{NUM}\s*%\s*(?:costs?|fees?|commissions?|per trade)", t):
        p.cost_bps = float(m[1]) * 100
    elif re.search(r"\b(?:no|zero|without)\s+(?:costs?|fees?)\b", t):
        p.cost_bps = 0.0
    p.sweep = bool(
        re.search(
            r"\b(sweep|(?:best|optimal|ideal|optimum)\b.{0,40}\b" + SETTINGS + r"|"
            r"optimi[sz]e (?:the )?.{0,40}" + SETTINGS + r"|"
            r"which .{0,40}(?:works?|worked|performs?|performed) best|tun(?:e|ing))\b",
            t,
        )
    )
    p.method = _method(t)
    for name in ("fast", "slow", "signal", "lower", "upper", "window", "k"):
        if m := re.search(
            rf"\b{name}\s*(?:of|=|:|in)?\s*(\d+(?:\.\d+)?(?:\s*,\s*\d+(?:\.\d+)?)+)", t
        ):
            p.grid[name] = [float(x) for x in re.split(r"\s*,\s*", m[1])]
    if p.grid:
        p.sweep = True
    if p.strategy is None and (w := _windows(t)):
        p.pair = (w["fast"], w["slow"]) if "fast" in w and "slow" in w else None
    elif p.strategy is None and (m := re.search(r"\b(\d{1,3})\s+and\s+(\d{1,3})\b", t)):
        low, high = sorted((float(m[1]), float(m[2])))
        p.pair = (low, high) if low < high else None
    if m := VOLATILITY_LIMIT.search(t):  # "volatility under 12%": not a weight cap
        value = float(m[1])
        share = value / 100 if m[2] or value > 1 else value
        if 0 < share <= 1:
            p.max_volatility = share
        t = t[: m.start()] + " " * (m.end() - m.start()) + t[m.end() :]
    if m := re.search(
        rf"(?:no more than|not more than|at most|max(?:imum)?(?: weight)?(?: of)?|"
        rf"cap(?:ped)?(?:\s+(?:it|them|each|every|all|any|the|positions?|weights?|holdings?|names?|"
        rf"stocks?|one))*(?:\s+(?:at|to))?|up to|limit(?: each)?(?: \w+)? to)\s+{NUM}\s*"
        rf"(%|percent)?",
        t,
    ) or re.search(
        rf"(?:nothing|none|no (?:stock|name|position|holding))\s+(?:above|over|more than|bigger "
        rf"than|larger than)\s+{NUM}\s*(%|percent)|(?:under|below|less than)\s+{NUM}\s*(%|percent)"
        rf"\s+(?:each|per|in any|in a single|for any)",
        t,
    ):
        number, unit = next((g, m[i + 2]) for i, g in enumerate(m.groups()) if g and i % 2 == 0)
        value = float(number)
        share = value / 100 if unit or value > 1 else value
        if 0 < share <= 1:
            p.max_weight = share
    if m := re.search(
        r"(?:\$\s*(\d[\d,]*(?:\.\d+)?)\s*(k|m|million|thousand)?|(\d[\d,]*(?:\.\d+)?)\s*"
        r"(k|m|million|thousand)?\s*(?:dollars|usd|bucks))",
        t,
    ):
        amount = float((m[1] or m[3]).replace(",", ""))
        scale = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(m[2] or m[4] or "", 1)
        p.capital = amount * scale
    elif m := re.search(
        r"\b(?:invest|split|put|have|had|got|with|using|allocate)\b[^.?!]{0,20}?\b(\d+)\s*k\b", t
    ):
        p.capital = float(m[1]) * 1e3
    if re.search(
        r"\b(10-?k|10-?q|8-?k|filings?|annual report|quarterly report|risk factors?|sec)\b", t
    ):
        p.doc_type = "filing"
    elif re.search(r"\b(news|headlines?|articles?|press)\b", t):
        p.doc_type = "news"
    if re.search(r"\bquarterly\b|\b(?:every|each|per|a) (?:quarter|3 months|three months)\b", t):
        p.frequency = "quarterly"
    elif re.search(r"\bmonthly\b|\b(?:every|each|per|a) month\b", t):
        p.frequency = "monthly"
    return p


def _method(t: str) -> str | None:
    if re.search(
        r"min(?:imum)?[- ]var\w*|low(?:est)?[- ]risk|least risky|safest|safe|conservative|"
        r"risk[- ]averse|averse to risk|low risk tolerance|capital preservation|"
        r"min(?:imum|imal)?[- ]risk|least[- ]risk|lowest[- ]risk|minimi[sz]e (?:the )?risk|"
        r"low(?:est)?[- ]vol\w*|least volatile|minimi[sz]e (?:the )?(?:volatility|risk|variance)|"
        r"defensive|cautious",
        t,
    ):
        return "min-variance"
    if re.search(
        r"risk[- ]parity|equal(?:ly)?[- ]risk|risk[- ]balanced|(?:same|equal) (?:amount of )?risk",
        t,
    ):
        return "risk-parity"
    if re.search(r"mean[- ]variance", t):
        return "mean-variance"
    if re.search(
        r"max(?:imum)?[- ]sharpe|aggressive|growth|best risk[- ]adjusted|highest return|"
        r"(?:best|highest|top|optimal|biggest|maximi[sz]e (?:the |my |its )?)\s*sharpe",
        t,
    ):
        return "max-sharpe"
    return None


def _strategy(t: str) -> tuple[str | None, dict[str, float]]:
    if re.search(
        r"\bbuy[\s&-]*(?:and|n)?[\s&-]*hold\b|\bbought and held\b|\bjust held\b|"
        r"\bbuying\b.{1,30}\bholding\b",
        t,
    ):
        return "buy-hold", {}
    if re.search(r"\b(golden|death)[- ]cross\b", t):
        values = {"fast": 50.0, "slow": 200.0}
        values.update(_windows(t))
        return "sma-cross", values
    if "bollinger" in t:
        values = {}
        if (m := re.search(rf"\b(?:window|period|length)\s*(?:of\s*)?{NUM}", t)) or (
            m := re.search(r"\b(\d{1,3})[- ]day\b", t)
        ):
            values["window"] = float(m[1])
        if m := re.search(
            rf"\b(?:k|std|standard deviations?|sigma)\s*(?:of\s*|=\s*)?{NUM}", t
        ) or re.search(rf"{NUM}\s*(?:std|standard deviations?|sigma)", t):
            values["k"] = float(m[1])
        return "bollinger", values
    if re.search(r"\brsi\b|mean[- ]reversion|mean[- ]revert", t):
        values = {}
        if m := re.search(r"\b(\d{1,2})\s*/\s*(\d{1,2})\b", t):
            low, high = sorted((float(m[1]), float(m[2])))
            values = {"lower": low, "upper": high}
        else:
            if m := re.search(rf"(?:below|under|lower(?: bound)?(?: of)?|<|less than)\s*{NUM}", t):
                values["lower"] = float(m[1])
            if m := re.search(
                rf"(?:above|over|upper(?: bound)?(?: of)?|>|more than|exceeds?)\s*{NUM}", t
            ):
                values["upper"] = float(m[1])
        if m := re.search(rf"\b(?:window|period|length)\s*(?:of\s*)?{NUM}", t) or re.search(
            r"\b(\d{1,3})[- ]?(?:day|period|bar)\s+rsi\b", t
        ):
            values["window"] = float(m[1])
        return "rsi-reversion", values
    if "macd" in t:
        values = _windows(t)
        if m := re.search(rf"\bsignal\s*(?:of\s*|=\s*)?{NUM}", t):
            values["signal"] = float(m[1])
        return "macd", values
    if re.search(
        r"\b(sma|ema|moving[- ]averages?|crossover|cross|trend[- ]following|ma cross)\b", t
    ):
        return "sma-cross", _windows(t)
    if re.search(r"\b(?:fast|slow)\b", t):  # settings by name, for whichever strategy
        return None, _windows(t)
    return None, {}


def _windows(t: str) -> dict[str, float]:
    """Fast and slow windows: "fast 10 slow 30", "10/30", "20-day and 100-day", "50 and 200"."""
    fast = re.search(rf"\bfast(?:\s+(?:window|ma|sma|average))?\s*(?:of\s*|=\s*)?{NUM}", t)
    slow = re.search(rf"\bslow(?:\s+(?:window|ma|sma|average))?\s*(?:of\s*|=\s*)?{NUM}", t)
    if fast or slow:
        out = {}
        if fast:
            out["fast"] = float(fast[1])
        if slow:
            out["slow"] = float(slow[1])
        return out
    if m := re.search(
        r"\b(\d{1,3})(?:[- ]day)?\s*(?:/|and|-|to|vs|over)\s*(\d{1,3})(?:[- ]day)?\b(?!-\d)", t
    ):
        a, b = sorted((float(m[1]), float(m[2])))
        if a < b and b <= 400 and not re.fullmatch(r"\d{4}", m[0].replace(" ", "")):
            return {"fast": a, "slow": b}
    return {}
