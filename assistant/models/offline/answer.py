"""The offline model's answer, written from this turn's tool results alone.

Every number printed is one a tool returned (fractions shown as percents, money with
thousands separators, never an exponent); comparisons end in a verdict sentence with
both numbers, compared before rounding; the period covered is always said, with the
reading of a relative phrase ("the 12 months to 2022-12-28"); document claims carry
their citation; charts are links; opinion questions get both sides and no advice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from pydantic_ai.messages import ToolReturnPart

from assistant.alert_tools import AlertList
from assistant.briefing_facts import BriefingFacts
from assistant.briefings import BriefingSchedule
from assistant.citations import number_citations
from assistant.models.offline.briefing_answers import write_briefing
from assistant.models.offline.formats import money, num, pct
from assistant.models.offline.measures import (
    compare_risks,
    write_anomalies,
    write_comparison,
    write_risk,
    write_screen,
    write_sentiment,
)
from assistant.models.offline.plan import Ask
from assistant.models.offline.profile_answers import (
    profile_line,
    write_alerts,
    write_cleared,
    write_schedule,
    write_update,
    write_view,
    write_watchlists,
)
from assistant.models.offline.readings import asked_readings, write_crosses
from assistant.models.offline.valuation import (
    compare_fundamentals,
    write_asked,
    write_fundamentals,
)
from assistant.profile_tools import ProfileCleared, ProfileUpdate
from assistant.profiles import ProfileView
from assistant.results import (
    AccountSummary,
    AnomalySummary,
    BacktestSummary,
    CompareSummary,
    CrossSummary,
    IndicatorSummary,
    OrderOutcome,
    PortfolioSummary,
    PriceSummary,
    RebalanceSummary,
    RiskSummary,
    ScreenSummary,
    SearchSummary,
    SentimentSummary,
    SweepSummary,
    SymbolSearch,
    WalkForwardSummary,
)
from assistant.toolsets import problem_text, read_result
from assistant.watchlist_tools import Watchlists
from tools.fundamentals import Fundamentals
from tools.orders import format_quantity
from tools.providers.live import MAX_NAMED

DISCLAIMER = "This is information, not investment advice."


def _rsi_reading(rsi: float, bounds: dict) -> str:
    low, high = bounds["oversold"], bounds["overbought"]
    if rsi > high:
        return f"above {high}, conventionally read as overbought"
    if rsi < low:
        return f"below {low}, conventionally read as oversold"
    return f"between {low} and {high}, neither overbought nor oversold"


def _side(a: float, b: float) -> str:
    return "above" if a > b else "below" if a < b else "level with"


def _pair(a: float, b: float) -> tuple[str, str]:
    """Two levels shown to 2 places, or to 4 when 2 would make them look equal."""
    digits = 4 if round(a, 2) == round(b, 2) and a != b else 2
    return num(round(a, digits)), num(round(b, digits))


def _indicators(d: IndicatorSummary) -> str:
    v, w = d.values, d.windows
    parts = [f"As of {d.as_of}, {d.symbol} closed at {num(d.price)}."]
    if v.get("rsi_14") is not None:
        reading = _rsi_reading(v["rsi_14"], d.rsi_bounds)
        parts.append(f"Its {w['rsi']}-day RSI was {num(round(v['rsi_14'], 2))}, {reading}.")
    if v.get("sma_50") is not None and v.get("sma_200") is not None:
        fast, slow = w["sma_fast"], w["sma_slow"]
        a, b = _pair(v["sma_50"], v["sma_200"])
        parts.append(
            f"The {fast}-day SMA ({a}) was {_side(v['sma_50'], v['sma_200'])} the {slow}-day SMA ({b})."
        )
    if v.get("macd") is not None and v.get("macd_signal") is not None:
        a, b = _pair(v["macd"], v["macd_signal"])
        mood = "bullish" if v["macd"] > v["macd_signal"] else "bearish"
        parts.append(
            f"MACD was {a}, {_side(v['macd'], v['macd_signal'])} its signal line ({b}), "
            f"conventionally read as {mood} momentum."
        )
    if v.get("bb_upper") is not None and v.get("bb_lower") is not None:
        where = (
            "above the upper band"
            if d.price > v["bb_upper"]
            else "below the lower band"
            if d.price < v["bb_lower"]
            else "inside the bands"
        )
        parts.append(
            f"Bollinger bands: {num(round(v['bb_lower'], 2))} to {num(round(v['bb_upper'], 2))}; "
            f"the close was {where}."
        )
    if v.get("volatility_20d") is not None:
        parts.append(f"{w['volatility']}-day annualised volatility was {pct(v['volatility_20d'])}.")
    if v.get("return_1y") is not None:
        parts.append(f"One-year return: {pct(v['return_1y'])}.")
    return " ".join(parts)


OFFLINE_NOTE = re.compile(
    r"^The stored prices of (?P<names>[A-Z0-9.^=, -]+?(?: and [A-Z0-9.^=-]+)?) end "
    r"(?P<ends>.+?), before (?P<later>.+?), and no price provider is configured to "
    r"refresh them\.$"
)


def merged_notes(notes: list[str]) -> list[str]:
    """One sentence for the stale prices of every tool call ("The stored prices of AAPL,
    KO and 18 more..."), not one per call: twenty symbols compared made twenty."""
    stale = [(n, m) for n in notes if (m := OFFLINE_NOTE.match(n))]
    if len(stale) < 2 or len({m["later"] for _, m in stale}) > 1:
        return notes
    symbols = list(dict.fromkeys(x for _, m in stale for x in re.split(r", | and ", m["names"])))
    ends = sorted({e for _, m in stale for e in re.split(r", | and ", m["ends"])})
    names = _and(symbols) if len(symbols) <= MAX_NAMED else f"{len(symbols)} symbols"
    merged = (
        f"The stored prices of {names} end {_and(ends)}, before {stale[0][1]['later']}, and "
        "no price provider is configured to refresh them."
    )
    first = notes.index(stale[0][0])
    rest = [n for n in notes if not OFFLINE_NOTE.match(n)]
    return [*rest[:first], merged, *rest[first:]]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _on(day: date | None) -> str:
    return f" on {day}" if day else ""


def _prices(d: PriceSummary) -> str:
    base = "the close before" if d.base_date < d.start else "the first close"
    worth = (
        f"{money(d.invested)} in {d.symbol} at the close of {d.base_date} would have been worth "
        f"{money(d.worth)} at the close of {d.end} (adjusted closes). "
        if d.invested is not None and d.worth is not None
        else ""
    )
    text = worth + (
        f"{d.symbol} closed at {num(d.last_close)} on {d.end}, from {num(d.base_close)} on "
        f"{d.base_date} ({base}): a return of {pct(d.period_return)} over the period "
        f"(high {num(d.high)}{_on(d.high_date)}, low {num(d.low)}{_on(d.low_date)})"
    )
    if d.annual_volatility is not None:
        text += f", with annualised volatility of {pct(d.annual_volatility)}"
    text += f". Its largest fall from a high (maximum drawdown) was {pct(d.max_drawdown)}"
    if d.sharpe_ratio is not None:
        text += f"; Sharpe ratio {num(d.sharpe_ratio)} (no risk-free rate deducted)"
    return text + "."


RISK_WORDS = re.compile(r"\b(volatil\w*|risk(?:y|ier|iest)?|stable|steadier|swings?)\b", re.I)


def _compare_volatility(results: list[PriceSummary]) -> str | None:
    """ "Which is less volatile?": ranked by the period's annualised volatility."""
    ranked = sorted(results, key=lambda d: d.annual_volatility)
    calm, rest = ranked[0], ranked[1:]
    others = "; ".join(f"{d.symbol} {pct(d.annual_volatility)}" for d in rest)
    return (
        f"Verdict: {calm.symbol} was the least volatile, with annualised volatility of "
        f"{pct(calm.annual_volatility)}, against {others}."
    )


def _ranking(results: list[PriceSummary]) -> str:
    """Many stocks at once: one ranked line instead of a paragraph each."""
    ranked = sorted(results, key=lambda d: -d.period_return)
    listed = "; ".join(f"{d.symbol} {pct(d.period_return)}" for d in ranked)
    return f"Returns from {ranked[0].start} to {ranked[0].end}, best first: {listed}."


DRAWDOWN_WORDS = re.compile(r"\b(draw ?downs?|fell (?:the )?most|biggest (?:fall|drop))\b", re.I)
SHARPE_WORDS = re.compile(r"\b(sharpe|risk[- ]adjusted)\b", re.I)


def _compare_by(results: list[PriceSummary], field: str, label: str) -> str | None:
    """Ranked by ``field`` (higher is better: a drawdown of -10% beats -30%)."""
    known = [d for d in results if getattr(d, field) is not None]
    if len(known) < 2:
        return None
    ranked = sorted(known, key=lambda d: -getattr(d, field))
    best, rest = ranked[0], ranked[1:]
    shown = pct if field == "max_drawdown" else num
    others = "; ".join(f"{d.symbol} {shown(getattr(d, field))}" for d in rest)
    return f"Verdict: {best.symbol} had the best {label}, {shown(getattr(best, field))}, against {others}."


def _compare_prices(results: list[PriceSummary], question: str = "") -> str | None:
    if len(results) < 2:
        return None
    if DRAWDOWN_WORDS.search(question):
        return _compare_by(results, "max_drawdown", "maximum drawdown (the smallest fall)")
    if SHARPE_WORDS.search(question):
        return _compare_by(results, "sharpe_ratio", "Sharpe ratio")
    if RISK_WORDS.search(question) and all(d.annual_volatility is not None for d in results):
        return _compare_volatility(results)
    ranked = sorted(results, key=lambda d: -d.period_return)
    best, rest = ranked[0], ranked[1:]
    if len(ranked) > 5:  # the ranking lists them all
        worst = ranked[-1]
        return (
            f"Verdict: {best.symbol} did best with {pct(best.period_return)}; {worst.symbol} "
            f"did worst with {pct(worst.period_return)}."
        )
    others = "; ".join(f"{d.symbol} {pct(d.period_return)}" for d in rest)
    if best.period_return == rest[0].period_return:
        return f"Verdict: {best.symbol} and {rest[0].symbol} returned the same, {pct(best.period_return)}."
    did = "did best" if best.period_return > 0 else "lost the least"
    return f"Verdict: {best.symbol} {did} with {pct(best.period_return)}, against {others}."


def _compare_rsi(results: list[IndicatorSummary]) -> str | None:
    with_rsi = [d for d in results if d.values.get("rsi_14") is not None]
    if len(with_rsi) < 2:
        return None
    ranked = sorted(with_rsi, key=lambda d: -d.values["rsi_14"])
    top, rest = ranked[0], ranked[1:]
    others = ", ".join(f"{d.symbol} ({num(round(d.values['rsi_14'], 2))})" for d in rest)
    return (
        f"Comparing RSI: {top.symbol} was highest at {num(round(top.values['rsi_14'], 2))}, "
        f"ahead of {others}."
    )


def _portfolio(d: PortfolioSummary) -> str:
    held = sorted(((s, w) for s, w in d.weights.items() if w > 0), key=lambda kv: -kv[1])
    weights = ", ".join(f"{s} {pct(w)}" for s, w in held)
    text = (
        f"{d.method} weights estimated on {d.start} to {d.end}: {weights}. Expected annual "
        f"return {pct(d.expected_return)}, volatility {pct(d.volatility)}, Sharpe {num(d.sharpe)} "
        "(estimates from past data)."
    )
    if d.amounts and d.capital:
        amounts = ", ".join(f"{s} {money(d.amounts[s])}" for s, _ in held)
        text += f" Of {money(d.capital)}: {amounts}."
    if line := profile_line(d):
        text += f" {line}"
    return text


def _sweep(d: SweepSummary) -> str:
    best = d.top[0]
    params = ", ".join(f"{k} {num(v)}" for k, v in best.params.items())
    return (
        f"Sweep of {d.combinations} {d.strategy} settings on {d.symbol} ({d.start} to "
        f"{d.end}): the best by {d.rank_by} was {params}, with a total return of "
        f"{pct(best.total_return)}, Sharpe {num(best.sharpe)} and max drawdown "
        f"{pct(best.max_drawdown)}. Past results do not guarantee future returns."
    )


def _backtest(d: BacktestSummary) -> str:
    m = d.metrics
    params = ", ".join(f"{k} {num(v)}" for k, v in d.params.items())
    costs = f", costs {num(d.cost_bps)} bps" if d.cost_bps else ""
    text = (
        f"Backtest of {d.strategy}{f' ({params})' if params else ''} on {d.symbol} from "
        f"{d.start} to {d.end}{costs}: total return {pct(m.total_return)}, CAGR {pct(m.cagr)}, "
        f"Sharpe {num(m.sharpe)}, max drawdown {pct(m.max_drawdown)}, {d.trades} "
        f"{'trade' if d.trades == 1 else 'trades'}, "
        f"invested {pct(m.exposure)} of the time."
    )
    if d.chart is not None:
        text += f" Chart: {d.chart.url}."
    return text + " Past results do not guarantee future returns."


def _compare_strategies(runs: list[BacktestSummary]) -> list[str]:
    """A verdict per stock tested with two or more strategies over the same period: by
    total return, with the Sharpe ratio and drawdown beside it (they can disagree)."""
    verdicts = []
    for symbol in dict.fromkeys(d.symbol for d in runs):
        same = [d for d in runs if d.symbol == symbol]
        if len({d.strategy for d in same}) < 2:
            continue
        ranked = sorted(same, key=lambda d: -d.metrics.total_return)
        best, rest = ranked[0], ranked[1:]
        others = "; ".join(
            f"{d.strategy} {pct(d.metrics.total_return)} (Sharpe {num(d.metrics.sharpe)}, "
            f"max drawdown {pct(d.metrics.max_drawdown)})"
            for d in rest
        )
        steadier = max(same, key=lambda d: d.metrics.sharpe or float("-inf"))
        text = (
            f"Verdict on {symbol}: {best.strategy} "
            f"{'returned more' if best.metrics.total_return > 0 else 'lost less'}, "
            f"{pct(best.metrics.total_return)} "
            f"(Sharpe {num(best.metrics.sharpe)}, max drawdown {pct(best.metrics.max_drawdown)}), "
            f"against {others}."
        )
        if steadier is not best:
            text += f" {steadier.strategy} had the better risk-adjusted return (Sharpe)."
        verdicts.append(text)
    return verdicts


def _walk_forward(d: WalkForwardSummary) -> str:
    m = d.out_of_sample
    last = ", ".join(f"{k} {num(v)}" for k, v in d.last_params.items())
    return (
        f"Walk-forward test of {d.strategy} on {d.symbol} ({d.start} to {d.end}): "
        f"{d.windows} windows, each choosing among {d.combinations} settings on "
        f"{d.train_days} trading days and trading the next {d.test_days}. Out of sample: "
        f"total return {pct(m.total_return)}, CAGR {pct(m.cagr)}, Sharpe {num(m.sharpe)}, max "
        f"drawdown {pct(m.max_drawdown)}. The latest window chose {last or 'the defaults'}. "
        "Past results do not guarantee future returns."
    )


def _rebalance(d: RebalanceSummary) -> str:
    m = d.metrics
    weights = ", ".join(
        f"{s} {pct(w)}" for s, w in sorted(d.last_weights.items(), key=lambda kv: -kv[1])
    )
    text = (
        f"{d.frequency.capitalize()} {d.method} rebalancing of {', '.join(d.symbols)} from "
        f"{d.start} to {d.end} ({d.rebalances} rebalances, weights estimated on the trailing "
        f"{d.lookback_days} trading days): total return {pct(m.total_return)}, CAGR "
        f"{pct(m.cagr)}, Sharpe {num(m.sharpe)}, max drawdown {pct(m.max_drawdown)}. "
        f"Latest weights: {weights}."
    )
    if d.chart is not None:
        text += f" Chart: {d.chart.url}."
    return text + " Past results do not guarantee future returns."


LATEST = re.compile(r"\b(latest|newest|most recent|recent(?:ly)?|lately|last few)\b", re.I)


def _search(
    d: SearchSummary, numbers: dict[tuple[int, int], int], call: int, question: str = ""
) -> str:
    when = (
        f" published {d.start} to {d.as_of}"
        if d.start and d.as_of
        else f" published since {d.start}"
        if d.start
        else f" published by {d.as_of}"
        if d.as_of
        else ""
    )
    if not d.hits:
        return f"I found no documents{when} that match."
    hits = list(d.hits)
    if LATEST.search(question):  # "the latest news": newest first
        hits.sort(key=lambda h: h.published_at, reverse=True)
    lines = []
    for h in hits:
        n = numbers[(call, h.n)]
        where = f", {h.section}" if h.section else ""
        snippet = h.snippet
        if snippet.lower().startswith(h.title.lower()):  # news chunks open with the headline
            snippet = snippet[len(h.title) :].lstrip(" .:-\n") or snippet
        lines.append(f"- {h.title} ({h.published_at}{where}): {snippet} [{n}]")
    intro = f"From the documents{when}" + (", newest first:" if LATEST.search(question) else ":")
    return intro + "\n" + "\n".join(lines)


def _account(d: AccountSummary) -> str:
    if d.positions:
        held = ", ".join(f"{format_quantity(p.quantity)} {p.symbol}" for p in d.positions)
        text = (
            f"Your {d.broker} account holds {held}; cash {money(d.cash)}, equity {money(d.equity)}."
        )
    else:
        text = f"Your {d.broker} account holds no positions; cash is {money(d.cash)}."
    if d.open_orders:
        text += " Resting at the broker: " + "; ".join(d.open_orders) + "."
    if d.pending_approvals:
        waiting = "; ".join(
            f"{a.order} (approval {a.approval_id}, expires {a.expires_at:%Y-%m-%d %H:%M} UTC)"
            for a in d.pending_approvals
        )
        text += (
            f" Waiting for an approver: {waiting}. Cash is not set aside for orders that wait; "
            "each is checked again against the account when it is approved."
        )
    elif not d.open_orders:
        text += " No orders are pending."
    return text


def _both_sides(prices: list[PriceSummary], indicators: list[IndicatorSummary]) -> str | None:
    """For "should I buy X?": what the data says either way, never a recommendation."""
    lines = []
    for p in prices:
        ind = next((i for i in indicators if i.symbol == p.symbol), None)
        good, bad = [], []
        (good if p.period_return >= 0 else bad).append(
            f"it returned {pct(p.period_return)} from {p.start} to {p.end}"
        )
        if ind is not None:
            v = ind.values
            if v.get("sma_50") is not None and v.get("sma_200") is not None:
                above = v["sma_50"] > v["sma_200"]
                (good if above else bad).append(
                    f"its 50-day average is {_side(v['sma_50'], v['sma_200'])} the 200-day"
                )
            if v.get("rsi_14") is not None:
                rsi = v["rsi_14"]
                if rsi > ind.rsi_bounds["overbought"]:
                    bad.append(f"its RSI of {num(round(rsi, 2))} reads as overbought")
                elif rsi < ind.rsi_bounds["oversold"]:
                    good.append(f"its RSI of {num(round(rsi, 2))} reads as oversold")
        if p.annual_volatility is not None and p.annual_volatility > 0.35:
            bad.append(f"it is volatile ({pct(p.annual_volatility)} a year)")
        lines.append(
            f"For {p.symbol}, in favour: {'; '.join(good) or 'nothing in these figures'}. "
            f"Against: {'; '.join(bad) or 'nothing in these figures'}."
        )
    if not lines:
        return None
    return (
        "\n".join(lines)
        + " Whether to buy depends on your goals, horizon and the rest of your portfolio; "
        "I can show figures, not advise."
    )


def _symbols(d: SymbolSearch) -> str:
    if not d.matches:
        return f"No company in the security master ({d.companies:,} companies) matches {d.query!r}."

    def line(m) -> str:
        facts = ", ".join(x for x in (m.exchange, m.sector, m.cik and f"CIK {m.cik}") if x)
        stored = "prices stored" if m.in_store else "no prices stored"
        return f"{m.symbol}: {m.name}" + (f" ({facts})" if facts else "") + f"; {stored}"

    best, rest = d.matches[0], d.matches[1:4]
    text = f"Best match for {d.query!r}: {line(best)}."
    if rest:
        text += " Also: " + "; ".join(f"{m.symbol} ({m.name})" for m in rest) + "."
    return text


WRITERS: dict[type, Callable] = {
    SymbolSearch: _symbols,
    IndicatorSummary: _indicators,
    PriceSummary: _prices,
    PortfolioSummary: _portfolio,
    BacktestSummary: _backtest,
    SweepSummary: _sweep,
    WalkForwardSummary: _walk_forward,
    RebalanceSummary: _rebalance,
    AccountSummary: _account,
    OrderOutcome: OrderOutcome.describe,
    Fundamentals: write_fundamentals,
    ProfileView: write_view,
    ProfileUpdate: write_update,
    ProfileCleared: write_cleared,
    Watchlists: write_watchlists,
    AlertList: write_alerts,
    BriefingSchedule: write_schedule,
    CrossSummary: write_crosses,
}


def _default_window(returns: list[ToolReturnPart]) -> str | None:
    """The period the prices of a question that named no period cover, as the answer says
    it: the last year, or all of the data ("the worst day ever", "all-time high")."""
    compared = [
        s for p in returns if isinstance(r := read_result(p), CompareSummary) for s in r.stats
    ]
    if compared:
        return f"{min(s.start for s in compared)} to {max(s.end for s in compared)}"
    spans = [
        (r.start, r.end)
        for p in returns
        if isinstance(r := read_result(p), PriceSummary) and p.tool_name == "get_prices"
    ]
    if not spans:
        return None
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if (end - start).days > 400:
        return f"all the stored history, {start} to {end}"
    return f"the year to {end}"


def write_answer(
    returns: list[ToolReturnPart], ask: Ask | None = None, notes: list[str] = ()
) -> str:
    """The answer from this turn's tool results; ``ask`` is what the question asked (for
    the period's reading, verdicts and framing), ``notes`` sentences said first."""
    numbers = number_citations(returns)
    sections: list[str] = list(notes)
    filings_only = bool(returns) and all(
        p.tool_name in ("get_fundamentals", "portfolio_risk", "screen_symbols", "detect_anomalies")
        for p in returns
    )  # each figure names its own period (a filing's, the risk window and scenarios)
    if filings_only:
        pass  # each figure names its own fiscal period and filing
    elif ask is not None and ask.period.label and not ask.period.empty and not ask.parts:
        sections.append(f"Period: {ask.period.label}.")
    elif ask is not None and not ask.parts and not ask.period.named and _default_window(returns):
        window = _default_window(returns)
        said = "" if window.startswith("all the stored") else " (no period was named)"
        sections.append(f"Period: {window}{said}.")
    prices: list[PriceSummary] = []
    indicators: list[IndicatorSummary] = []
    many = sum(p.tool_name == "get_prices" for p in returns) > 5
    as_ofs: list[date] = []
    sources: list[str] = []
    freshness: list[str] = []
    said_problems: set[str] = set()
    for call, part in enumerate(returns):
        result = read_result(part)
        if result is None:  # the call failed or its arguments were refused: say why
            problem = problem_text(part.content)
            if problem in said_problems:
                continue  # prices and indicators of one stock fail for one reason: say it once
            said_problems.add(problem)
            if part.tool_name == "place_order":
                sections.append(f"The order was not placed: {problem}.")
            else:
                sections.append(f"I could not complete {part.tool_name}: {problem}")
            continue
        if getattr(result, "as_of", None):
            as_ofs.append(result.as_of)
        if (source := getattr(result, "source", None)) and source not in sources:
            sources.append(source)
        freshness += [n for n in getattr(result, "data_notes", ()) if n not in freshness]
        if isinstance(result, IndicatorSummary):
            indicators.append(result)
        if isinstance(result, PriceSummary):
            prices.append(result)
        if isinstance(result, SearchSummary):
            sections.append(_search(result, numbers, call, ask.text if ask is not None else ""))
        elif isinstance(result, PriceSummary) and many:
            continue  # ranked together below
        elif isinstance(result, Fundamentals):
            sections.append(write_asked(result, ask.text if ask is not None else ""))
        elif isinstance(result, CompareSummary):
            sections.append(write_comparison(result, ask.text if ask is not None else ""))
        elif isinstance(result, RiskSummary):
            sections.append(write_risk(result, ask.text if ask is not None else ""))
        elif isinstance(result, IndicatorSummary):
            asked = asked_readings(result, ask.text if ask is not None else "")
            sections.append(" ".join(filter(None, [asked, _indicators(result)])))
        elif isinstance(result, ScreenSummary):
            sections.append(write_screen(result))
        elif isinstance(result, AnomalySummary):
            sections.append(write_anomalies(result))
        elif isinstance(result, SentimentSummary):
            renumbered = {n: numbers[(call, n)] for (c, n) in numbers if c == call}
            sections.append(write_sentiment(result, renumbered))
        elif isinstance(result, BriefingFacts):
            renumbered = {n: numbers[(call, n)] for (c, n) in numbers if c == call}
            sections.append(write_briefing(result, renumbered))
        elif type(result) in WRITERS:
            sections.append(WRITERS[type(result)](result))
    if many and prices:
        sections.append(_ranking(prices))
    question = ask.text if ask is not None else ""
    runs = [r for p in returns if isinstance(r := read_result(p), BacktestSummary)]
    sections.extend(_compare_strategies(runs))
    valuations = [r for p in returns if isinstance(r := read_result(p), Fundamentals)]
    risks = [r for p in returns if isinstance(r := read_result(p), RiskSummary)]
    for verdict in (
        compare_risks(risks),
        _compare_prices(prices, question),
        _compare_rsi(indicators),
        compare_fundamentals(valuations, question),
    ):
        if verdict:
            sections.append(verdict)
    if (
        ask is not None
        and ask.intents[0] == "opinion"
        and (both := _both_sides(prices, indicators))
    ):
        sections.append(both)
    sections.extend(merged_notes(freshness))
    if as_ofs:
        origin = f"; source: {', '.join(sources)}" if sources else ""
        sections.append(f"Data as of {max(as_ofs)}{origin}. {DISCLAIMER}")
    return "\n\n".join(s.strip() for s in sections if s.strip())
