"""Fundamentals from SEC XBRL company facts, point in time.

Conventions (as a user of the numbers needs them):

* **Point in time.** Only facts *filed* on or before ``as_of`` exist. Each 10-K repeats
  two earlier years, so "the latest" means the latest *period* (its end date), and of
  the facts for that period the latest filed one (a restatement) wins.
* **Annual** figures are the fiscal year (a duration of 350-380 days); **quarterly** the
  latest three-month period filed (Q4 is rarely filed on its own: it is in the 10-K);
  **TTM** (trailing twelve months) is the latest fiscal year plus the year-to-date
  filed since, minus the same span a year earlier; with no filing since the fiscal
  year, TTM is that year.
* **Balance-sheet** items (assets, liabilities, equity, shares) are the latest instant.
* **Ratios** use the stored close on or before the day they are computed for (an
  adjusted close where only adjusted data is stored) and the facts known on that day:
  market cap = close x shares outstanding; P/E = close / TTM diluted EPS (none when
  earnings are not positive); P/S = market cap / TTM revenue; dividend yield = TTM
  dividends per share / close. Growth is year over year of the annual figures.
  Fractions are fractions.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from tools.errors import NoDataError

SOURCE = "SEC XBRL company facts"
OLD_FISCAL_YEAR_DAYS = 456
"""A fiscal year that ended this long before the as-of day (15 months: a 10-K is due
within about 90 days) is said to be old."""


class Concept(StrEnum):
    """The figures read, each from the first of its XBRL concepts the company reports."""

    REVENUE = "revenue"
    GROSS_PROFIT = "gross_profit"
    OPERATING_INCOME = "operating_income"
    NET_INCOME = "net_income"
    EPS_DILUTED = "eps_diluted"
    OPERATING_CASH_FLOW = "operating_cash_flow"
    CAPEX = "capital_expenditure"
    DIVIDENDS_PER_SHARE = "dividends_per_share"
    TOTAL_ASSETS = "total_assets"
    TOTAL_LIABILITIES = "total_liabilities"
    EQUITY = "equity"
    SHARES_OUTSTANDING = "shares_outstanding"


FLOWS: dict[Concept, tuple[str, ...]] = {
    Concept.REVENUE: (
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
        "us-gaap:Revenues",
        "us-gaap:SalesRevenueNet",
        "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax",
    ),
    Concept.GROSS_PROFIT: ("us-gaap:GrossProfit",),
    Concept.OPERATING_INCOME: ("us-gaap:OperatingIncomeLoss",),
    Concept.NET_INCOME: ("us-gaap:NetIncomeLoss",),
    Concept.EPS_DILUTED: ("us-gaap:EarningsPerShareDiluted",),
    Concept.OPERATING_CASH_FLOW: ("us-gaap:NetCashProvidedByUsedInOperatingActivities",),
    Concept.CAPEX: ("us-gaap:PaymentsToAcquirePropertyPlantAndEquipment",),
    Concept.DIVIDENDS_PER_SHARE: (
        "us-gaap:CommonStockDividendsPerShareDeclared",
        "us-gaap:CommonStockDividendsPerShareCashPaid",
    ),
}
INSTANTS: dict[Concept, tuple[str, ...]] = {
    Concept.TOTAL_ASSETS: ("us-gaap:Assets",),
    Concept.TOTAL_LIABILITIES: ("us-gaap:Liabilities",),
    Concept.EQUITY: (
        "us-gaap:StockholdersEquity",
        "us-gaap:StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest",
    ),
    Concept.SHARES_OUTSTANDING: (
        "dei:EntityCommonStockSharesOutstanding",
        "us-gaap:CommonStockSharesOutstanding",
    ),
}


GROWTH = (
    Concept.REVENUE,
    Concept.GROSS_PROFIT,
    Concept.OPERATING_INCOME,
    Concept.NET_INCOME,
    Concept.EPS_DILUTED,
    Concept.OPERATING_CASH_FLOW,
)


class Fact(BaseModel):
    """One figure as filed: its period, the filing that carried it, and when."""

    value: float
    period_start: date | None = Field(None, description="None for an instant (a balance).")
    period_end: date
    filed: date
    form: str
    concept: str
    derived: bool = Field(False, description="Computed from filed facts (TTM, free cash flow).")


class Period(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    TTM = "ttm"


class Fundamentals(BaseModel):
    symbol: str
    cik: int
    company: str
    as_of: date = Field(description="Facts filed after this day are not used.")
    source: str = SOURCE
    revenue: Fact | None = Field(None, description="Latest fiscal year.")
    gross_profit: Fact | None = None
    operating_income: Fact | None = None
    net_income: Fact | None = None
    eps_diluted: Fact | None = None
    operating_cash_flow: Fact | None = None
    free_cash_flow: Fact | None = Field(None, description="Operating cash flow - capex.")
    dividends_per_share: Fact | None = None
    total_assets: Fact | None = None
    total_liabilities: Fact | None = None
    equity: Fact | None = None
    shares_outstanding: Fact | None = None
    quarterly: dict[str, Fact] = Field(default_factory=dict, description="Latest quarter.")
    ttm: dict[str, Fact] = Field(default_factory=dict, description="Trailing twelve months.")
    growth: dict[str, float] = Field(
        default_factory=dict, description="Year over year of the annual figures, fractions."
    )
    price: float | None = Field(None, description="The close the ratios use.")
    price_date: date | None = None
    market_cap: float | None = None
    pe_ratio: float | None = Field(None, description="Close / TTM diluted EPS.")
    ps_ratio: float | None = Field(None, description="Market cap / TTM revenue.")
    dividend_yield: float | None = Field(None, description="TTM dividends / close (fraction).")
    notes: list[str] = Field(default_factory=list)
    data_notes: list[str] = Field(
        default_factory=list, description="About the close's freshness (see the price view)."
    )

    def summary(self) -> str:
        fy = f"fiscal year to {self.revenue.period_end}" if self.revenue else "no annual figures"
        return f"{self.symbol} fundamentals as of {self.as_of} ({fy})"


def _facts(company_facts: dict, name: str, as_of: date) -> list[Fact]:
    """Every fact of ``taxonomy:Concept`` filed on or before ``as_of``."""
    taxonomy, concept = name.split(":")
    units = company_facts.get("facts", {}).get(taxonomy, {}).get(concept, {}).get("units", {})
    out = []
    for unit, rows in units.items():
        if unit not in ("USD", "USD/shares", "shares"):
            continue
        for row in rows:
            try:
                filed = date.fromisoformat(row["filed"])
                if filed > as_of:
                    continue
                out.append(
                    Fact(
                        value=float(row["val"]),
                        period_start=date.fromisoformat(row["start"]) if row.get("start") else None,
                        period_end=date.fromisoformat(row["end"]),
                        filed=filed,
                        form=str(row.get("form", "")),
                        concept=name,
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue  # a malformed row is skipped, not trusted
    return out


def _days(fact: Fact) -> int:
    return (fact.period_end - fact.period_start).days + 1 if fact.period_start else 0


def _latest(facts: list[Fact]) -> Fact | None:
    """The latest period; of its facts, the latest filed (a restatement wins)."""
    return max(facts, key=lambda f: (f.period_end, _days(f), f.filed), default=None)


def _same_period(facts: list[Fact], start: date | None, end: date, slack: int = 7) -> Fact | None:
    found = [
        f
        for f in facts
        if abs((f.period_end - end).days) <= slack
        and (start is None or (f.period_start and abs((f.period_start - start).days) <= slack))
    ]
    return max(found, key=lambda f: f.filed, default=None)


def _flow(facts: list[Fact]) -> tuple[Fact | None, Fact | None, Fact | None, Fact | None]:
    """(latest annual, the annual before it, latest quarter, TTM) of one flow concept."""
    annuals = [f for f in facts if 350 <= _days(f) <= 380]
    annual = _latest(annuals)
    previous = (
        _same_period(annuals, None, annual.period_end - timedelta(days=364), slack=10)
        if annual
        else None
    )
    quarter = _latest([f for f in facts if 80 <= _days(f) <= 100])
    ttm = annual.model_copy(update={"derived": True}) if annual else None
    if annual is not None:
        since = [
            f
            for f in facts
            if f.period_start
            and abs((f.period_start - (annual.period_end + timedelta(days=1))).days) <= 7
            and f.period_end > annual.period_end
            and _days(f) < 350
        ]
        ytd = _latest(since)
        if ytd is not None:
            before = _same_period(
                facts,
                annual.period_start,
                ytd.period_end - timedelta(days=364),
                slack=10,
            )
            if before is not None and before.period_start is not None:
                ttm = Fact(
                    value=annual.value + ytd.value - before.value,
                    period_start=ytd.period_end - timedelta(days=364),
                    period_end=ytd.period_end,
                    filed=ytd.filed,
                    form=ytd.form,
                    concept=ytd.concept,
                    derived=True,
                )
    return annual, previous, quarter, ttm


def _first(company_facts: dict, names: tuple[str, ...], as_of: date) -> list[Fact]:
    """The facts of the first concept that has any by ``as_of`` (companies switch concepts:
    the one with the latest period is used)."""
    best: list[Fact] = []
    for name in names:
        facts = _facts(company_facts, name, as_of)
        if facts and (not best or _latest(facts).period_end > _latest(best).period_end):
            best = facts
    return best


def fundamentals(
    company_facts: dict,
    symbol: str,
    as_of: date,
    close: tuple[date, float] | None = None,
    *,
    ratio_facts_as_of: date | None = None,
) -> Fundamentals:
    """The figures known on ``as_of``; ratios with ``close`` (its day, its price) and the
    facts known on ``ratio_facts_as_of`` (default: the close's day, so a ratio never
    mixes a price with facts filed after it)."""
    cik = int(company_facts.get("cik", 0) or 0)
    out = Fundamentals(
        symbol=symbol, cik=cik, company=str(company_facts.get("entityName", symbol)), as_of=as_of
    )
    ttm: dict[Concept, Fact] = {}
    for concept, names in FLOWS.items():
        annual, previous, quarter, trailing = _flow(_first(company_facts, names, as_of))
        if annual is not None and concept is not Concept.CAPEX:
            setattr(out, concept.value, annual)
            if previous is not None and previous.value and concept in GROWTH:
                out.growth[concept.value] = round(annual.value / abs(previous.value) - 1, 4)
        if quarter is not None:
            out.quarterly[concept.value] = quarter
        if trailing is not None:
            out.ttm[concept.value] = trailing
            ttm[concept] = trailing
    ocf, capex = (
        out.operating_cash_flow,
        _flow(_first(company_facts, FLOWS[Concept.CAPEX], as_of))[0],
    )
    if ocf is not None and capex is not None and capex.period_end == ocf.period_end:
        out.free_cash_flow = ocf.model_copy(
            update={"value": ocf.value - capex.value, "derived": True, "concept": "derived"}
        )
    for concept, names in INSTANTS.items():
        instants = [f for f in _first(company_facts, names, as_of) if f.period_start is None]
        setattr(out, concept.value, _latest(instants))
    if not any(getattr(out, c.value) for c in Concept if c is not Concept.CAPEX):
        raise NoDataError(
            f"SEC has no financial statements for {symbol} filed on or before {as_of}"
        )
    if out.revenue is not None and (as_of - out.revenue.period_end).days > OLD_FISCAL_YEAR_DAYS:
        out.notes.append(
            f"The latest annual figures filed by {as_of} are for the fiscal year to "
            f"{out.revenue.period_end}, more than a year earlier."
        )
    if close is not None:
        _ratios(out, company_facts, close, ratio_facts_as_of or close[0])
    return out


def _ratios(out: Fundamentals, company_facts: dict, close: tuple[date, float], known: date):
    day, price = close
    out.price, out.price_date = round(price, 4), day
    at = fundamentals(company_facts, out.symbol, known) if known != out.as_of else out
    if at.revenue != out.revenue:  # the close is older than the latest filing: say so
        out.notes.append(
            f"Ratios use the close of {day} and the facts filed by then (fiscal year to "
            f"{at.revenue.period_end if at.revenue else 'n/a'})."
        )
    shares = at.shares_outstanding
    if shares is not None and shares.value > 0:
        out.market_cap = round(price * shares.value, 0)
    eps = at.ttm.get(Concept.EPS_DILUTED.value)
    if eps is not None and eps.value > 0:
        out.pe_ratio = round(price / eps.value, 2)
    revenue = at.ttm.get(Concept.REVENUE.value)
    if out.market_cap and revenue is not None and revenue.value > 0:
        out.ps_ratio = round(out.market_cap / revenue.value, 2)
    dividends = at.ttm.get(Concept.DIVIDENDS_PER_SHARE.value)
    if dividends is not None and price > 0:
        out.dividend_yield = round(dividends.value / price, 6)
    elif at.revenue is not None:
        out.notes.append("No dividends per share are reported in the filings.")
