"""Paper broker (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) and the Alpaca
broker against a local fake of Alpaca's API."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tools.broker import BrokerError, OrderNotFoundError
from tools.broker.alpaca import AlpacaBroker
from tools.broker.paper import PaperBroker
from tools.errors import UnknownSymbolError
from tools.orders import Order, OrderStatus


class Prices:
    def __init__(self, **prices: float) -> None:
        self.prices = prices

    def __call__(self, symbol: str) -> float:
        if symbol not in self.prices:
            raise UnknownSymbolError(f"unknown symbol {symbol!r}")
        return self.prices[symbol]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def prices() -> Prices:
    return Prices(AAPL=100.0, MSFT=200.0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def broker(db_url, prices, clock):
    engine = create_engine(db_url)
    yield PaperBroker(engine, prices, initial_cash=10_000, slippage_bps=10, now=clock)
    engine.dispose()


def buy(qty, symbol="AAPL", **kw) -> Order:
    return Order(symbol=symbol, side="buy", quantity=qty, **kw)


def sell(qty, symbol="AAPL", **kw) -> Order:
    return Order(symbol=symbol, side="sell", quantity=qty, **kw)


def test_market_buy_fills_with_slippage_and_moves_cash(broker):
    order = broker.submit(buy(10), "c-1")
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == pytest.approx(100.1)  # 10 bps against the buyer
    account = broker.account()
    assert account.cash == pytest.approx(10_000 - 1001)
    [position] = broker.positions()
    assert (position.symbol, position.quantity) == ("AAPL", 10)
    assert position.avg_price == pytest.approx(100.1)
    assert account.equity == pytest.approx(account.cash + 1000)


def test_same_client_order_id_is_one_order(broker):
    first = broker.submit(buy(10), "approval-42")
    again = broker.submit(buy(99), "approval-42")  # a retry, even a garbled one
    assert again.id == first.id and again.quantity == 10
    assert broker.account().cash == pytest.approx(10_000 - 1001)
    assert broker.get_order_by_client_id("approval-42").id == first.id
    assert broker.get_order_by_client_id("never") is None


def test_concurrent_submits_with_one_id_place_one_order(broker):
    results = []

    def submit():
        results.append(broker.submit(buy(5), "race"))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.id for r in results}) == 1
    assert broker.positions()[0].quantity == 5


def test_state_survives_a_restart(db_url, prices, clock, broker):
    placed = broker.submit(buy(10), "c-1")
    broker.submit(buy(1, type="limit", limit_price=90), "c-2")
    engine = create_engine(db_url)
    restarted = PaperBroker(engine, prices, initial_cash=999_999, now=clock)
    assert restarted.account().cash == pytest.approx(10_000 - 1001)  # not re-initialised
    assert restarted.get_order(placed.id).status is OrderStatus.FILLED
    assert restarted.get_order_by_client_id("c-2").status is OrderStatus.NEW
    assert restarted.positions()[0].quantity == 10
    engine.dispose()


def test_limit_order_waits_for_its_price(broker, prices):
    order = broker.submit(buy(10, type="limit", limit_price=95), "lim")
    assert order.status is OrderStatus.NEW
    assert broker.process_open_orders() == []
    prices.prices["AAPL"] = 94.0
    [filled] = broker.process_open_orders()
    assert filled.status is OrderStatus.FILLED
    assert filled.filled_avg_price == pytest.approx(min(94 * 1.001, 95))


def test_two_sweeps_at_once_fill_a_resting_order_once(db_url, prices, clock):
    """Process B sweeps between process A reading the open orders and filling them."""
    engine_a, engine_b = create_engine(db_url), create_engine(db_url)
    b = PaperBroker(engine_b, prices, initial_cash=10_000, slippage_bps=0, now=clock)

    class RacedBroker(PaperBroker):
        def _claim(self, session, row):
            b.process_open_orders()  # the other process wins the race
            return super()._claim(session, row)

    a = RacedBroker(engine_a, prices, initial_cash=10_000, slippage_bps=0, now=clock)
    order = a.submit(buy(10, type="limit", limit_price=95), "lim")
    prices.prices["AAPL"] = 94.0
    assert a.process_open_orders() == []  # B filled it; A must not fill it again
    assert b.get_order(order.id).status is OrderStatus.FILLED
    assert a.account().cash == pytest.approx(10_000 - 940)
    assert a.positions()[0].quantity == 10
    engine_a.dispose()
    engine_b.dispose()


def test_stop_sell_triggers_on_the_way_down(broker, prices):
    broker.submit(buy(10), "b")
    stop = broker.submit(sell(10, type="stop", stop_price=90), "s")
    assert stop.status is OrderStatus.NEW
    prices.prices["AAPL"] = 89.0
    [filled] = broker.process_open_orders()
    assert filled.filled_avg_price == pytest.approx(89 * 0.999)
    assert broker.positions() == []


def test_day_order_expires_next_day_gtc_stays(broker, clock):
    day = broker.submit(buy(1, type="limit", limit_price=50), "day")
    gtc = broker.submit(buy(1, type="limit", limit_price=50, time_in_force="gtc"), "gtc")
    clock.now += timedelta(days=1)
    changed = broker.process_open_orders()
    assert [o.id for o in changed] == [day.id]
    assert broker.get_order(day.id).status is OrderStatus.EXPIRED
    assert broker.get_order(gtc.id).status is OrderStatus.NEW


def test_rejections_are_stored_with_reasons(broker):
    poor = broker.submit(buy(1000), "too-big")
    assert poor.status is OrderStatus.REJECTED
    assert "insufficient cash" in poor.reason
    short = broker.submit(sell(1), "short")
    assert short.status is OrderStatus.REJECTED
    assert "insufficient position" in short.reason
    unknown = broker.submit(buy(1, symbol="ZZZ"), "zzz")
    assert unknown.status is OrderStatus.REJECTED
    assert "no price for ZZZ" in unknown.reason
    assert broker.account().cash == 10_000


def test_short_selling_when_allowed(db_url, prices):
    engine = create_engine(db_url)
    shorty = PaperBroker(engine, prices, allow_short=True, slippage_bps=0)
    assert shorty.submit(sell(3), "s").status is OrderStatus.FILLED
    assert shorty.positions()[0].quantity == -3
    engine.dispose()


def test_cancel_rules(broker):
    open_order = broker.submit(buy(1, type="limit", limit_price=50), "open")
    assert broker.cancel(open_order.id).status is OrderStatus.CANCELED
    filled = broker.submit(buy(1), "filled")
    with pytest.raises(BrokerError, match="only open orders can be canceled"):
        broker.cancel(filled.id)
    with pytest.raises(OrderNotFoundError):
        broker.get_order("nope")


# --- Alpaca --------------------------------------------------------------------------


@pytest.fixture
def alpaca():
    with serve_fake_alpaca({"AAPL": 100.0, "MSFT": 200.0}) as fake:
        yield fake, AlpacaBroker(KEY, SECRET, base_url=fake.url)


def test_alpaca_market_order_positions_and_account(alpaca):
    _, broker = alpaca
    order = broker.submit(buy(3), "a-1")
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == 100.0 and order.broker == "alpaca"
    [position] = broker.positions()
    assert (position.symbol, position.quantity, position.market_value) == ("AAPL", 3, 300.0)
    account = broker.account()
    assert account.cash == pytest.approx(99_700)
    assert account.equity == pytest.approx(100_000)


def test_alpaca_duplicate_client_order_id_returns_the_first(alpaca):
    fake, broker = alpaca
    first = broker.submit(buy(3), "same")
    again = broker.submit(buy(3), "same")
    assert again.id == first.id
    assert fake.posts == 2 and len(fake.orders) == 1


def test_alpaca_cancel_and_errors(alpaca):
    _, broker = alpaca
    pending = broker.submit(buy(1, type="limit", limit_price=90), "lim")
    assert pending.status is OrderStatus.NEW
    assert broker.cancel(pending.id).status is OrderStatus.CANCELED
    with pytest.raises(BrokerError, match="already canceled"):
        broker.cancel(pending.id)
    with pytest.raises(OrderNotFoundError):
        broker.get_order("5f0c1e3a-0000-4000-8000-000000000000")
    with pytest.raises(BrokerError, match="refused"):
        broker.submit(buy(1, symbol="NOPE"), "bad")


def test_alpaca_wrong_key_and_paper_default(alpaca):
    fake, _ = alpaca
    wrong = AlpacaBroker("bad", "bad", base_url=fake.url)
    with pytest.raises(BrokerError):
        wrong.account()
    assert "paper-api" in AlpacaBroker(KEY, SECRET)._client._base_url
    assert "paper-api" not in AlpacaBroker(KEY, SECRET, paper=False)._client._base_url
    with pytest.raises(BrokerError, match="API key"):
        AlpacaBroker("", "")


def test_many_brokers_built_at_once_share_one_schema(db_url, prices):
    """A server builds a broker per request; concurrent first uses must not race on DDL."""
    engine = create_engine(db_url)
    errors = []

    def build():
        try:
            PaperBroker(engine, prices).account()
        except Exception as exc:  # the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine.dispose()
