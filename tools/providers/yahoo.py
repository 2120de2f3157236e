"""Daily prices from Yahoo Finance through `yfinance` (the `live` extra).

``base_url`` sends every Yahoo request to another host (a mirror, a caching proxy, or
the local fake the tests run), while yfinance's own client code does all the talking.
"""

from __future__ import annotations

import logging
import re
import warnings
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import requests

from tools.errors import ProviderError, RateLimitedError
from tools.redact import mask_urls_in


class _RedirectingSession(requests.Session):
    """A requests session that sends ``*.yahoo.com`` URLs to ``base_url`` instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        parts = urlsplit(str(url))
        if parts.hostname and parts.hostname.endswith("yahoo.com"):
            url = self._base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class YFinanceProvider:
    """Adjusted daily OHLCV (``auto_adjust=True``: splits and dividends folded in)."""

    source = "yfinance"

    def __init__(
        self,
        base_url: str | None = None,
        cache_dir: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        try:
            import yfinance
            from yfinance.exceptions import YFRateLimitError, YFTickerMissingError
        except ImportError as exc:
            raise ProviderError(
                "the yfinance provider needs the `live` extra: pip install 'market-assistant[live]'"
            ) from exc
        # its failures are raised to us and said once; its own log lines would repeat them
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)
        self._yf, self._rate_limited = yfinance, YFRateLimitError
        self._no_data = YFTickerMissingError
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            yfinance.set_tz_cache_location(str(cache_dir))
        self._session = _RedirectingSession(base_url) if base_url else None
        self.timeout = timeout

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        ticker = self._yf.Ticker(symbol, session=self._session)
        # yfinance's end is exclusive; ours is inclusive.
        window = (
            {
                "start": start.isoformat() if start else "1970-01-02",
                "end": (end + timedelta(days=1)).isoformat(),
            }
            if end
            else {"start": start.isoformat()}
            if start
            else {"period": "max"}
        )
        try:
            with warnings.catch_warnings():
                # yfinance still passes pandas' deprecated inplace= keywords.
                warnings.simplefilter("ignore", DeprecationWarning)
                raw = ticker.history(
                    interval="1d",
                    auto_adjust=True,
                    actions=False,
                    raise_errors=True,
                    timeout=self.timeout,
                    **window,
                )
        except self._no_data:  # no bar in the window (or no such ticker): nothing to add
            return pd.DataFrame()
        except self._rate_limited as exc:
            raise RateLimitedError(f"Yahoo Finance is rate-limiting requests ({symbol})") from exc
        except Exception as exc:  # yfinance raises many types; all mean "could not fetch"
            raise ProviderError(f"yfinance could not fetch {symbol}: {_reason(exc)}") from exc
        if raw.empty:
            return pd.DataFrame()
        frame = raw.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]]
        frame = frame.dropna(subset=["close"])
        index = pd.DatetimeIndex(frame.index)
        if index.tz is not None:
            index = index.tz_localize(None)
        frame.index = index.normalize()
        return frame.rename_axis("date").reset_index()


def _reason(exc: Exception) -> str:
    """The cause in a few words: curl's own sentence without its boilerplate, no URLs."""
    text = str(exc)
    if m := re.search(r"curl: \(\d+\) (.*?)(?:\. See https?://\S+.*)?$", text, re.S):
        text = m[1]
    return mask_urls_in(text.strip())[:300]
