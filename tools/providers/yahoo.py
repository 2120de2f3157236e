"""Daily prices from Yahoo Finance through `yfinance` (the `live` extra).

``base_url`` sends every Yahoo request to another host (a mirror, a caching proxy, or
the local fake the tests run), while yfinance's own client code does all the talking.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import requests

from tools.errors import ProviderError, RateLimitedError
from tools.redact import mask_urls_in

YAHOO_SYMBOLS = {"SPX": "^GSPC"}
"""Our names for what Yahoo calls otherwise (the S&P 500 index)."""


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
        _quiet_yfinance()
        self._yf, self._rate_limited = yfinance, YFRateLimitError
        self._no_data = YFTickerMissingError
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            yfinance.set_tz_cache_location(str(cache_dir))
        self._session = _RedirectingSession(base_url) if base_url else None
        self.timeout = timeout

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        ticker = self._yf.Ticker(YAHOO_SYMBOLS.get(symbol, symbol), session=self._session)
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
        _LOGGED.seen.pop(threading.get_ident(), None)
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
        except self._no_data:  # no bar in the window, no such ticker, or a hidden failure
            _raise_logged(symbol)
            return pd.DataFrame()
        except self._rate_limited as exc:
            raise RateLimitedError(f"Yahoo Finance is rate-limiting requests ({symbol})") from exc
        except Exception as exc:  # yfinance raises many types; all mean "could not fetch"
            raise ProviderError(f"yfinance could not fetch {symbol}: {_reason(exc)}") from exc
        if raw.empty:
            _raise_logged(symbol)
            return pd.DataFrame()
        frame = raw.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]]
        frame = frame.dropna(subset=["close"])
        index = pd.DatetimeIndex(frame.index)
        if index.tz is not None:
            index = index.tz_localize(None)
        frame.index = index.normalize()
        return frame.rename_axis("date").reset_index()


class _Logged(logging.Handler):
    """yfinance's error lines, per thread: it logs a failed request ("Failed to get
    ticker 'X' reason: ...") and then reports the symbol as having no data."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.setdefault(record.thread or 0, []).append(record.getMessage())


_LOGGED = _Logged()


def _quiet_yfinance() -> None:
    """Its failures reach the user once, as our error; its log lines would repeat them."""
    logger = logging.getLogger("yfinance")
    if _LOGGED not in logger.handlers:
        logger.addHandler(_LOGGED)
        logger.propagate = False
        logger.setLevel(logging.ERROR)


def _raise_logged(symbol: str) -> None:
    for line in _LOGGED.seen.pop(threading.get_ident(), []):
        if "reason:" in line or "Failed to get ticker" in line:
            raise ProviderError(f"yfinance could not fetch {symbol}: {_reason(line)}")


def _reason(exc: Exception | str) -> str:
    """The cause in a few words: curl's own sentence without its boilerplate, no URLs."""
    text = str(exc)
    if m := re.search(r"curl: \(\d+\) (.*?)(?:\. See https?://\S+.*)?$", text, re.S):
        return mask_urls_in(m[1].strip())[:200]
    if "Expecting value" in text or "JSONDecodeError" in text:
        return "Yahoo Finance sent an answer that is not data (blocked, or no such symbol)"
    if "Max retries exceeded" in text or "Connection refused" in text:
        return "Yahoo Finance could not be reached (connection refused or timed out)"
    text = re.sub(r"^.*?reason:\s*", "", text)
    return mask_urls_in(text.strip()).split("\n")[0][:200]
