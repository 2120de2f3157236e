"""Settings choose the broker, the database and the risk limits."""

import pytest

from assistant.resources import broker, risk_limits
from assistant.settings import Settings
from tests.fakes.alpaca import KEY, SECRET, serve_fake_alpaca
from tools.broker import BrokerError
from tools.market_data import load_sample
from tools.orders import Order, OrderStatus


def test_default_is_a_paper_broker_in_the_data_dir_priced_from_the_store(isolated_env):
    settings = Settings()
    from assistant.resources import price_store

    load_sample(price_store(settings))
    paper = broker(settings)
    assert paper.name == "paper"
    order = paper.submit(Order(symbol="AAPL", side="buy", quantity=1), "x")
    last = price_store(settings).load("AAPL").price.iloc[-1]
    assert order.filled_avg_price == pytest.approx(last * 1.0005)  # 5 bps default slippage
    assert (isolated_env / "assistant.db").is_file()


def test_alpaca_by_settings(monkeypatch):
    with serve_fake_alpaca({"AAPL": 10.0}) as fake:
        monkeypatch.setenv("ASSISTANT_BROKER", "alpaca")
        monkeypatch.setenv("ASSISTANT_ALPACA_API_KEY", KEY)
        monkeypatch.setenv("ASSISTANT_ALPACA_SECRET_KEY", SECRET)
        monkeypatch.setenv("ASSISTANT_ALPACA_BASE_URL", fake.url)
        live = broker(Settings())
        assert live.paper is True  # live money only by ASSISTANT_ALPACA_LIVE=true
        assert (
            live.submit(Order(symbol="AAPL", side="buy", quantity=2), "k").status
            is OrderStatus.FILLED
        )


def test_unknown_broker_and_limits(monkeypatch):
    monkeypatch.setenv("ASSISTANT_BROKER", "ib")
    with pytest.raises(BrokerError, match="unknown broker 'ib'"):
        broker(Settings())
    monkeypatch.setenv("ASSISTANT_RESTRICTED_SYMBOLS", '["GME"]')
    monkeypatch.setenv("ASSISTANT_MAX_ORDER_NOTIONAL", "1000")
    limits = risk_limits(Settings())
    assert limits.restricted_symbols == ["GME"] and limits.max_order_notional == 1000
