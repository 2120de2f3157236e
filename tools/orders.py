"""Order vocabulary shared by the pre-trade checks and the brokers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator, model_validator


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


class Order(BaseModel):
    """An order as a person or the agent asks for it."""

    symbol: str
    side: Side
    quantity: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = Field(None, gt=0)
    stop_price: float | None = Field(None, gt=0)
    time_in_force: TimeInForce = TimeInForce.DAY

    @field_validator("symbol")
    @classmethod
    def _upper(cls, symbol: str) -> str:
        return symbol.strip().upper()

    @model_validator(mode="after")
    def _prices_match_type(self) -> Order:
        if self.type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.type is OrderType.STOP and self.stop_price is None:
            raise ValueError("a stop order needs stop_price")
        return self


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
