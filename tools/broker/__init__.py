"""Brokers behind one protocol: the paper broker (default) and Alpaca (extra `live`).

Every submit carries a ``client_order_id`` and is idempotent on it: submitting the
same id twice returns the first order and never places a second one. The approval
flow uses the approval id as that key, so a retried approval cannot double an order.
"""

from __future__ import annotations

from typing import Protocol

from tools.errors import ToolError
from tools.orders import BrokerAccount, BrokerOrder, BrokerPosition, Order


class BrokerError(ToolError):
    """The broker refused or failed a request; the message says which and why."""


class OrderNotFoundError(BrokerError):
    """No order with that id at this broker."""


class Broker(Protocol):
    name: str

    def submit(self, order: Order, client_order_id: str) -> BrokerOrder:
        """Place ``order``, or return the order already placed under ``client_order_id``."""
        ...

    def cancel(self, order_id: str) -> BrokerOrder: ...

    def get_order(self, order_id: str) -> BrokerOrder: ...

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None: ...

    def open_orders(self) -> list[BrokerOrder]:
        """Orders still resting (new or partially filled): the risk checks count them."""
        ...

    def positions(self) -> list[BrokerPosition]: ...

    def account(self) -> BrokerAccount: ...
