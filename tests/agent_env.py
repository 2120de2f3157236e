"""Services for agent tests: sample prices, the sample index, a fresh database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from assistant.approvals import ApprovalService
from assistant.chat import ChatService
from assistant.resources import last_price
from assistant.services import Services
from assistant.settings import Settings
from assistant.store import Store
from retrieval.embeddings import shared_embedder
from retrieval.index import DocumentIndex
from tools.broker.paper import PaperBroker
from tools.market_data import PriceStore
from tools.risk import RiskLimits


def make_services(
    data_dir: Path,
    db_url: str,
    prices: PriceStore,
    index_dir: Path,
    *,
    broker_factory=None,
    limits: RiskLimits | None = None,
    **settings,
) -> Services:
    config = Settings(data_dir=data_dir, database_url=db_url, **settings)
    engine = create_engine(db_url)
    store = Store(engine)
    if broker_factory is None:

        def broker_factory():
            return PaperBroker(engine, last_price(prices), slippage_bps=0)

    chat = ChatService(
        config,
        store,
        prices,
        lambda: DocumentIndex(shared_embedder(), path=index_dir),
        broker_factory,
    )
    approvals = ApprovalService(config, store, prices, broker_factory, limits or RiskLimits(), chat)
    return Services(config, store, chat, approvals)
