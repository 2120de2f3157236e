"""A local stand-in for Alpaca's trading API (v2 orders, positions, account).

It checks the API key headers, fills market orders at once at a price from its table,
keeps limit/stop orders open, and answers a duplicate ``client_order_id`` with the
422 Alpaca sends, so the real alpaca-py client and our handling of it both run.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd

from tests.fakes import running

KEY, SECRET = "PKTEST", "SECRETTEST"


@dataclass
class FakeAlpaca:
    prices: dict[str, float]
    orders: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    positions: dict[str, float] = field(default_factory=dict)
    cash: float = 100_000.0
    posts: int = 0
    url: str = ""
    drop_submits: int = 0
    """The next N order submissions lose their connection before any answer."""
    accept_dropped: bool = False
    """...after the order was placed (the answer is what gets lost)."""
    down: bool = False
    """Every request loses its connection (the broker is unreachable)."""
    submit_delay: float = 0.0
    bars: dict = field(default_factory=dict)
    """Market data: symbol -> date-indexed open/high/low/close/volume (``/v2/stocks/bars``)."""
    page_size: int = 50
    rate_limited: int = 0
    """The next N market-data requests get 429 with Retry-After."""
    data_requests: list[str] = field(default_factory=list)

    def bars_page(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        self.data_requests.append(urlencode(query, doseq=True))
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return 429, {"message": "too many requests."}
        symbols = query["symbols"][0].split(",")
        if query.get("timeframe") != ["1Day"] or query.get("adjustment") != ["all"]:
            return 400, {"message": "this fake serves adjusted daily bars only"}
        start = pd.Timestamp(query["start"][0]).tz_localize(None)
        end = pd.Timestamp(query["end"][0]).tz_localize(None)
        offset = int(query.get("page_token", ["0"])[0] or 0)
        size = min(int(query.get("limit", [10_000])[0]), self.page_size)
        rows = []
        for symbol in symbols:
            frame = self.bars.get(symbol)
            if frame is None:
                continue
            window = frame.loc[(frame.index >= start) & (frame.index < end)]
            rows += [(symbol, day, row) for day, row in window.iterrows()]
        page = rows[offset : offset + size]
        out: dict[str, list] = {}
        for symbol, day, row in page:
            out.setdefault(symbol, []).append(
                {
                    "t": (day + pd.Timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "o": float(row["open"]),
                    "h": float(row["high"]),
                    "l": float(row["low"]),
                    "c": float(row["close"]),
                    "v": int(row["volume"]),
                    "n": 100,
                    "vw": float(row["close"]),
                }
            )
        more = offset + size < len(rows)
        return 200, {"bars": out, "next_page_token": str(offset + size) if more else None}

    def new_order(self, body: dict) -> tuple[int, dict]:
        self.posts += 1
        cid = body.get("client_order_id") or uuid.uuid4().hex
        if any(o["client_order_id"] == cid for o in self.orders.values()):
            return 422, {"code": 40010001, "message": "client_order_id must be unique"}
        if body["symbol"] not in self.prices:
            return 422, {"code": 40010001, "message": f"asset {body['symbol']} not found"}
        now = datetime.now(UTC).isoformat()
        order = {
            "id": str(uuid.uuid4()),
            "client_order_id": cid,
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "asset_id": str(uuid.uuid4()),
            "symbol": body["symbol"],
            "asset_class": "us_equity",
            "qty": str(body["qty"]),
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "simple",
            "order_type": body["type"],
            "type": body["type"],
            "side": body["side"],
            "time_in_force": body["time_in_force"],
            "limit_price": body.get("limit_price"),
            "stop_price": body.get("stop_price"),
            "status": "accepted",
            "extended_hours": False,
        }
        if body["type"] == "market":
            price, qty = self.prices[body["symbol"]], float(body["qty"])
            sign = 1 if body["side"] == "buy" else -1
            self.positions[body["symbol"]] = self.positions.get(body["symbol"], 0.0) + sign * qty
            self.cash -= sign * qty * price
            order.update(status="filled", filled_qty=str(qty), filled_avg_price=str(price))
        self.orders[order["id"]] = order
        return 200, order

    def position_rows(self) -> list[dict]:
        return [
            {
                "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)),
                "symbol": sym,
                "exchange": "NASDAQ",
                "asset_class": "us_equity",
                "avg_entry_price": str(self.prices[sym]),
                "qty": str(abs(q)),
                "side": "long" if q > 0 else "short",
                "market_value": str(q * self.prices[sym]),
                "cost_basis": str(q * self.prices[sym]),
            }
            for sym, q in self.positions.items()
            if q
        ]

    def account_row(self) -> dict:
        longs = sum(float(p["market_value"]) for p in self.position_rows() if p["side"] == "long")
        return {
            "id": str(uuid.uuid4()),
            "account_number": "PA0000TEST",
            "status": "ACTIVE",
            "currency": "USD",
            "cash": str(self.cash),
            "equity": str(self.cash + longs),
            "long_market_value": str(longs),
            "short_market_value": "0",
        }


@contextmanager
def serve_fake_alpaca(prices: dict[str, float], bars: dict | None = None) -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca(prices, bars=bars or {})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _authorised(self) -> bool:
            ok = self.headers.get("APCA-API-KEY-ID") == KEY
            ok = ok and self.headers.get("APCA-API-SECRET-KEY") == SECRET
            if not ok:
                self._send(401, {"code": 40110000, "message": "request is not authorized"})
            return ok

        def _drop(self) -> None:
            """Close the connection without an answer, as a failing network does."""
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def do_GET(self):
            if fake.down:
                return self._drop()
            if not self._authorised():
                return
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/v2/stocks/bars":
                status, body = fake.bars_page(parse_qs(parts.query))
                extra = {"Retry-After": "7"} if status == 429 else {}
                return self._send(status, body, extra)
            if path == "/v2/orders:by_client_order_id":
                cid = parse_qs(parts.query)["client_order_id"][0]
                found = [o for o in fake.orders.values() if o["client_order_id"] == cid]
                self._send(200, found[0]) if found else self._not_found()
            elif path == "/v2/orders":
                closed = {"filled", "canceled", "rejected", "expired"}
                self._send(200, [o for o in fake.orders.values() if o["status"] not in closed])
            elif path.startswith("/v2/orders/"):
                order = fake.orders.get(path.rsplit("/", 1)[-1])
                self._send(200, order) if order else self._not_found()
            elif path == "/v2/positions":
                self._send(200, fake.position_rows())
            elif path == "/v2/account":
                self._send(200, fake.account_row())
            else:
                self._not_found()

        def do_POST(self):
            if fake.down:
                return self._drop()
            if not self._authorised():
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(fake.submit_delay)
            if fake.drop_submits > 0:
                fake.drop_submits -= 1
                if fake.accept_dropped:
                    fake.new_order(body)
                return self._drop()
            with fake.lock:
                answer = fake.new_order(body)
            self._send(*answer)

        def do_DELETE(self):
            if not self._authorised():
                return
            order = fake.orders.get(self.path.rsplit("/", 1)[-1])
            if order is None:
                return self._not_found()
            if order["status"] in ("filled", "canceled"):
                return self._send(
                    422, {"code": 42210000, "message": f"order is already {order['status']}"}
                )
            order["status"] = "canceled"
            self.send_response(204)
            self.end_headers()

        def _not_found(self):
            self._send(404, {"code": 40410000, "message": "order not found"})

        def _send(self, status: int, body, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    with running(Handler) as url:
        fake.url = url
        yield fake
