"""Services for agent tests: sample prices, the sample index, a fresh database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from assistant.approvals import ApprovalService
from assistant.auth import Role
from assistant.chat import ChatService
from assistant.decisions import Decisions
from assistant.keys import KeyStore
from assistant.profiles import ProfileStore
from assistant.resources import embedder, last_price
from assistant.services import Services, watchable, with_background
from assistant.settings import Settings
from assistant.store import Store
from assistant.watchlists import WatchlistStore
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
    roles: dict[str, str] | None = None,
    **settings,
) -> Services:
    """``roles``: user id -> role for runs resumed on an owner's behalf (default: the key
    store's rule, under which test users like "tina" are viewers)."""
    config = Settings(data_dir=data_dir, database_url=db_url, **settings)
    engine = create_engine(db_url)
    store = Store(engine)
    if broker_factory is None:

        def broker_factory():
            return PaperBroker(engine, last_price(prices), slippage_bps=0)

    keys = KeyStore(engine)

    def role_of(user_id: str) -> Role | None:
        given = (roles or {}).get(user_id)
        return Role(given) if given else keys.role_of(user_id)

    profiles = ProfileStore(engine)
    approvals = ApprovalService(
        config,
        store,
        prices,
        broker_factory,
        limits or RiskLimits(),
        role_of=role_of,
        cap_of=profiles.cap,
    )
    chat = ChatService(
        config,
        store,
        prices,
        lambda: DocumentIndex(embedder(), path=index_dir),
        broker_factory,
        approvals,
        role_of=role_of,
        profiles=profiles,
        watchlists=(watchlists := WatchlistStore(engine, watchable(config, prices))),
    )
    decisions = Decisions(approvals, chat)
    services = Services(config, store, chat, approvals, decisions, profiles, watchlists)
    return with_background(services, prices)
