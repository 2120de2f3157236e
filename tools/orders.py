"""Order vocabulary shared by the pre-trade checks and the brokers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema, model_validator


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    NEW = "new"  # accepted, waiting for its price
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


Symbol = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=1,
        max_length=12,
        pattern=r"^\s*[A-Za-z0-9.^=-]+\s*$",
    ),
    # the schema counts the length without the spaces that are stripped, as the server does
    WithJsonSchema({"type": "string", "pattern": r"^\s*[A-Za-z0-9.^=-]{1,12}\s*$"}),
]
"""A ticker as brokers spell it: letters, digits and . ^ = - (BRK.B, ^GSPC, EURUSD=X)."""
Quantity = Annotated[float, Field(gt=0, allow_inf_nan=False, description="Shares, > 0.")]
Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Order(BaseModel):
    """An order as a person or the agent asks for it: complete and consistent, or refused.

    The price fields must match the type (a limit order has a limit price and no stop
    price, a market order has neither), so the order that is approved is exactly the
    order that was shown: nothing is dropped or reinterpreted on the way to the broker.
    """

    symbol: Symbol
    side: Side
    quantity: Quantity
    type: OrderType = OrderType.MARKET
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.DAY

    @model_validator(mode="after")
    def _prices_match_type(self) -> Order:
        wanted = {OrderType.LIMIT: "limit_price", OrderType.STOP: "stop_price"}.get(self.type)
        for name in ("limit_price", "stop_price"):
            given = getattr(self, name) is not None
            if name == wanted and not given:
                raise ValueError(f"a {self.type} order needs {name}")
            if name != wanted and given:
                raise ValueError(f"a {self.type} order takes no {name}")
        return self

    def describe(self) -> str:
        """The one way an order is written for people (answers, approvals, Slack, CLI)."""
        text = f"{self.side} {format_quantity(self.quantity)} {self.symbol}"
        if self.type is OrderType.LIMIT:
            return f"{text}, limit {self.limit_price:,.2f} ({self.time_in_force})"
        if self.type is OrderType.STOP:
            return f"{text}, stop {self.stop_price:,.2f} ({self.time_in_force})"
        return f"{text} at market"


def format_quantity(quantity: float) -> str:
    """1000000 -> "1,000,000"; 2.5 -> "2.5"; 10.0000001 -> "10.0000001": every digit the
    order holds and never an exponent, so an approver reads the number that will be sent
    (rounding to six places showed 10.0000001 as "10." and 1e-7 as "0.")."""
    if float(quantity).is_integer():
        return f"{quantity:,.0f}"
    return format(Decimal(repr(float(quantity))), ",f")


class BrokerOrder(Order):
    """An order as a broker holds it."""

    id: str
    client_order_id: str
    status: OrderStatus
    filled_quantity: float = 0.0
    filled_avg_price: float | None = None
    reason: str | None = Field(None, description="Why it was rejected, when it was.")
    created_at: datetime
    updated_at: datetime
    broker: str


class BrokerPosition(BaseModel):
    symbol: str
    quantity: float = Field(description="Shares; negative when short.")
    avg_price: float
    market_value: float | None = None


class BrokerAccount(BaseModel):
    cash: float
    equity: float
    positions_value: float
    currency: str = "USD"
    broker: str
