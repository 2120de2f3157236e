"""A local stand-in for Yahoo Finance's chart API, enough for yfinance's real client.

It answers the cookie and crumb endpoints yfinance calls first, and
``/v8/finance/chart/{symbol}`` with the JSON layout Yahoo returns, filtered by the
``period1``/``period2`` epoch-second window. Every request is recorded so tests can
check that cached data is not fetched again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from tests.fakes import running


@dataclass
class FakeYahoo:
    bars: dict[str, pd.DataFrame]  # symbol -> date-indexed open/high/low/close/volume
    requests: list[str] = field(default_factory=list)
    url: str = ""
    fail_with: int | None = None
    """Answer every chart request with this HTTP status (500: down, 429: rate limit)."""

    def chart_requests(self) -> list[str]:
        return [r for r in self.requests if "/v8/finance/chart/" in r]

    def chart(self, symbol: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        frame = self.bars.get(symbol)
        if frame is None:
            error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
            return 404, {"chart": {"result": None, "error": error}}
        stamps = (frame.index + pd.Timedelta(hours=14, minutes=30)).as_unit("s").astype("int64")
        lo = int(query.get("period1", ["0"])[0])
        hi = int(query.get("period2", [str(2**31)])[0])
        keep = (stamps >= lo) & (stamps < hi)
        rows, ts = frame[keep], stamps[keep]
        meta = {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "NMS",
            "instrumentType": "EQUITY",
            "gmtoffset": -18000,
            "timezone": "EST",
            "exchangeTimezoneName": "America/New_York",
            "regularMarketPrice": float(frame["close"].iloc[-1]),
            "priceHint": 2,
            "dataGranularity": "1d",
            "range": "",
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        }
        result = {"meta": meta, "timestamp": [int(t) for t in ts]}
        result["indicators"] = {
            "quote": [
                {
                    c: rows[c].astype(float).tolist()
                    for c in ("open", "high", "low", "close", "volume")
                }
            ],
            "adjclose": [{"adjclose": rows["close"].astype(float).tolist()}],
        }
        if not len(rows):
            result.pop("timestamp")
            result["indicators"] = {"quote": [{}], "adjclose": [{}]}
        return 200, {"chart": {"result": [result], "error": None}}


@contextmanager
def serve_fake_yahoo(bars: dict[str, pd.DataFrame]) -> Iterator[FakeYahoo]:
    fake = FakeYahoo(bars)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            fake.requests.append(self.path)
            parts = urlsplit(self.path)
            if parts.path.startswith("/v8/finance/chart/") and fake.fail_with:
                text = b"Too Many Requests" if fake.fail_with == 429 else b"Internal error"
                self._send(fake.fail_with, text, "text/plain")
            elif parts.path.startswith("/v8/finance/chart/"):
                status, body = fake.chart(parts.path.rsplit("/", 1)[-1], parse_qs(parts.query))
                self._send(status, json.dumps(body).encode(), "application/json")
            elif parts.path == "/v1/test/getcrumb":
                self._send(200, b"fake-crumb", "text/plain")
            else:  # fc.yahoo.com cookie page
                self._send(200, b"ok", "text/plain", {"Set-Cookie": "A3=fake; Path=/"})

        def _send(self, status, body, ctype, headers=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    with running(Handler) as url:
        fake.url = url
        yield fake
