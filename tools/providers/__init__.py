"""Live price providers (optional `live` extra) and caching their data into the store.

A provider only downloads; :func:`fetch_into_store` decides whether the store already
covers the request (no network then) and merges what is new, so repeated questions
about the same symbol do not hit the provider again.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tools.errors import InvalidInputError, ProviderError

if TYPE_CHECKING:  # the settings import this package: it must not load pandas
    import pandas as pd

    from tools.market_data import PriceStore, SymbolInfo


class PriceProvider(Protocol):
    """Downloads daily bars; ``source`` is what the store records as their origin."""

    source: str

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Daily bars within ``[start, end]`` with store column names and a date column."""
        ...


class ProviderName(StrEnum):
    YFINANCE = "yfinance"
    ALPACA = "alpaca"
    NONE = "none"
    """Stay offline: the store is all there is."""


def get_provider(
    name: str,
    *,
    yahoo_base_url: str | None = None,
    cache_dir: Path | None = None,
    timeout: float = 10.0,
    alpaca_keys: tuple[str, str] = ("", ""),
    alpaca_data_url: str | None = None,
    alpaca_feed: str = "iex",
) -> PriceProvider:
    if name == ProviderName.YFINANCE:
        from tools.providers.yahoo import YFinanceProvider

        return YFinanceProvider(base_url=yahoo_base_url, cache_dir=cache_dir, timeout=timeout)
    if name == ProviderName.ALPACA:
        from tools.providers.alpaca import AlpacaBarsProvider

        return AlpacaBarsProvider(
            *alpaca_keys, base_url=alpaca_data_url, feed=alpaca_feed, timeout=timeout
        )
    if name == ProviderName.NONE:
        raise InvalidInputError(
            "no price provider is configured (ASSISTANT_PRICE_PROVIDER=none): "
            "set it to yfinance or alpaca to fetch prices"
        )
    raise InvalidInputError(f"unknown price provider {name!r}; available: yfinance, alpaca, none")


def fetch_into_store(
    store: PriceStore,
    provider: PriceProvider,
    symbol: str,
    start: date | None = None,
    end: date | None = None,
    *,
    today: date | None = None,
) -> SymbolInfo:
    """Make the store cover ``[start, end]`` for ``symbol``, downloading only what it lacks."""
    from tools.market_data import check_range, normalise_symbol
    from tools.price_files import validate_prices

    symbol = normalise_symbol(symbol)
    check_range(start, end)
    today = today or date.today()
    if end is not None and end > today:
        raise InvalidInputError(f"end {end} is in the future")
    cached = store.info(symbol) if store.exists(symbol) else None
    if cached is not None and cached.source == provider.source:
        covers_start = start is None or start >= cached.start
        if covers_start and end is not None and end <= cached.end:
            return cached
        if covers_start:
            start = cached.end + timedelta(days=1)
            if start > (end or today):
                return cached
    raw = provider.fetch(symbol, start, end)
    if raw.empty:
        if cached is not None:
            return cached
        raise ProviderError(
            f"{provider.source} returned no prices for {symbol} between "
            f"{start or 'the beginning'} and {end or today}"
        )
    frame = validate_prices(raw, f"{provider.source} {symbol}")
    return store.merge(symbol, frame, provider.source)
