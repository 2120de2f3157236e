"""The offline model: a deterministic planner hosted by pydantic-ai's ``FunctionModel``.

It needs no API key. On a new question it reads the user's words (never tool output:
text inside documents is data, so injected instructions cannot steer it), finds
tickers, dates and parameters, and calls the tools the question needs. Once the tool
results are back it writes the answer from them alone: every number it prints is one
the tools returned (fractions shown as percents), every document claim carries its
citation. Follow-ups ("and for MSFT?") re-plan the previous question with the new
tickers or dates.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from assistant.citations import number_citations
from assistant.models.order_words import read_orders
from assistant.results import (
    AccountSummary,
    BacktestSummary,
    IndicatorSummary,
    OrderOutcome,
    PortfolioSummary,
    PriceSummary,
    SearchSummary,
    SweepSummary,
)
from assistant.toolsets import problem_text, read_result
from tools.orders import format_quantity

MODEL_NAME = "offline"

ALIASES = {
    "apple": "AAPL",
    "microsoft": "MSFT",
    "advanced micro devices": "AMD",
    "bank of america": "BAC",
    "best buy": "BBY",
    "chevron": "CVX",
    "general electric": "GE",
    "home depot": "HD",
    "johnson & johnson": "JNJ",
    "johnson and johnson": "JNJ",
    "j&j": "JNJ",
    "jpmorgan": "JPM",
    "jp morgan": "JPM",
    "coca-cola": "KO",
    "coca cola": "KO",
    "coke": "KO",
    "eli lilly": "LLY",
    "lilly": "LLY",
    "merck": "MRK",
    "pepsico": "PEP",
    "pepsi": "PEP",
    "pfizer": "PFE",
    "procter & gamble": "PG",
    "procter and gamble": "PG",
    "p&g": "PG",
    "range resources": "RRC",
    "unitedhealth": "UNH",
    "walmart": "WMT",
    "exxon": "XOM",
    "exxonmobil": "XOM",
    "s&p 500": "SPX",
    "s&p500": "SPX",
    "sp500": "SPX",
    "the market": "SPX",
}
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})

INTENTS: dict[str, re.Pattern] = {
    "order": re.compile(
        r"\b(buy|sell|purchase)\s+(\$?\s*\d|(all|some|half|my|a\s+few|the\s+rest)\b)", re.I
    ),
    "portfolio": re.compile(
        r"\b(my (paper )?(portfolio|positions|holdings|account)|cash balance|what do i (own|hold))\b",
        re.I,
    ),
    "backtest": re.compile(
        r"\b(back-?test\w*|sweep|buy[- ]and[- ]hold|"
        r"would (it|that|this|a|an|the)? ?.{0,30}(have )?(worked|performed|done))",
        re.I,
    ),
    "optimize": re.compile(
        r"\b(optimi[sz]\w*|allocat\w*|weight(s|ing)?|max(imum)?[- ]sharpe|min(imum)?[- ]variance|"
        r"risk[- ]parity|efficient frontier|diversif\w*)\b",
        re.I,
    ),
    "indicators": re.compile(
        r"\b(rsi|macd|bollinger|moving averages?|sma|ema|indicators?|technicals?|"
        r"overbought|oversold|momentum|volatility|volatile)\b",
        re.I,
    ),
    "documents": re.compile(
        r"\b(10-?k|10-?q|8-?k|filings?|annual report|news|risk factors?|said|say|"
        r"says|mention\w*|according|why did|what happened|headlines?|explain|reported|reports)\b",
        re.I,
    ),
    "prices": re.compile(
        r"\b(price|prices|returns?|perform\w*|trading|closed?|how (much|did)|"
        r"gain\w*|los[st]|fell|fall|rose|rise|drop\w*|move[sd]?|worth)\b",
        re.I,
    ),
}
APPROVE_ATTEMPT = re.compile(
    r"\b(approve|authori[sz]e|execute|confirm)\b.{0,40}\b(order|trade|appr_)", re.I
)
PROMPT_PROBE = re.compile(
    r"\b(system prompt|your (prompt|instructions|rules)|reveal|ignore (all |your |previous )?(instructions|rules))\b",
    re.I,
)
DISCLAIMER = "This is information, not investment advice."


@dataclass
class Dates:
    start: date | None = None
    end: date | None = None
    as_of: date | None = None  # for documents: nothing published after this


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


class DateError(ValueError):
    """A date in the question that is not a calendar date (2021-13-45, year 0)."""


def parse_dates(text: str) -> Dates:
    """The period a question names; DateError for a date that cannot exist."""
    try:
        return _parse_dates(text)
    except ValueError:
        bad = re.search(r"\b\d{4}(?:-\d{1,2}-\d{1,2})?\b", text)
        shown = f" {bad[0]!r}" if bad else ""
        raise DateError(
            f"I could not read the date{shown}: it is not a calendar date. Please write dates "
            "as YYYY-MM-DD, e.g. 2021-06-30."
        ) from None


def _parse_dates(text: str) -> Dates:
    t = text.lower()
    iso = r"(\d{4}-\d{2}-\d{2})"
    if m := re.search(rf"\b(?:between|from)\s+{iso}\s+(?:and|to|until)\s+{iso}", t):
        return Dates(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
    if m := re.search(r"\bfrom\s+(\d{4})\s+(?:to|until|through)\s+(\d{4})\b", t):
        return Dates(date(int(m[1]), 1, 1), date(int(m[2]), 12, 31))
    if m := re.search(rf"\b(?:as of|as at|on|at|by)\s+{iso}", t):
        day = date.fromisoformat(m[1])
        return Dates(end=day, as_of=day)
    if m := re.search(r"\b(?:end of|year-end|at the end of)\s+(\d{4})\b", t):
        day = date(int(m[1]), 12, 31)
        return Dates(end=day, as_of=day)
    month_names = "|".join(sorted(MONTHS, key=len, reverse=True))
    if m := re.search(rf"\b(?:end of\s+)?({month_names})\.?\s+(\d{{4}})\b", t):
        year, month = int(m[2]), MONTHS[m[1]]
        return Dates(date(year, month, 1), _last_day(year, month), _last_day(year, month))
    if m := re.search(rf"\bsince\s+{iso}", t):
        return Dates(start=date.fromisoformat(m[1]))
    if m := re.search(r"\b(?:since|from|starting)\s+(\d{4})\b", t):
        return Dates(start=date(int(m[1]), 1, 1))
    if m := re.search(r"\b(?:in|during|for|over)\s+(\d{4})\b", t):
        year = int(m[1])
        return Dates(date(year, 1, 1), date(year, 12, 31), date(year, 12, 31))
    if m := re.search(iso, t):
        day = date.fromisoformat(m[1])
        return Dates(end=day, as_of=day)
    return Dates()


def parse_tickers(text: str, symbols: set[str]) -> list[str]:
    found: list[tuple[int, str]] = []
    for m in re.finditer(r"\b[A-Z]{1,5}\b", text):
        if m[0] in symbols:
            found.append((m.start(), m[0]))
    lowered = text.lower()
    for alias, symbol in ALIASES.items():
        for m in re.finditer(rf"(?<![\w&]){re.escape(alias)}(?![\w&])", lowered):
            if symbol in symbols:
                found.append((m.start(), symbol))
    return list(dict.fromkeys(s for _, s in sorted(found)))


def detect_intents(text: str) -> list[tuple[str, int]]:
    """Intents in order of first mention; words that describe a strategy after
    'backtest' (e.g. 'SMA cross') do not start an indicator question."""
    hits = {name: m.start() for name, p in INTENTS.items() if (m := p.search(text))}
    if "backtest" in hits:
        for name in ("indicators", "optimize"):
            first_before = INTENTS[name].search(text[: hits["backtest"]])
            if first_before:
                hits[name] = first_before.start()
            else:
                hits.pop(name, None)
    if "order" in hits:
        hits = {k: v for k, v in hits.items() if k in ("order", "documents")}
    if "prices" in hits and set(hits) - {"prices", "documents"}:
        hits.pop("prices")
    return sorted(hits.items(), key=lambda kv: kv[1])


def clauses(text: str, intents: list[tuple[str, int]]) -> list[tuple[str, str]]:
    out = []
    for i, (name, pos) in enumerate(intents):
        start = 0 if i == 0 else pos
        end = intents[i + 1][1] if i + 1 < len(intents) else len(text)
        out.append((name, text[start:end]))
    return out


@dataclass
class Planned:
    calls: list[tuple[str, dict]] = field(default_factory=list)
    message: str | None = None  # answered without tools (help, refusals)
    tickers: list[str] = field(default_factory=list)


def _method(text: str) -> str:
    t = text.lower()
    if re.search(r"min(imum)?[- ]variance|lowest (risk|volatility)|least risky", t):
        return "min-variance"
    if re.search(r"risk[- ]parity|equal risk", t):
        return "risk-parity"
    if re.search(r"mean[- ]variance", t):
        return "mean-variance"
    return "max-sharpe"


def _strategy(text: str) -> tuple[str, dict[str, float]]:
    t = text.lower()
    params: dict[str, float] = {}
    if re.search(r"buy[- ]and[- ]hold|buy-hold", t):
        return "buy-hold", params
    if "bollinger" in t:
        strategy = "bollinger"
    elif "rsi" in t:
        strategy = "rsi-reversion"
    elif "macd" in t:
        strategy = "macd"
    else:
        strategy = "sma-cross"
    if strategy in ("sma-cross", "macd") and (
        m := re.search(r"\b(\d{1,3})\s*(?:/|and|-|to)\s*(\d{1,3})\b(?!-\d)", t)
    ):
        fast, slow = sorted((int(m[1]), int(m[2])))
        if fast < slow:
            params = {"fast": float(fast), "slow": float(slow)}
    return strategy, params


def plan(
    question: str, previous: str | None, symbols: set[str], dates: Dates | None = None
) -> Planned:
    """Tool calls for ``question``; ``dates`` (from a follow-up) replace any it names."""
    try:
        return _plan(question, previous, symbols, dates)
    except DateError as exc:
        return Planned(message=str(exc))


def _plan(
    question: str, previous: str | None, symbols: set[str], dates: Dates | None = None
) -> Planned:
    if APPROVE_ATTEMPT.search(question):
        return Planned(
            message=(
                "I can't approve or execute orders: a person with the approver role must decide "
                "on each pending approval (for example with `assistant approvals approve ID`). "
                "I can only propose orders."
            )
        )
    if PROMPT_PROBE.search(question) and not INTENTS["order"].search(question):
        return Planned(message="I can't share or change my instructions. " + HELP)
    intents = detect_intents(question)
    names = {name for name, _ in intents}
    if {"documents", "prices"} <= names and parse_dates(question).start is None:
        # "reported losses" is a document question; prices join only for a named period
        intents = [(n, p) for n, p in intents if n != "prices"]
    all_tickers = parse_tickers(question, symbols)
    if not intents and previous and (all_tickers or parse_dates(question) != Dates()):
        return _follow_up(question, previous, symbols)
    if not intents:
        return Planned(message=HELP)
    if "order" in names:  # orders only from the user's own, unambiguous words
        orders = read_orders(question, lambda text: parse_tickers(text, symbols))
        if isinstance(orders, str):
            return Planned(message=orders)
        intents = [(n, p) for n, p in intents if n != "order"]
    else:
        orders = []
    out = Planned(tickers=all_tickers, calls=[("place_order", o) for o in orders])
    whole_dates = parse_dates(question)
    prev_tickers = parse_tickers(previous, symbols) if previous else []
    for name, text in clauses(question, intents):
        tickers = parse_tickers(text, symbols) or all_tickers or prev_tickers
        d = dates or parse_dates(text)
        if d == Dates():
            d = whole_dates
        out.calls.extend(_calls_for(name, text, question, tickers, d))
    if not out.calls:
        out.message = "Which ticker do you mean? " + HELP
    return out


def _calls_for(
    name: str, text: str, question: str, tickers: list[str], d: Dates
) -> list[tuple[str, dict]]:
    iso = lambda x: x.isoformat() if x else None  # noqa: E731
    if name == "portfolio":
        return [("get_portfolio", {})]
    if name == "documents":
        doc_type = (
            "filing"
            if re.search(r"10-?k|10-?q|filing|annual report|risk factor", text, re.I)
            else ("news" if re.search(r"\bnews|headline", text, re.I) else None)
        )
        args = {
            "query": question,
            "tickers": tickers or None,
            "doc_type": doc_type,
            "as_of": iso(d.as_of),
            "k": 5,
        }
        return [("search_documents", args)]
    if not tickers:
        return []
    if name == "indicators":
        return [("get_indicators", {"symbol": t, "end": iso(d.end)}) for t in tickers[:5]]
    if name == "prices":
        return [
            ("get_prices", {"symbol": t, "start": iso(d.start), "end": iso(d.end)})
            for t in tickers[:5]
        ]
    if name == "optimize":
        args = {
            "symbols": tickers,
            "method": _method(text),
            "start": iso(d.start),
            "end": iso(d.end),
        }
        if m := re.search(
            r"(?:max(?:imum)?(?: weight)?(?: of)?|no more than|at most|cap(?:ped)? at)\s+(\d{1,3})\s*%",
            text,
            re.I,
        ):
            args["max_weight"] = int(m[1]) / 100
        return [("optimize_portfolio", args)]
    if name == "backtest":
        strategy, params = _strategy(text)
        calls = []
        for t in tickers[:3]:
            args = {
                "symbol": t,
                "strategy": strategy,
                "params": params or None,
                "start": iso(d.start),
                "end": iso(d.end),
            }
            if m := re.search(r"(\d+(?:\.\d+)?)\s*(?:bps|basis points?)", text, re.I):
                args["cost_bps"] = float(m[1])
            if re.search(
                r"\b(sweep|best (parameters|windows|settings)|optimal (parameters|windows))\b",
                text,
                re.I,
            ):
                args["params"] = None
                args["sweep_grid"] = {
                    "fast": [5.0, 10.0, 20.0, 50.0],
                    "slow": [100.0, 150.0, 200.0],
                }
            calls.append(("run_backtest", args))
        return calls
    return []


def _follow_up(question: str, previous: str, symbols: set[str]) -> Planned:
    if INTENTS["order"].search(previous):
        # An order is only ever proposed from the user's own explicit words in this message.
        return Planned(message='To propose an order, say it in full, e.g. "buy 10 MSFT".')
    new_tickers = parse_tickers(question, symbols)
    old_tickers = parse_tickers(previous, symbols)
    text = previous
    if new_tickers:
        # replace every mention of the old tickers (symbols or names) by the new ones
        for alias, symbol in ALIASES.items():
            if symbol in old_tickers:
                text = re.sub(rf"(?i)(?<![\w&]){re.escape(alias)}(?![\w&])", symbol, text)
        for i, old in enumerate(old_tickers):
            text = re.sub(rf"\b{old}\b", new_tickers[min(i, len(new_tickers) - 1)], text)
        if not old_tickers:
            text = f"{text} {' '.join(new_tickers)}"
    new_dates = parse_dates(question)
    return plan(text, None, symbols, new_dates if new_dates != Dates() else None)


HELP = (
    "I can look up prices and returns, technical indicators (RSI, MACD, moving averages), "
    "compare tickers, optimise a portfolio, backtest a strategy, search news and filings "
    "with citations, show your paper portfolio, and propose orders (a person must approve "
    'them). Try: "What is AAPL\'s RSI?" or "Backtest an SMA cross on MSFT".'
)


# -- writing the answer -----------------------------------------------------------------


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:,.2f}%"


def num(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:g}"


def _rsi_reading(rsi: float, bounds: dict) -> str:
    low, high = bounds["oversold"], bounds["overbought"]
    if rsi > high:
        return f"above {high}, conventionally read as overbought"
    if rsi < low:
        return f"below {low}, conventionally read as oversold"
    return f"between {low} and {high}, neither overbought nor oversold"


def _indicators(d: IndicatorSummary) -> str:
    v, w = d.values, d.windows
    parts = [f"As of {d.as_of}, {d.symbol} closed at {num(d.price)}."]
    if v.get("rsi_14") is not None:
        reading = _rsi_reading(v["rsi_14"], d.rsi_bounds)
        parts.append(f"Its {w['rsi']}-day RSI was {num(v['rsi_14'])}, {reading}.")
    if v.get("sma_50") is not None and v.get("sma_200") is not None:
        trend = "above" if v["sma_50"] > v["sma_200"] else "below"
        fast, slow = w["sma_fast"], w["sma_slow"]
        parts.append(
            f"The {fast}-day SMA ({num(v['sma_50'])}) was {trend} the {slow}-day SMA ({num(v['sma_200'])})."
        )
    if v.get("macd") is not None and v.get("macd_signal") is not None:
        side = "above" if v["macd"] > v["macd_signal"] else "below"
        parts.append(
            f"MACD was {num(v['macd'])}, {side} its signal line ({num(v['macd_signal'])})."
        )
    if v.get("volatility_20d") is not None:
        parts.append(f"{w['volatility']}-day annualised volatility was {pct(v['volatility_20d'])}.")
    if v.get("return_1y") is not None:
        parts.append(f"One-year return: {pct(v['return_1y'])}.")
    return " ".join(parts)


def _compare_rsi(results: list[IndicatorSummary]) -> str | None:
    with_rsi = [d for d in results if d.values.get("rsi_14") is not None]
    if len(with_rsi) < 2:
        return None
    ranked = sorted(with_rsi, key=lambda d: -d.values["rsi_14"])
    top, rest = ranked[0], ranked[1:]
    others = ", ".join(f"{d.symbol} ({num(d.values['rsi_14'])})" for d in rest)
    return f"Comparing RSI: {top.symbol} was highest at {num(top.values['rsi_14'])}, ahead of {others}."


def _prices(d: PriceSummary) -> str:
    text = (
        f"{d.symbol} closed at {num(d.last_close)} on {d.end}, from {num(d.first_close)} on "
        f"{d.start}: a return of {pct(d.period_return)} over the period "
        f"(high {num(d.high)}, low {num(d.low)})"
    )
    if d.annual_volatility is not None:
        text += f", with annualised volatility of {pct(d.annual_volatility)}"
    return text + "."


def _portfolio(d: PortfolioSummary) -> str:
    weights = ", ".join(
        f"{s} {pct(w)}" for s, w in sorted(d.weights.items(), key=lambda kv: -kv[1]) if w > 0
    )
    return (
        f"{d.method} weights estimated on {d.start} to {d.end}: {weights}. Expected annual "
        f"return {pct(d.expected_return)}, volatility {pct(d.volatility)}, Sharpe {num(d.sharpe)} "
        f"(estimates from past data)."
    )


def _sweep(d: SweepSummary) -> str:
    best = d.top[0]
    params = ", ".join(f"{k} {num(v)}" for k, v in best.params.items())
    return (
        f"Sweep of {d.combinations} {d.strategy} settings on {d.symbol} ({d.start} to "
        f"{d.end}): the best by {d.rank_by} was {params}, with a total return of "
        f"{pct(best.total_return)}, Sharpe {num(best.sharpe)} and max drawdown "
        f"{pct(best.max_drawdown)}."
    )


def _backtest(d: BacktestSummary) -> str:
    m = d.metrics
    params = ", ".join(f"{k} {num(v)}" for k, v in d.params.items())
    text = (
        f"Backtest of {d.strategy}{f' ({params})' if params else ''} on {d.symbol} from "
        f"{d.start} to {d.end}: total return {pct(m.total_return)}, CAGR {pct(m.cagr)}, "
        f"Sharpe {num(m.sharpe)}, max drawdown {pct(m.max_drawdown)}, {d.trades} trades, "
        f"invested {pct(m.exposure)} of the time."
    )
    if d.chart is not None:
        text += f" Chart: {d.chart.url}."
    return text + " Past results do not guarantee future returns."


def _search(d: SearchSummary, numbers: dict[tuple[int, int], int], call: int) -> str:
    if not d.hits:
        when = f" published by {d.as_of}" if d.as_of else ""
        return f"I found no documents{when} that match."
    lines = []
    for h in d.hits[:3]:
        n = numbers[(call, h.n)]
        where = f", {h.section}" if h.section else ""
        lines.append(f"- {h.title} ({h.published_at}{where}): {h.snippet} [{n}]")
    intro = "From the documents" + (f" published by {d.as_of}" if d.as_of else "") + ":"
    return intro + "\n" + "\n".join(lines)


def _account(d: AccountSummary) -> str:
    if not d.positions:
        return f"Your {d.broker} account holds no positions; cash is {num(d.cash)}."
    held = ", ".join(f"{format_quantity(p.quantity)} {p.symbol}" for p in d.positions)
    return f"Your {d.broker} account holds {held}; cash {num(d.cash)}, equity {num(d.equity)}."


WRITERS: dict[type, Callable] = {
    IndicatorSummary: _indicators,
    PriceSummary: _prices,
    PortfolioSummary: _portfolio,
    BacktestSummary: _backtest,
    SweepSummary: _sweep,
    AccountSummary: _account,
    OrderOutcome: OrderOutcome.describe,
}


def write_answer(returns: list[ToolReturnPart]) -> str:
    """The answer from this turn's tool results alone: every number is one they hold."""
    numbers = number_citations(returns)
    sections: list[str] = []
    indicator_results: list[IndicatorSummary] = []
    as_ofs: list[date] = []
    for call, part in enumerate(returns):
        result = read_result(part)
        if result is None:  # the call failed or its arguments were refused: say why
            problem = problem_text(part.content)
            if part.tool_name == "place_order":
                sections.append(f"The order was not placed: {problem}.")
            else:
                sections.append(f"I could not complete {part.tool_name}: {problem}")
            continue
        if getattr(result, "as_of", None):
            as_ofs.append(result.as_of)
        if isinstance(result, IndicatorSummary):
            indicator_results.append(result)
        if isinstance(result, SearchSummary):
            sections.append(_search(result, numbers, call))
        elif type(result) in WRITERS:
            sections.append(WRITERS[type(result)](result))
    if comparison := _compare_rsi(indicator_results):
        sections.append(comparison)
    if as_ofs:
        sections.append(f"Data as of {max(as_ofs)}. {DISCLAIMER}")
    return "\n\n".join(sections) if sections else HELP


# -- the model ----------------------------------------------------------------------------


def _turn(messages: list[ModelMessage]) -> tuple[str, str | None, list[ToolReturnPart]]:
    """The current question, the previous one, and this turn's tool results."""
    questions: list[tuple[int, str]] = []
    for i, message in enumerate(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    questions.append((i, part.content))
    if not questions:
        return "", None, []
    index, question = questions[-1]
    previous = questions[-2][1] if len(questions) > 1 else None
    returns = [
        p
        for message in messages[index + 1 :]
        if isinstance(message, ModelRequest)
        for p in message.parts
        if isinstance(p, ToolReturnPart)
    ]
    return question, previous, returns


class OfflinePlanner:
    def __init__(self, symbols: Callable[[], set[str]]) -> None:
        self.symbols = symbols

    def respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        question, previous, returns = _turn(messages)
        if returns:
            return ModelResponse(parts=[TextPart(write_answer(returns))], model_name=MODEL_NAME)
        planned = plan(question, previous, self.symbols())
        if planned.message or not planned.calls:
            return ModelResponse(parts=[TextPart(planned.message or HELP)], model_name=MODEL_NAME)
        calls = [
            ToolCallPart(name, {k: v for k, v in args.items() if v is not None})
            for name, args in planned.calls
        ]
        return ModelResponse(parts=calls, model_name=MODEL_NAME)

    async def stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
        response = self.respond(messages, info)
        if isinstance(response.parts[0], TextPart):
            # sentence-sized pieces: progressive, without an event per word
            for m in re.finditer(r".*?(?:[.:!?\n]\s+|$)", response.parts[0].content, re.S):
                if m.group():
                    yield m.group()
            return
        yield {
            i: DeltaToolCall(
                name=p.tool_name, json_args=json.dumps(p.args), tool_call_id=p.tool_call_id
            )
            for i, p in enumerate(response.parts)
        }


def offline_model(symbols: Callable[[], set[str]]) -> FunctionModel:
    planner = OfflinePlanner(symbols)
    return FunctionModel(planner.respond, stream_function=planner.stream, model_name=MODEL_NAME)
