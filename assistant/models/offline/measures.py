"""Writing measures: a comparison (``compare_symbols``): what was asked first (a
correlation, a beta, the worst day), then each symbol's line, then the verdicts; and a
portfolio's risk (``portfolio_risk``): the scenario asked first, VaR, who carries the
risk, every stress test."""

from __future__ import annotations

import re
from itertools import combinations

from assistant.models.offline.formats import money, pct
from assistant.models.offline.holdings import scenarios_asked
from assistant.results import (
    AnomalySummary,
    CompareSummary,
    RiskSummary,
    ScreenSummary,
    SentimentSummary,
)
from tools.compare import Dated, SymbolStats

CORRELATION = re.compile(
    r"\b(correlat\w*|move[sd]? (?:together|in tandem)|co-?mov\w*|diversif\w*|same trade)\b", re.I
)
RATIOS = {
    "sharpe": re.compile(r"\bsharpe\b", re.I),
    "sortino": re.compile(r"\bsortino\b", re.I),
    "calmar": re.compile(r"\bcalmar\b", re.I),
}
RISKY = re.compile(
    r"\b(riski(?:er|est)|most risky|more risky|how (?:risky|safe)|riskiness|(?:crash|fell|fall|dropp?|sank|tank)\w* "
    r"(?:the )?(?:harder|more|most))\b",
    re.I,
)
DRAWDOWN = re.compile(r"\b(draw ?downs?|peak[- ]to[- ]trough|bottom\w*)\b", re.I)
EXTREME = re.compile(
    r"\b(best|worst|biggest|largest)\b.{0,20}?\b(day|month)s?\b|"
    r"\b(?:one|single)[- ](day) (?:gain|loss|drop|jump|move|fall|rise)\b|"
    r"\bin an? (?:single|one)[- ]?(day|month)\b",
    re.I,
)
UP = re.compile(r"\b(best|gain\w*|jump\w*|ris(?:e|es|ing)|rall\w*|surg\w*|up)\b", re.I)
DOWN = re.compile(
    r"\b(worst|loss\w*|los(?:e|t)|drop\w*|fall\w*|fell|crash\w*|declin\w*|down)\b", re.I
)
BETA = re.compile(r"\b(beta|move with the market|sensitiv\w*)\b", re.I)


def _ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _strength(r: float) -> str:
    size = abs(r)
    word = (
        "very strong"
        if size >= 0.8
        else "strong"
        if size >= 0.6
        else "moderate"
        if size >= 0.4
        else "weak"
        if size >= 0.2
        else "little or no"
    )
    if size < 0.2:
        return word
    return f"{word} {'positive' if r > 0 else 'negative'}"


def _month(d: Dated | None) -> str:
    return "n/a" if d is None else f"{d.date:%b %Y} {pct(d.value, True)}"


def _line(s: SymbolStats, benchmark: str | None) -> str:
    beta = (
        f", beta {_ratio(s.beta)} to {benchmark}"
        if s.beta is not None and benchmark and s.symbol != benchmark
        else ""
    )
    return (
        f"- {s.symbol} ({s.start} to {s.end}): return {pct(s.total_return, True)} "
        f"(annualised {pct(s.annual_return, True)}), volatility {pct(s.volatility)}, "
        f"Sharpe {_ratio(s.sharpe)}, Sortino {_ratio(s.sortino)}, Calmar {_ratio(s.calmar)}, "
        f"max drawdown {pct(s.max_drawdown)} ({s.drawdown_peak} to {s.drawdown_trough})"
        f"{beta}; best day {s.best_day.date} {pct(s.best_day.value, True)}, worst day "
        f"{s.worst_day.date} {pct(s.worst_day.value, True)}; best month "
        f"{_month(s.best_month)}, worst month {_month(s.worst_month)}."
    )


def _pairs(d: CompareSummary, asked: list[str]) -> list[str]:
    out = []
    for a, b in combinations(asked, 2):
        value = d.correlation.get(a, {}).get(b)
        if value is None:
            out.append(f"{a} and {b} share too few trading days for a correlation.")
        else:
            out.append(
                f"Correlation of daily returns, {a} and {b}: {value:.2f} ({_strength(value)})."
            )
    return out


def _extremes(stats: list[SymbolStats], m: re.Match) -> list[str]:
    """The day or month asked for first ("the worst day", "the biggest one-day gain")."""
    unit = next((g.lower() for g in m.groups()[1:] if g), "day")
    up = bool(UP.search(m.string))
    down = bool(DOWN.search(m.string))
    sides = [("best", True)] if up and not down else [("worst", False)] if down else []
    sides = sides or [("best", True), ("worst", False)]
    out = []
    for s in stats:
        for name, best in sides:
            if unit == "month":
                d = s.best_month if best else s.worst_month
                when = None if d is None else f"{d.date:%B %Y}"
            else:
                d = s.best_day if best else s.worst_day
                when = None if d is None else str(d.date)
            if d is not None:
                out.append(f"{s.symbol}'s {name} {unit}: {when}, {pct(d.value, True)}.")
    return out


def _asked_leads(d: CompareSummary, stats: list[SymbolStats], question: str) -> list[str]:
    """The measure the question names, said first, ranked when there are several."""
    out = []
    for name, words in RATIOS.items():
        if words.search(question):
            ranked = sorted(stats, key=lambda s: -(getattr(s, name) or float("-inf")))
            values = ", ".join(f"{s.symbol} {_ratio(getattr(s, name))}" for s in ranked)
            better = f": {ranked[0].symbol}'s is the highest (better)" if len(ranked) > 1 else ""
            out.append(f"{name.capitalize()} ratio, {values}{better}.")
    if RISKY.search(question) and len(stats) > 1:
        ranked = sorted(stats, key=lambda s: -(s.volatility or 0.0))
        vols = ", ".join(f"{s.symbol} {pct(s.volatility)}" for s in ranked)
        falls = ", ".join(f"{s.symbol} {pct(s.max_drawdown)}" for s in ranked)
        betas = ", ".join(f"{s.symbol} {_ratio(s.beta)}" for s in ranked if s.beta is not None)
        out.append(
            f"Riskiest by volatility: {ranked[0].symbol} (annualised volatility {vols}; "
            f"max drawdown {falls}" + (f"; beta to {d.benchmark} {betas}" if betas else "") + ")."
        )
    if RISKY.search(question) and len(stats) == 1:
        s = stats[0]
        beta = f", beta {_ratio(s.beta)} to {d.benchmark}" if s.beta is not None else ""
        out.append(
            f"{s.symbol}'s risk, {s.start} to {s.end}: annualised volatility "
            f"{pct(s.volatility)}, max drawdown {pct(s.max_drawdown)} (from {s.drawdown_peak} "
            f"to {s.drawdown_trough}), worst day {s.worst_day.date} "
            f"{pct(s.worst_day.value, True)}{beta}."
        )
    if DRAWDOWN.search(question):
        out += [
            f"{s.symbol}'s max drawdown: {pct(s.max_drawdown)}, from its high on "
            f"{s.drawdown_peak} to its low on {s.drawdown_trough}."
            for s in stats
        ]
    return out


def write_comparison(d: CompareSummary, question: str = "") -> str:
    stats = {s.symbol: s for s in d.stats}
    asked = [s for s in d.symbols if s in stats]
    lead: list[str] = []
    own = [s for s in asked if not (d.benchmark_added and s == d.benchmark)]
    if len(asked) > 1 and (CORRELATION.search(question) or len(own) > 1):
        lead += _pairs(d, asked if CORRELATION.search(question) else own)
    lead += _asked_leads(d, [stats[s] for s in own], question)
    if BETA.search(question) and d.benchmark:
        lead += [
            f"{s}'s beta to {d.benchmark}: {_ratio(stats[s].beta)} (a 1% move in "
            f"{d.benchmark} went with about {_ratio(stats[s].beta)}% in {s})."
            for s in own
            if s != d.benchmark and stats[s].beta is not None
        ]
    if m := EXTREME.search(question):
        lead += _extremes([stats[s] for s in own], m)
    lines = [_line(stats[s], d.benchmark) for s in asked]
    verdicts = []
    if len(asked) > 1:
        best = max(asked, key=lambda s: stats[s].total_return)
        calm = min(asked, key=lambda s: stats[s].volatility or 0.0)
        two = len(asked) == 2
        verdicts.append(
            f"{best} had the {'higher' if two else 'highest'} return "
            f"({pct(stats[best].total_return, True)}); {calm} was the "
            f"{'less' if two else 'least'} volatile ({pct(stats[calm].volatility)})."
        )
    chart = f"Chart: {d.chart.url}" if d.chart else ""
    return "\n".join([*lead, *lines, *verdicts, chart])


def _stress_line(s, value: float | None) -> str:
    window = f" ({s.start} to {s.end})" if s.start else ""
    if s.portfolio_return is None:
        return f"{s.scenario}{window}: not run: {s.skipped}."
    loss = ""
    if value and s.loss is not None:
        loss = f", {'a loss' if s.loss > 0 else 'a gain'} of {money(abs(s.loss))}"
    return f"{s.scenario}{window}: {pct(s.portfolio_return, True)}{loss}."


VAR_ASKED = re.compile(
    r"\b(v\s?a\s?r|value[- ]at[- ]risk|c\s?var|expected shortfall|tail|bad day|worst day|"
    r"in a day|one[- ]day|daily loss|lose in a|could i lose|can i lose)\b",
    re.I,
)
SHARE_ASKED = re.compile(
    r"\b(contribut\w*|share of|carr(?:y|ies)|riski\w*|most risk|biggest risk|drives?)\b", re.I
)
SHOCK_ASKED = re.compile(
    r"\b(market|s&p)\b.{0,30}\b(drops?|falls?|crash\w*|tanks?|declin\w*)\b|"
    r"\d+\s*%\s*(?:market\s+)?(?:drop|fall|crash|decline)",
    re.I,
)


def compare_risks(risks: list[RiskSummary]) -> str | None:
    """Two or more portfolios measured side by side: which is riskier, on what."""
    if len(risks) < 2:
        return None

    def name(d: RiskSummary) -> str:
        return " / ".join(f"{pct(w)} {s}" for s, w in d.weights.items())

    ranked = sorted(risks, key=lambda d: -d.annual_volatility)
    worst = [next(v for v in d.var if v.level == 0.95).historical for d in ranked]
    lines = [
        f"Riskier: {name(ranked[0])}, with annual volatility {pct(ranked[0].annual_volatility)} "
        f"against {', '.join(pct(d.annual_volatility) for d in ranked[1:])} for "
        f"{', '.join(name(d) for d in ranked[1:])} ({ranked[0].start} to {ranked[0].end})."
    ]
    deeper = min(range(len(ranked)), key=lambda i: worst[i])
    each = ", ".join(f"{pct(w)} for {name(d)}" for d, w in zip(ranked, worst, strict=True))
    lines.append(
        f"95% one-day VaR (historical): {each}"
        + ("." if deeper == 0 else f"; by VaR, {name(ranked[deeper])} has the deeper bad days.")
    )
    return " ".join(lines)


def write_risk(d: RiskSummary, question: str = "") -> str:
    holdings = ", ".join(f"{pct(w)} {s}" for s, w in d.weights.items())
    whose = (
        f"Your account's positions ({holdings}; worth {money(d.value)})"
        if d.account
        else f"A portfolio of {holdings}"
    )
    var = " ".join(
        f"At {v.level:.0%}: historical VaR {pct(v.historical)} (CVaR {pct(v.cvar)}), "
        f"parametric {pct(v.parametric)}, Cornish-Fisher {pct(v.cornish_fisher)}."
        for v in d.var
    )
    ranked = sorted(d.contributions, key=lambda c: -c.risk_share)
    shares = "; ".join(
        f"{c.symbol} {pct(c.risk_share)}" + (f" (beta {c.beta:.2f})" if c.beta is not None else "")
        for c in ranked
    )
    lead = []
    for name in scenarios_asked(question):
        s = next((x for x in d.stress if x.scenario == name), None)
        if s is not None:
            lead.append("Asked: " + _stress_line(s, d.value))
    if SHOCK_ASKED.search(question):
        shock = next((x for x in d.stress if x.scenario.startswith("market ")), None)
        if shock is not None:
            lead.append("Asked: " + _stress_line(shock, d.value))
    if VAR_ASKED.search(question):
        level = 0.99 if re.search(r"\b99\s*(?:%|percent)", question) else 0.95
        v = next(x for x in d.var if x.level == level)
        tail = "hundredth" if level == 0.99 else "twentieth"
        lead.append(
            f"{level:.0%} one-day value at risk: {pct(v.historical)} (historical): a daily "
            f"loss at least that large came on the worst {tail} of days, and on those days "
            f"the loss averaged {pct(v.cvar)} (CVaR)."
        )
    if SHARE_ASKED.search(question) and len(ranked) > 1:
        lead.append(
            f"{ranked[0].symbol} carries the most risk: {pct(ranked[0].risk_share)} of the "
            f"portfolio's variance at a {pct(ranked[0].weight)} weight."
        )
    return "\n".join(
        [
            *lead,
            f"{whose}, held at constant weights, {d.start} to {d.end} ({d.days} trading days):"
            f" annual volatility {pct(d.annual_volatility)}.",
            f"One-day value at risk (the daily loss exceeded only on the worst days): {var}",
            f"Share of the risk: {shares}.",
            "Stress tests (the same weights through past falls, and a market fall through "
            "each holding's beta):",
            *(f"- {_stress_line(s, d.value)}" for s in d.stress),
        ]
    )


SCREEN_LABELS = {
    "rsi_14": "RSI",
    "return": "return",
    "volatility": "annualised volatility",
    "sharpe": "Sharpe ratio",
    "max_drawdown": "max drawdown",
    "return_1y": "one-year return",
    "return_3m": "three-month return",
    "return_1m": "one-month return",
    "price": "price",
}
"""Words without digits: a number in an answer comes from a tool result."""
FRACTIONS = {"return", "volatility", "max_drawdown", "return_1y", "return_3m", "return_1m"}


def _screen_value(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name in FRACTIONS or name.startswith(("return_", "volatility_")):
        return pct(value, name.startswith("return"))
    return f"{value:,.2f}"


def _screen_label(name: str) -> str:
    if name in SCREEN_LABELS:
        return SCREEN_LABELS[name]
    if m := re.fullmatch(r"(sma|ema|wma)_(\d+)", name):
        return f"{m[1].upper()} ({name})"
    return name


def write_screen(d: ScreenSummary) -> str:
    label = _screen_label(d.metric)
    where = f" with {' and '.join(d.conditions)}" if d.conditions else ""
    window = f", {d.start} to {d.end}" if d.start else ""
    if not d.results:
        return f"None of the {d.universe} stored symbols has {' and '.join(d.conditions)}."
    head = (
        f"Screened the {d.universe} stored symbols{where}, ranked by {label}{window} "
        f"({'lowest' if d.ascending else 'highest'} first; {d.matched} matched):"
    )
    lines = []
    for r in d.results:
        extra = ", ".join(
            f"{_screen_label(n)} {_screen_value(n, v)}"
            for n, v in r.values.items()
            if n != d.metric
        )
        lines.append(
            f"- {r.symbol}: {label} {_screen_value(d.metric, r.value)}"
            + (f" ({extra})" if extra else "")
            + (f", as of {r.as_of}" if r.as_of != d.as_of else "")
        )
    return "\n".join([head, *lines])


def write_sentiment(d: SentimentSummary, numbers: dict[int, int]) -> str:
    """``numbers``: the story's number in this call -> its number in the answer."""
    if not d.stories:
        window = f" between {d.start} and {d.end}" if d.start and d.end else ""
        return f"No indexed news about {d.ticker}{window}, so there is no sentiment to read."
    first, last = d.days[0].date, d.days[-1].date
    text = [
        f"News sentiment for {d.ticker}, {first} to {last}: {d.stories} "
        f"{'story' if d.stories == 1 else 'stories'}, average "
        f"{d.average:+.2f}: {d.label} on balance (each story scored from negative to "
        f"positive, its chunks averaged)."
    ]
    cited = {h.doc_id: numbers.get(h.n, h.n) for h in d.hits}
    for name, stories in (("Most positive", d.most_positive), ("Most negative", d.most_negative)):
        if stories:
            listed = "; ".join(
                f"\u201c{s.title}\u201d ({s.published_at}, {s.score:+.2f}) [{cited[s.doc_id]}]"
                for s in stories
            )
            text.append(f"{name}: {listed}.")
    latest = d.days[-1]
    text.append(
        f"Latest day with news, {latest.date}: {latest.score:+.2f} over {latest.stories} "
        f"stor{'y' if latest.stories == 1 else 'ies'} (rolling week {latest.rolling:+.2f})."
    )
    if d.chart:
        text.append(f"Chart: {d.chart.url}")
    return "\n".join(text)


def write_anomalies(d: AnomalySummary) -> str:
    head = (
        f"Unusual trading in {d.symbol}, {d.start} to {d.end} ({d.days} trading days; a day "
        f"counts when it is {d.threshold:g} robust standard deviations from the "
        f"{d.baseline} days before):"
    )
    if not d.flags:
        lines = [f"{head} nothing flagged."]
    else:
        lines = [head] + [
            f"- {f.date}, {f.kind.value}: {f.evidence}; {f.explanation}." for f in d.flags
        ]
    lines += [f"Not checked, {kind}: {why}." for kind, why in d.unavailable.items()]
    lines.append("A flag is a pattern in the data, not evidence of wrongdoing.")
    return "\n".join(lines)
