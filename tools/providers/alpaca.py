"""Daily bars from Alpaca's market-data API through alpaca-py (the `live` extra).

Bars are split- and dividend-adjusted (``adjustment=all``) like Yahoo's, from the IEX
feed by default (the free plan; ``sip`` needs a subscription). alpaca-py retries a 429
three times with three-second sleeps and sets no socket timeout: both are turned off
here, because a provider that is slow or rate-limiting must cost a question a couple of
seconds at most (the circuit breaker decides when to try again).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import requests

from tools.errors import ProviderError, RateLimitedError
from tools.redact import mask_urls_in

EARLIEST_BAR = date(2016, 1, 1)
"""Alpaca's daily history starts in 2016: asking for earlier days is wasted paging."""


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


class AlpacaBarsProvider:
    source = "alpaca"

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        base_url: str | None = None,
        feed: str = "iex",
        timeout: float = 10.0,
    ) -> None:
        try:
            from alpaca.common.exceptions import APIError
            from alpaca.data.enums import Adjustment, DataFeed
            from alpaca.data.historical import StockHistoricalDataClient
            from alpaca.data.requests import StockBarsRequest
            from alpaca.data.timeframe import TimeFrame
        except ImportError as exc:
            raise ProviderError(
                "the alpaca provider needs the `live` extra: pip install 'market-assistant[live]'"
            ) from exc
        if not api_key or not secret_key:
            raise ProviderError(
                "Alpaca market data needs an API key and secret "
                "(ASSISTANT_ALPACA_API_KEY / ASSISTANT_ALPACA_SECRET_KEY)"
            )
        self._client = StockHistoricalDataClient(
            api_key, secret_key, raw_data=True, url_override=base_url
        )
        self._client._retry = 0  # one try; the breaker is the retry policy
        self._client._session = _TimeoutSession(timeout)
        self._api_error = APIError
        self._request = lambda symbol, start, end: StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=TimeFrame.Day,
            start=start,
            end=end,
            adjustment=Adjustment.ALL,
            feed=DataFeed(feed),
        )

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        begin = max(start or EARLIEST_BAR, EARLIEST_BAR)
        until = datetime.combine((end or date.today()) + timedelta(days=1), time(), UTC)
        request = self._request(symbol, datetime.combine(begin, time(), UTC), until)
        try:
            raw = self._client.get_stock_bars(request)
        except self._api_error as exc:
            status = exc.status_code
            if status == 429:
                after = (
                    exc._http_error.response.headers.get("Retry-After") if exc._http_error else None
                )
                raise RateLimitedError(
                    f"Alpaca is rate-limiting requests ({symbol})",
                    retry_after=float(after) if after and after.isdigit() else None,
                ) from exc
            if status in (401, 403):
                raise ProviderError(f"Alpaca refused the market-data keys (HTTP {status})") from exc
            raise ProviderError(
                f"Alpaca could not fetch {symbol}: {mask_urls_in(str(exc))}"
            ) from exc
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError(f"Alpaca could not be reached: {mask_urls_in(str(exc))}") from exc
        bars = (raw or {}).get(symbol) or []
        if not bars:
            return pd.DataFrame()
        frame = pd.DataFrame(bars).rename(
            columns={"t": "date", "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
        )
        stamps = pd.to_datetime(frame["date"], utc=True).dt.tz_convert("America/New_York")
        frame["date"] = stamps.dt.tz_localize(None).dt.normalize()
        return frame[["date", "open", "high", "low", "close", "volume"]]
