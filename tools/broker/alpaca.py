"""Alpaca through alpaca-py (the `live` extra), with the same protocol as the paper broker.

The paper endpoint is the default; live trading needs ``paper=False`` passed on
purpose (the ``alpaca_live`` setting). ``base_url`` points the client elsewhere (a
proxy, or the local fake the tests run). A duplicate ``client_order_id`` is answered by
Alpaca with HTTP 422; we then return the order already placed under that id.
"""

from __future__ import annotations

from datetime import datetime

from tools.broker import BrokerError, OrderNotFoundError
from tools.orders import (
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    Order,
    OrderStatus,
    OrderType,
)

_STATUS = {
    "new": OrderStatus.NEW,
    "accepted": OrderStatus.NEW,
    "pending_new": OrderStatus.NEW,
    "accepted_for_bidding": OrderStatus.NEW,
    "held": OrderStatus.NEW,
    "calculated": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "done_for_day": OrderStatus.EXPIRED,
    "expired": OrderStatus.EXPIRED,
    "canceled": OrderStatus.CANCELED,
    "pending_cancel": OrderStatus.CANCELED,
    "replaced": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.REJECTED,
    "stopped": OrderStatus.FILLED,
}


def _value(enum_or_str) -> str:
    return getattr(enum_or_str, "value", enum_or_str)


def _float(value) -> float | None:
    return None if value is None else float(value)


class AlpacaBroker:
    name = "alpaca"

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        paper: bool = True,
        base_url: str | None = None,
    ) -> None:
        try:
            from alpaca.common.exceptions import APIError
            from alpaca.trading import requests as req
            from alpaca.trading.client import TradingClient
        except ImportError as exc:
            raise BrokerError(
                "the Alpaca broker needs the `live` extra: pip install 'market-assistant[live]'"
            ) from exc
        if not api_key or not secret_key:
            raise BrokerError(
                "Alpaca needs an API key and secret (ASSISTANT_ALPACA_API_KEY/SECRET)"
            )
        self._api_error, self._req = APIError, req
        self._client = TradingClient(api_key, secret_key, paper=paper, url_override=base_url)
        self.paper = paper
        self.account_name = "paper" if paper else "live"

    def _reach(self, call, *args):
        """One request to Alpaca; a network failure becomes a BrokerError that says so
        (Alpaca's own refusals, APIError, are handled by each caller)."""
        import requests

        try:
            return call(*args)
        except requests.RequestException as exc:
            raise BrokerError(f"Alpaca could not be reached: {exc}") from exc

    def submit(self, order: Order, client_order_id: str) -> BrokerOrder:
        from alpaca.trading.enums import OrderSide, TimeInForce

        common = dict(
            symbol=order.symbol,
            qty=order.quantity,
            side=OrderSide(order.side.value),
            time_in_force=TimeInForce(order.time_in_force.value),
            client_order_id=client_order_id,
        )
        if order.type is OrderType.LIMIT:
            request = self._req.LimitOrderRequest(**common, limit_price=order.limit_price)
        elif order.type is OrderType.STOP:
            request = self._req.StopOrderRequest(**common, stop_price=order.stop_price)
        else:
            request = self._req.MarketOrderRequest(**common)
        try:
            return self._out(self._reach(self._client.submit_order, request))
        except self._api_error as exc:
            if exc.status_code == 422 and "client_order_id" in str(exc):
                existing = self.get_order_by_client_id(client_order_id)
                if existing is not None:
                    return existing
            raise BrokerError(f"Alpaca refused the order: {exc}") from exc

    def cancel(self, order_id: str) -> BrokerOrder:
        try:
            self._reach(self._client.cancel_order_by_id, order_id)
        except self._api_error as exc:
            raise self._error(exc, order_id) from exc
        return self.get_order(order_id)

    def get_order(self, order_id: str) -> BrokerOrder:
        try:
            return self._out(self._reach(self._client.get_order_by_id, order_id))
        except self._api_error as exc:
            raise self._error(exc, order_id) from exc

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        try:
            return self._out(self._reach(self._client.get_order_by_client_id, client_order_id))
        except self._api_error as exc:
            if exc.status_code == 404:
                return None
            raise BrokerError(f"Alpaca: {exc}") from exc

    def open_orders(self) -> list[BrokerOrder]:
        from alpaca.trading.enums import QueryOrderStatus

        request = self._req.GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
        try:
            return [self._out(o) for o in self._reach(self._client.get_orders, request)]
        except self._api_error as exc:
            raise BrokerError(f"Alpaca: {exc}") from exc

    def positions(self) -> list[BrokerPosition]:
        try:
            rows = self._reach(self._client.get_all_positions)
        except self._api_error as exc:
            raise BrokerError(f"Alpaca: {exc}") from exc
        return [
            BrokerPosition(
                symbol=p.symbol,
                quantity=float(p.qty) * (-1 if _value(p.side) == "short" else 1),
                avg_price=float(p.avg_entry_price),
                market_value=_float(p.market_value),
            )
            for p in rows
        ]

    def account(self) -> BrokerAccount:
        try:
            a = self._reach(self._client.get_account)
        except self._api_error as exc:
            raise BrokerError(f"Alpaca: {exc}") from exc
        cash, equity = float(a.cash or 0), float(a.equity or a.cash or 0)
        return BrokerAccount(
            cash=cash,
            equity=equity,
            positions_value=float(a.long_market_value or 0) + float(a.short_market_value or 0),
            currency=a.currency or "USD",
            broker=self.name,
        )

    def _error(self, exc, order_id: str) -> BrokerError:
        if exc.status_code == 404:
            return OrderNotFoundError(f"no Alpaca order with id {order_id!r}")
        return BrokerError(f"Alpaca: {exc}")

    def _out(self, o) -> BrokerOrder:
        status = _STATUS.get(_value(o.status), OrderStatus.NEW)
        created: datetime = o.created_at
        return BrokerOrder(
            id=str(o.id),
            client_order_id=o.client_order_id,
            symbol=o.symbol,
            side=_value(o.side),
            quantity=float(o.qty),
            type=_value(o.type or o.order_type),
            limit_price=_float(o.limit_price),
            stop_price=_float(o.stop_price),
            time_in_force=_value(o.time_in_force),
            status=status,
            filled_quantity=float(o.filled_qty or 0),
            filled_avg_price=_float(o.filled_avg_price),
            created_at=created,
            updated_at=o.updated_at or created,
            broker=self.name,
        )
