"""Each pre-trade check passes and fails where a person would expect, with a reason."""

import pytest
from pydantic import ValidationError

from tools.orders import Order
from tools.risk import Account, RiskLimits, check_order

ACCOUNT = Account(cash=10_000.0, positions={"AAPL": 10}, prices={"AAPL": 100.0, "MSFT": 200.0})
LIMITS = RiskLimits(
    max_order_notional=5_000,
    max_position_weight=0.5,
    price_collar=0.05,
    max_orders_per_day=3,
    restricted_symbols=["GME"],
)


def failed(order: Order, account: Account = ACCOUNT, limits: RiskLimits = LIMITS) -> dict[str, str]:
    report = check_order(order, account, limits)
    assert report.passed == (not report.failures)
    return {c.name: c.reason for c in report.failures}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"quantity": 0}, "greater than 0"),
        ({"quantity": -3}, "greater than 0"),
        ({"quantity": float("inf")}, "finite number"),
        ({"quantity": float("nan")}, "finite number"),
        ({"quantity": 10**400}, "valid number"),
        ({"side": "hold"}, "'buy' or 'sell'"),
        ({"type": "limit"}, "a limit order needs limit_price"),
        ({"type": "stop", "stop_price": 10, "limit_price": 9}, "a stop order takes no limit_price"),
        ({"limit_price": 10}, "a market order takes no limit_price"),
        ({"symbol": "AA PL"}, "should match pattern"),
        ({"symbol": ""}, "at least 1 character"),
    ],
)
def test_an_order_is_complete_and_consistent_or_refused(fields, problem):
    """Finding 1 of issue 11: 400 digits became an infinite quantity and a limit order
    without a price was stored, then sent as a market order."""
    with pytest.raises(ValidationError, match=problem):
        Order.model_validate({"symbol": "MSFT", "side": "buy", "quantity": 1, **fields})


def test_a_reasonable_order_passes_every_check():
    report = check_order(Order(symbol="MSFT", side="buy", quantity=5), ACCOUNT, LIMITS)
    assert report.passed
    assert len(report.checks) == 7
    assert all(c.reason for c in report.checks)


@pytest.mark.parametrize(
    ("order", "check", "reason"),
    [
        (Order(symbol="MSFT", side="buy", quantity=1.5), "quantity", "not a whole number"),
        (
            Order(symbol="MSFT", side="buy", quantity=30),
            "max_order_notional",
            "exceeds the limit of 5,000.00",
        ),
        (
            Order(symbol="MSFT", side="buy", quantity=28, type="limit", limit_price=200),
            "max_position_weight",
            "above the limit 50%",
        ),
        (Order(symbol="AAPL", side="sell", quantity=11), "no_short_selling", "only 10 held"),
        (
            Order(symbol="MSFT", side="buy", quantity=1, type="limit", limit_price=220),
            "price_collar",
            "10.0% from the last price",
        ),
        (
            Order(symbol="MSFT", side="sell", quantity=1, type="stop", stop_price=150),
            "price_collar",
            "collar is 5%",
        ),
    ],
)
def test_each_check_fails_with_a_reason(order, check, reason):
    failures = failed(order)
    assert check in failures
    assert reason in failures[check]


def test_buying_power():
    poor = ACCOUNT.model_copy(update={"cash": 100.0})
    failures = failed(Order(symbol="MSFT", side="buy", quantity=1), account=poor)
    assert "exceeds available cash 100.00" in failures["buying_power"]


def test_restricted_symbol_and_daily_limit():
    account = ACCOUNT.model_copy(
        update={"prices": {**ACCOUNT.prices, "GME": 20.0}, "orders_today": 3}
    )
    failures = failed(Order(symbol="gme", side="buy", quantity=1), account=account)
    assert "restricted list" in failures["restricted_symbol"]
    assert "daily limit of 3" in failures["max_orders_per_day"]


def test_short_and_fractional_when_allowed():
    limits = LIMITS.model_copy(update={"allow_short": True, "allow_fractional": True})
    assert check_order(Order(symbol="AAPL", side="sell", quantity=10.5), ACCOUNT, limits).passed


def test_missing_last_price_fails_closed():
    report = check_order(Order(symbol="ZZZ", side="buy", quantity=1), ACCOUNT, LIMITS)
    assert not report.passed
    assert report.failures[0].reason == "no last price for ZZZ"


def test_order_type_needs_its_price():
    with pytest.raises(ValidationError, match="limit order needs limit_price"):
        Order(symbol="MSFT", side="buy", quantity=1, type="limit")


def test_resting_orders_count_as_if_they_had_filled():
    """Three resting limit buys, each within the limits alone, used to fill into a
    position of 67% of equity: each new order sees the ones already resting."""
    resting = [
        Order(symbol="MSFT", side="buy", quantity=10, type="limit", limit_price=195),
        Order(symbol="AAPL", side="sell", quantity=8, type="limit", limit_price=101),
    ]
    account = ACCOUNT.model_copy(update={"open_orders": resting})
    weight = failed(Order(symbol="MSFT", side="buy", quantity=20), account)
    assert "MSFT would be 54.5% of equity" in weight["max_position_weight"]  # 36% alone
    cash = failed(Order(symbol="MSFT", side="buy", quantity=45), account)  # 9,000 of 10,000
    assert "1,950.00 held back for resting buys" in cash["buying_power"]
    short = failed(Order(symbol="AAPL", side="sell", quantity=5), account)
    assert "only 2 held (8 already offered in resting sells)" in short["no_short_selling"]


def test_a_resting_sell_does_not_make_room_for_more_buying():
    """Helper review: buy, rest a sell above the price, buy again, and so on, reached 71% of
    equity; when the sells expired unfilled the position stayed."""
    resting = [Order(symbol="MSFT", side="sell", quantity=10, type="limit", limit_price=210)]
    account = Account(
        cash=10_000.0,
        positions={"MSFT": 10},
        open_orders=resting,
        prices={"MSFT": 200.0},
    )
    weight = failed(Order(symbol="MSFT", side="buy", quantity=25), account)
    assert "MSFT would be 58.3% of equity" in weight["max_position_weight"]  # was 41.7%


def test_an_order_that_shrinks_an_oversized_position_passes_the_weight_check():
    heavy = Account(cash=1_000.0, positions={"AAPL": 100}, prices={"AAPL": 100.0})
    limits = LIMITS.model_copy(update={"max_order_notional": 100_000})
    report = check_order(Order(symbol="AAPL", side="sell", quantity=10), heavy, limits)
    weight = next(c for c in report.checks if c.name == "max_position_weight")
    assert weight.passed and "goes from 90.9% to 81.8%" in weight.reason
    flipped = failed(Order(symbol="AAPL", side="buy", quantity=5), heavy, limits)
    assert "above the limit" in flipped["max_position_weight"]


@pytest.mark.parametrize(
    "order",
    [
        # a buy stop below the market triggers at once and pays the market
        Order(symbol="MSFT", side="buy", quantity=24, type="stop", stop_price=196),
        # a sell limit below the market trades at once at the market
        Order(symbol="AAPL", side="sell", quantity=24, type="limit", limit_price=196),
    ],
)
def test_a_marketable_stop_or_limit_is_capped_at_the_market_price(order):
    """Finding of the 2026-12-07 attack: 81 JPM with a buy stop 5% below the market passed
    a 10,000 cap at its stop price (9,979) and filled at 10,500."""
    account = Account(cash=100_000.0, positions={"AAPL": 30}, prices={"AAPL": 200.0, "MSFT": 200.0})
    limits = LIMITS.model_copy(update={"max_order_notional": 4_750.0})
    notional = next(
        c for c in check_order(order, account, limits).checks if c.name == "max_order_notional"
    )
    assert not notional.passed
    assert f"notional {order.quantity * 200:,.2f}" in notional.reason


def test_a_resting_buy_limit_below_the_market_counts_at_its_limit():
    order = Order(symbol="MSFT", side="buy", quantity=24, type="limit", limit_price=195)
    account = Account(cash=100_000.0, prices={"MSFT": 200.0})
    limits = LIMITS.model_copy(update={"max_order_notional": 4_750.0})
    notional = next(
        c for c in check_order(order, account, limits).checks if c.name == "max_order_notional"
    )
    assert notional.passed and "notional 4,680.00" in notional.reason


@pytest.mark.parametrize(
    ("quantity", "shown"),
    [
        (1_000_000, "1,000,000"),
        (2.5, "2.5"),
        (10.0000001, "10.0000001"),  # was "10.": the approver read another number
        (12.9999999, "12.9999999"),  # was "13."
        (1e-7, "0.0000001"),  # was "0."
    ],
)
def test_an_approver_reads_every_digit_of_the_quantity(quantity, shown):
    from tools.orders import format_quantity

    assert format_quantity(quantity) == shown


def test_a_stop_loss_below_the_market_counts_at_its_stop():
    """It trades near its stop, not at the higher last price: a cap it meets at its stop
    does not refuse it (a risk-reducing order)."""
    order = Order(symbol="AAPL", side="sell", quantity=24, type="stop", stop_price=190)
    account = Account(cash=0.0, positions={"AAPL": 30}, prices={"AAPL": 200.0})
    limits = LIMITS.model_copy(update={"max_order_notional": 4_750.0})
    notional = next(
        c for c in check_order(order, account, limits).checks if c.name == "max_order_notional"
    )
    assert notional.passed and "notional 4,560.00" in notional.reason
