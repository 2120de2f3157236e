"""A company's fundamentals as a tool reads them: its CIK from the security master (SEC's
company list is fetched once when the bundled list has none), its facts from SEC
(cached under the data dir), and the close from the price view the call reads through,
so a pinned conversation gets the figures filed by its date and that day's close."""

from __future__ import annotations

from datetime import date

from assistant.resources import company_facts, refresh_securities, security_master
from assistant.settings import Settings
from retrieval.errors import IngestError
from tools.errors import NoDataError, ProviderError, ToolError, UnknownSymbolError
from tools.fundamentals import Fundamentals, fundamentals
from tools.market_data import normalise_symbol
from tools.providers.live import PriceView


def cik_of(settings: Settings, symbol: str) -> int:
    found = security_master(settings).get(symbol)
    if found is None or found.cik is None:
        try:
            refresh_securities(settings)
        except (IngestError, ToolError) as exc:
            if found is None:  # not a listed company we know of: the symbol is the problem
                raise UnknownSymbolError(
                    f"{symbol} is not in the bundled list of listed companies (SEC's current "
                    f"list could not be fetched: {exc})"
                ) from None
            raise ProviderError(f"the CIK of {symbol} is not known, and {exc}") from None
        found = security_master(settings).get(symbol)
    if found is None or found.cik is None:
        guess = security_master(settings).search(symbol, 1)
        if guess and guess[0].symbol == symbol:
            raise UnknownSymbolError(f"SEC's company list has no CIK for {symbol}")
        hint = f"; did you mean {guess[0].symbol} ({guess[0].name})?" if guess else ""
        raise UnknownSymbolError(f"{symbol} is not in SEC's list of listed companies{hint}")
    return found.cik


def load_fundamentals(
    settings: Settings, prices: PriceView, symbol: str, as_of: date | None = None
) -> Fundamentals:
    """The figures filed on or before ``as_of`` (default: today; never after the view's
    pinned date), with ratios at the close the view has for that day."""
    symbol = normalise_symbol(symbol)
    pin = prices.as_of
    day = min(d for d in (as_of, pin, date.today()) if d is not None)
    facts, stale = company_facts(settings).get(cik_of(settings, symbol), day)
    close = None
    try:
        frame = prices.load(symbol, None, day)
        close = (frame.as_of, float(frame.price.iloc[-1]))
    except ToolError as exc:  # no price: the facts still answer, the ratios cannot
        note = f"No close for {symbol} by {day} ({exc}): no market cap or ratios."
    else:
        note = None
    result = fundamentals(facts, symbol, day, close)
    result.notes += [n for n in (stale, note) if n]
    if result.revenue is None and result.net_income is None:
        raise NoDataError(f"SEC's facts for {symbol} hold no income statement by {day}")
    return result
