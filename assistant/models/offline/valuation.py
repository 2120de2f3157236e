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


METRICS = [  # (words in the question, attribute, label, higher is "more")
    (r"p\s*/\s*e|pe ratio|price[- ]to[- ]earnings|earnings multiple", "pe_ratio", "P/E"),
    (r"p\s*/\s*s|price[- ]to[- ]sales", "ps_ratio", "P/S"),
    (r"dividend|yield", "dividend_yield", "dividend yield"),
    (r"market cap\w*|bigger|largest|biggest|size", "market_cap", "market cap"),
    (r"revenue|sales", "revenue", "revenue"),
    (r"net income|profit|earn", "net_income", "net income"),
    (r"eps|per share", "eps_diluted", "diluted EPS"),
    (r"free cash", "free_cash_flow", "free cash flow"),
]


SHOWN = {
    "dividend_yield": lambda v: f"{v * 100:.2f}%",
    "pe_ratio": lambda v: f"{v:,.2f}",
    "ps_ratio": lambda v: f"{v:,.2f}",
    "eps_diluted": lambda v: f"${v:,.2f}",
}


def _asked(d: Fundamentals, question: str) -> tuple[str, str, float | None, Fact | None] | None:
    """(attribute, label, value, fact) of the first figure the question names."""
    for words, attr, label in METRICS:
        if re.search(rf"\b(?:{words})", question, re.I):
            v = getattr(d, attr)
            return (
                attr,
                label,
                v.value if isinstance(v, Fact) else v,
                v if isinstance(v, Fact) else None,
            )
    return None


def headline(d: Fundamentals, question: str) -> str:
    """The figure asked for, first, with what it is measured on."""
    asked = _asked(d, question)
    if asked is None:
        return ""
    attr, label, value, fact = asked
    if value is None:
        return f"{d.symbol}'s {label} is not available from its filings and stored prices."
    shown = SHOWN.get(attr, big)(value)
    if fact is not None:
        return f"{d.symbol}'s {label} for the fiscal year to {fact.period_end}: {shown}."
    basis = {
        "pe_ratio": " (the close over trailing-twelve-month diluted EPS)",
        "dividend_yield": " (trailing-twelve-month dividends per share over the close)",
    }.get(attr, "")
    return f"{d.symbol}'s {label} at the close of {d.price_date}: {shown}{basis}."


def compare_fundamentals(results: list[Fundamentals], question: str) -> str | None:
    """Which company has the higher figure the question names (both numbers said)."""
    if len(results) < 2:
        return None
    for words, attr, label in METRICS:
        if not re.search(rf"\b(?:{words})", question, re.I):
            continue
        values = []
        for r in results:
            v = getattr(r, attr)
            v = v.value if isinstance(v, Fact) else v
            if v is not None:
                values.append((v, r.symbol))
        if len(values) < 2:
            return None
        values.sort(reverse=True)
        shown = SHOWN.get(attr, big)
        listing = ", ".join(f"{s} {shown(v)}" for v, s in values)
        return f"Highest {label}: {values[0][1]} ({listing})."
    return None
