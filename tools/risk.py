"""Pre-trade risk checks: pure functions over an order, the account and the limits.

Every check runs (no short-circuit) so the approver sees the full picture; the order
passes only if all pass. Each result carries a sentence a person can act on.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.orders import Order, OrderType, Side, format_quantity


class Account(BaseModel):
    """What the account holds now, and what its resting orders would add; prices are the
    last known prices by symbol."""

    cash: float
    positions: dict[str, float] = Field(default_factory=dict, description="symbol -> shares")
    open_orders: list[Order] = Field(
        default_factory=list,
        description="Resting orders (unfilled quantity): they count as if they filled, so "
        "orders that rest one by one cannot together pass a limit none passes alone.",
    )
    prices: dict[str, float] = Field(default_factory=dict)
    orders_today: int = 0

    @property
    def equity(self) -> float:
        return self.cash + sum(q * self.prices.get(s, 0.0) for s, q in self.positions.items())

    def exposure(self, symbol: str) -> float:
        """Shares held plus resting buys. Resting sells do not count: a sell resting above
        the price (or a stop below it) may never fill, and the shares stay held."""
        buying = sum(
            o.quantity for o in self.open_orders if o.symbol == symbol and o.side is Side.BUY
        )
        return self.positions.get(symbol, 0.0) + buying

    def reserved_cash(self) -> float:
        """What the resting buys would cost at their own prices."""
        return sum(
            o.quantity * reference_price(o, self.prices.get(o.symbol, 0.0))
            for o in self.open_orders
            if o.side is Side.BUY
        )

    def selling(self, symbol: str) -> float:
        return sum(
            o.quantity for o in self.open_orders if o.symbol == symbol and o.side is Side.SELL
        )


def _signed(order: Order) -> float:
    return order.quantity if order.side is Side.BUY else -order.quantity


class RiskLimits(BaseModel):
    """The pre-trade limits and their defaults (settings take their defaults from here)."""

    max_order_quantity: float = Field(
        1_000_000.0, gt=0, description="Shares per order; more is refused when proposed."
    )
    max_order_notional: float = 50_000.0
    max_position_weight: float = Field(0.25, gt=0, le=1)
    allow_short: bool = False
    restricted_symbols: list[str] = Field(default_factory=list)
    price_collar: float = Field(0.05, gt=0, description="Limit/stop within this of last price.")
    max_orders_per_day: int = 20
    allow_fractional: bool = False


class PositionCap(BaseModel):
    """The requester's own cap on one position (from their risk profile), checked beside
    the account-wide limit: the stricter of the two binds."""

    profile: str = Field(description="The profile that sets it, named in the check's reason.")
    max_weight: float = Field(gt=0, le=1)


class CheckResult(BaseModel):
    name: str
    passed: bool
    reason: str


class RiskReport(BaseModel):
    passed: bool
    checks: list[CheckResult]
    cap: PositionCap | None = Field(
        None,
        description="The requester's profile cap the checks used: at execution the stricter "
        "of it and the cap then in force binds.",
    )

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


def _result(name: str, ok: bool, good: str, bad: str) -> CheckResult:
    return CheckResult(name=name, passed=ok, reason=good if ok else bad)


def check_quantity(order: Order, limits: RiskLimits) -> CheckResult:
    q, shown = order.quantity, format_quantity(order.quantity)
    if q > limits.max_order_quantity:
        limit = format_quantity(limits.max_order_quantity)
        return _result("quantity", False, "", f"{shown} shares exceed the limit of {limit}")
    whole = limits.allow_fractional or float(q).is_integer()
    return _result("quantity", whole, f"{shown} shares", f"{shown} is not a whole number of shares")


def check_restricted(order: Order, limits: RiskLimits) -> CheckResult:
    banned = order.symbol.upper() in {s.upper() for s in limits.restricted_symbols}
    return _result(
        "restricted_symbol",
        not banned,
        f"{order.symbol} is not restricted",
        f"{order.symbol} is on the restricted list",
    )


def reference_price(order: Order, last: float) -> float:
    """The price a share of the order trades at, as far as the last price tells, for
    notional and buying power. A buy limit never pays above its limit. An order on the
    wrong side of the market trades at once at the market: a buy stop below it and a
    sell limit below it at the last (the higher: pricing them at their own price let an
    order through a cap it then broke on filling), a sell stop above it at the last too
    (the lower: a stop-loss below the market trades near its stop)."""
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        return order.limit_price if order.side is Side.BUY else max(order.limit_price, last)
    if order.type is OrderType.STOP and order.stop_price is not None:
        if order.side is Side.BUY:
            return max(order.stop_price, last)
        return min(order.stop_price, last) if last > 0 else order.stop_price
    return last


def check_notional(order: Order, last: float, limits: RiskLimits) -> CheckResult:
    notional = abs(order.quantity) * reference_price(order, last)
    return _result(
        "max_order_notional",
        notional <= limits.max_order_notional,
        f"notional {notional:,.2f} within {limits.max_order_notional:,.2f}",
        f"notional {notional:,.2f} exceeds the limit of {limits.max_order_notional:,.2f}",
    )


def check_buying_power(
    order: Order, account: Account, last: float, limits: RiskLimits
) -> CheckResult:
    if order.side is Side.BUY:
        cost = order.quantity * reference_price(order, last)
        reserved = account.reserved_cash()
        free = account.cash - reserved
        held_back = f" ({reserved:,.2f} held back for resting buys)" if reserved else ""
        return _result(
            "buying_power",
            cost <= free + 1e-9,
            f"cost {cost:,.2f} within available cash {free:,.2f}{held_back}",
            f"cost {cost:,.2f} exceeds available cash {free:,.2f}{held_back}",
        )
    held = account.positions.get(order.symbol, 0.0)
    free = held - account.selling(order.symbol)
    short = order.quantity > free + 1e-12
    resting = f" ({held - free:g} already offered in resting sells)" if held != free else ""
    return _result(
        "no_short_selling",
        limits.allow_short or not short,
        f"selling {order.quantity:g} of {free:g} available{resting}"
        if not short
        else "short selling allowed",
        f"selling {order.quantity:g} {order.symbol} but only {free:g} held{resting}; "
        "short selling is off",
    )


class Weighing(BaseModel):
    """A position's share of equity before and after an order (and every resting buy)."""

    symbol: str
    before: float
    after: float
    shrinks: bool = Field(
        description="The order makes the position smaller on the same side: it always "
        "passes a weight limit, since it is how an oversized position gets back within one."
    )

    def check(self, name: str, limit: float, whose: str = "") -> CheckResult:
        """Against ``limit``; ``whose`` names where a limit other than the account's comes
        from ("the conservative profile")."""
        label = f"{whose}'s limit" if whose else "limit"
        above = f"{whose}'s limit" if whose else "the limit"
        if self.shrinks:
            return _result(
                name,
                True,
                f"{self.symbol} goes from {self.before:.1%} to {self.after:.1%} of equity "
                f"({label} {limit:.0%})",
                "",
            )
        return _result(
            name,
            self.after <= limit + 1e-12,
            f"{self.symbol} would be {self.after:.1%} of equity ({label} {limit:.0%})",
            f"{self.symbol} would be {self.after:.1%} of equity, above {above} {limit:.0%}",
        )


def weigh(order: Order, account: Account, last: float) -> Weighing:
    before = account.exposure(order.symbol)
    after = before + _signed(order)
    equity = account.equity

    def share(shares: float) -> float:
        return abs(shares) * last / equity if equity > 0 else float("inf")

    shrinks = abs(after) < abs(before) - 1e-12 and (after == 0 or (after > 0) == (before > 0))
    return Weighing(symbol=order.symbol, before=share(before), after=share(after), shrinks=shrinks)


def check_position_weight(
    order: Order, account: Account, last: float, limits: RiskLimits
) -> CheckResult:
    """The position after this order and every resting buy fills, as a share of equity."""
    return weigh(order, account, last).check("max_position_weight", limits.max_position_weight)


def check_profile_cap(order: Order, account: Account, last: float, cap: PositionCap) -> CheckResult:
    """The same weight against the requester's own risk-profile cap."""
    return weigh(order, account, last).check(
        "profile_position_cap", cap.max_weight, f"the {cap.profile} risk profile"
    )


def check_price_collar(order: Order, last: float, limits: RiskLimits) -> CheckResult:
    price = order.limit_price if order.type is OrderType.LIMIT else order.stop_price
    if order.type is OrderType.MARKET or price is None:
        return _result("price_collar", True, "market order: no price to check", "")
    gap = abs(price - last) / last
    return _result(
        "price_collar",
        gap <= limits.price_collar,
        f"{order.type} price {price:g} is {gap:.1%} from last {last:g}",
        f"{order.type} price {price:g} is {gap:.1%} from the last price {last:g}; "
        f"the collar is {limits.price_collar:.0%}",
    )


def check_orders_per_day(account: Account, limits: RiskLimits) -> CheckResult:
    ok = account.orders_today < limits.max_orders_per_day
    return _result(
        "max_orders_per_day",
        ok,
        f"{account.orders_today} of {limits.max_orders_per_day} orders used today",
        f"the daily limit of {limits.max_orders_per_day} orders is reached",
    )


def stricter(a: PositionCap | None, b: PositionCap | None) -> PositionCap | None:
    """Of two profile caps, the smaller (None: no cap)."""
    if a is None or b is None:
        return a or b
    return a if a.max_weight <= b.max_weight else b


def check_order(
    order: Order, account: Account, limits: RiskLimits, cap: PositionCap | None = None
) -> RiskReport:
    """Run every check; the order passes only if all pass. ``cap``: the requester's
    profile cap, a check of its own."""
    last = account.prices.get(order.symbol)
    if last is None or last <= 0:
        checks = [
            CheckResult(name="last_price", passed=False, reason=f"no last price for {order.symbol}")
        ]
        return RiskReport(passed=False, checks=checks, cap=cap)
    checks = [
        check_quantity(order, limits),
        check_restricted(order, limits),
        check_notional(order, last, limits),
        check_buying_power(order, account, last, limits),
        check_position_weight(order, account, last, limits),
        check_price_collar(order, last, limits),
        check_orders_per_day(account, limits),
    ]
    if cap is not None:
        checks.insert(5, check_profile_cap(order, account, last, cap))
    return RiskReport(passed=all(c.passed for c in checks), checks=checks, cap=cap)
