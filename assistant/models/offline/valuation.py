"""The offline answer's sentences about fundamentals: the figures as filed (each with
its period and filing), the ratios at a named close, and, for two or more companies,
a verdict on the figure the question asked about."""

from __future__ import annotations

import re

from tools.fundamentals import Fact, Fundamentals


def big(value: float | None, unit: str = "$") -> str:
    """$394.33 billion, $2.91 trillion, $950.00 million; shares without the dollar sign."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    x = abs(value)
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= size:
            return f"{sign}{unit}{x / size:,.2f} {word}"
    return f"{sign}{unit}{x:,.2f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+,.2f}%"


def _fact(name: str, fact: Fact | None, growth: float | None = None, unit: str = "$") -> str:
    if fact is None:
        return ""
    value = f"${fact.value:,.2f}" if unit == "$/sh" else big(fact.value, unit)
    change = f" ({_pct(growth)} year over year)" if growth is not None else ""
    return f"{name} {value}{change}"


def write_fundamentals(d: Fundamentals) -> str:
    g = d.growth
    parts = []
    if d.revenue is not None:
        annual = [
            _fact("revenue", d.revenue, g.get("revenue")),
            _fact("gross profit", d.gross_profit),
            _fact("operating income", d.operating_income),
            _fact("net income", d.net_income, g.get("net_income")),
            _fact("diluted EPS", d.eps_diluted, g.get("eps_diluted"), unit="$/sh"),
            _fact("operating cash flow", d.operating_cash_flow),
            _fact("free cash flow", d.free_cash_flow),
            _fact("dividends per share", d.dividends_per_share, unit="$/sh"),
        ]
        parts.append(
            f"{d.company} ({d.symbol}), from SEC filings made by {d.as_of}: in the fiscal year "
            f"to {d.revenue.period_end} ({d.revenue.form} filed {d.revenue.filed}), "
            + ", ".join(a for a in annual if a)
            + "."
        )
    ttm_revenue, ttm_eps = d.ttm.get("revenue"), d.ttm.get("eps_diluted")
    if (
        ttm_revenue is not None
        and d.revenue is not None
        and ttm_revenue.period_end > d.revenue.period_end
    ):
        parts.append(
            f"Trailing twelve months to {ttm_revenue.period_end} ({ttm_revenue.form} filed "
            f"{ttm_revenue.filed}): revenue {big(ttm_revenue.value)}"
            + (f", diluted EPS ${ttm_eps.value:,.2f}" if ttm_eps else "")
            + "."
        )
    if d.price is not None:
        ratios = [
            f"market cap {big(d.market_cap)}" if d.market_cap else "",
            f"P/E (TTM) {d.pe_ratio:,.2f}" if d.pe_ratio is not None else "",
            f"P/S {d.ps_ratio:,.2f}" if d.ps_ratio is not None else "",
            f"dividend yield {d.dividend_yield * 100:.2f}%" if d.dividend_yield is not None else "",
        ]
        shown = [r for r in ratios if r]
        if shown:
            parts.append(f"At the close of {d.price_date} (${d.price:,.2f}): {', '.join(shown)}.")
    balance = [
        _fact("assets", d.total_assets),
        _fact("liabilities", d.total_liabilities),
        _fact("equity", d.equity),
    ]
    if any(balance) and d.total_assets is not None:
        parts.append(
            f"Balance sheet at {d.total_assets.period_end}: {', '.join(b for b in balance if b)}."
        )
    if d.shares_outstanding is not None:
        parts.append(
            f"Shares outstanding: {big(d.shares_outstanding.value, '')} "
            f"(as of {d.shares_outstanding.period_end})."
        )
    parts += d.notes
    return " ".join(parts)


METRICS = [  # (words in the question, attribute, label); the first that matches is asked
    (
        r"dividends? per share|pay(?:s|ing)? (?:out )?in dividends|dividend amount|"
        r"pays? a dividend",
        "dividends_per_share",
        "dividends per share",
    ),
    (r"gross margin", "gross_margin", "gross margin"),
    (r"operating margin", "operating_margin", "operating margin"),
    (r"(?:profit|net) margin|margins?", "net_margin", "net margin"),
    (
        r"p\s*/\s*e|pe ratio|\bpe\b|price[- ]to[- ]earnings|earnings multiple|cheap\w*|expensive|"
        r"valuations?|overvalued|undervalued",
        "pe_ratio",
        "P/E",
    ),
    (r"p\s*/\s*s|price[- ]to[- ]sales", "ps_ratio", "P/S"),
    (r"dividend|yield", "dividend_yield", "dividend yield"),
    (r"market (?:cap\w*|value)|bigger|largest|biggest|size", "market_cap", "market cap"),
    (r"free cash", "free_cash_flow", "free cash flow"),
    (r"cash flow|cash (?:generat|from operations)", "operating_cash_flow", "operating cash flow"),
    (r"debt|liabilities|owe", "total_liabilities", "total liabilities"),
    (r"assets", "total_assets", "total assets"),
    (r"equity|book value", "equity", "shareholders' equity"),
    (r"eps|per share", "eps_diluted", "diluted EPS"),
    (r"gross profit", "gross_profit", "gross profit"),
    (r"operating income|operating profit", "operating_income", "operating income"),
    (r"revenue|sales|top line", "revenue", "revenue"),
    (r"net income|profit|earn\w*|bottom line", "net_income", "net income"),
]
GROWTH = re.compile(
    r"\b(grow\w*|growth|increase\w*|rise|rising|change\w*|up or down|y/?o/?y|year over year)\b",
    re.I,
)
QUARTER = re.compile(r"\b(quarter\w*|q[1-4])\b", re.I)
MARGINS = {
    "gross_margin": "gross_profit",
    "operating_margin": "operating_income",
    "net_margin": "net_income",
}
SHOWN = {
    "dividend_yield": lambda v: f"{v * 100:.2f}%",
    "pe_ratio": lambda v: f"{v:,.2f}",
    "ps_ratio": lambda v: f"{v:,.2f}",
    "eps_diluted": lambda v: f"${v:,.2f}",
    "dividends_per_share": lambda v: f"${v:,.2f}",
    "gross_margin": lambda v: f"{v * 100:.2f}%",
    "operating_margin": lambda v: f"{v * 100:.2f}%",
    "net_margin": lambda v: f"{v * 100:.2f}%",
}
BASIS = {
    "pe_ratio": " (the close over trailing-twelve-month diluted EPS)",
    "ps_ratio": " (market cap over trailing-twelve-month revenue)",
    "dividend_yield": " (trailing-twelve-month dividends per share over the close)",
    "market_cap": " (the close times shares outstanding)",
}


def _value(d: Fundamentals, attr: str, quarterly: bool) -> tuple[float | None, Fact | None]:
    """The figure and the fact behind it (margins: the income line's fact)."""
    if attr in MARGINS:
        line = getattr(d, MARGINS[attr])
        if line is None or d.revenue is None or not d.revenue.value:
            return None, None
        return line.value / d.revenue.value, line
    if quarterly and attr in d.quarterly:
        fact = d.quarterly[attr]
        return fact.value, fact
    v = getattr(d, attr, None)
    return (v.value, v) if isinstance(v, Fact) else (v, None)


def asked_metric(question: str) -> tuple[str, str] | None:
    found = asked_metrics(question)
    return found[0] if found else None


def asked_metrics(question: str, most: int = 3) -> list[tuple[str, str]]:
    """Every figure the question names, in the order of :data:`METRICS` ("gross margin vs
    operating margin" is two); words a figure took are not read again ("gross margin" is
    not also "margin")."""
    rest, found = question, []
    for words, attr, label in METRICS:
        m = re.search(rf"\b(?:{words})", rest, re.I)
        if m and (attr, label) not in found:
            found.append((attr, label))
            rest = rest[: m.start()] + " " + rest[m.end() :]
    return found[:most]


def headline(d: Fundamentals, question: str, asked: tuple[str, str] | None = None) -> str:
    """The figure asked for, first, with what it is measured on."""
    asked = asked or asked_metric(question)
    if asked is None:
        return ""
    attr, label = asked
    quarterly = bool(QUARTER.search(question))
    if GROWTH.search(question) and attr in d.growth:
        fact = getattr(d, attr)
        return (
            f"{d.symbol}'s {label} grew {d.growth[attr] * 100:+,.2f}% year over year, to "
            f"{SHOWN.get(attr, big)(fact.value)} in the fiscal year to {fact.period_end} "
            f"({fact.form} filed {fact.filed})."
        )
    value, fact = _value(d, attr, quarterly)
    if value is None:
        return f"{d.symbol}'s {label} is not available from its filings and stored prices."
    shown = SHOWN.get(attr, big)(value)
    if attr in MARGINS:
        return (
            f"{d.symbol}'s {label} in the fiscal year to {fact.period_end}: {shown} "
            f"({MARGINS[attr].replace('_', ' ')} over revenue; {fact.form} filed {fact.filed})."
        )
    if fact is not None and fact.period_start is None:
        return (
            f"{d.symbol}'s {label} at {fact.period_end}: {shown} ({fact.form} filed {fact.filed})."
        )
    if fact is not None:
        span = "quarter" if quarterly and attr in d.quarterly else "fiscal year"
        return (
            f"{d.symbol}'s {label} for the {span} to {fact.period_end}: {shown} "
            f"({fact.form} filed {fact.filed})."
        )
    return f"{d.symbol}'s {label} at the close of {d.price_date}: {shown}{BASIS.get(attr, '')}."


def write_asked(d: Fundamentals, question: str) -> str:
    """The answer for one company: the figure asked for and what it rests on, or, when no
    one figure was asked ("Apple's fundamentals"), all of them."""
    asked = asked_metrics(question)
    if not asked:
        return write_fundamentals(d)
    lead = " ".join(headline(d, question, one) for one in asked)
    context = []
    attr = asked[0][0]
    if d.price is not None and attr in BASIS:
        eps = d.ttm.get("eps_diluted") if attr == "pe_ratio" else None
        context.append(
            f"Close ${d.price:,.2f} on {d.price_date}"
            + (f"; TTM diluted EPS ${eps.value:,.2f} to {eps.period_end}" if eps else "")
            + "."
        )
    return " ".join([lead, *context, *d.notes])


def compare_fundamentals(results: list[Fundamentals], question: str) -> str | None:
    """Which company has the higher figure the question names (both numbers said)."""
    if len(results) < 2:
        return None
    asked = asked_metric(question)
    if asked is None:
        return None
    attr, label = asked
    values = []
    for r in results:
        v, _ = _value(r, attr, bool(QUARTER.search(question)))
        if v is not None:
            values.append((v, r.symbol))
    if len(values) < 2:
        return None
    values.sort(reverse=True)
    shown = SHOWN.get(attr, big)
    listing = ", ".join(f"{s} {shown(v)}" for v, s in values)
    if attr == "pe_ratio":  # "cheaper": the lower multiple of earnings
        return (
            f"Lower P/E (cheaper on earnings): {values[-1][1]} ({listing}); P/E says nothing "
            "about growth or quality."
        )
    return f"Highest {label}: {values[0][1]} ({listing})."
