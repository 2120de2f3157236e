"""Wire the chat, approval and decision services from settings (CLI, API and Slack share this)."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.alerts import AlertService
from assistant.approvals import ApprovalService
from assistant.chat import ChatService
from assistant.decisions import Decisions
from assistant.deliveries import Deliveries
from assistant.hub import event_hub
from assistant.keys import KeyStore
from assistant.models import check_model
from assistant.profiles import ProfileStore
from assistant.resources import (
    broker,
    document_index,
    engine,
    price_store,
    risk_limits,
    security_master,
)
from assistant.schema import ensure_schema
from assistant.settings import Settings, get_settings
from assistant.store import Store
from assistant.watchlists import WatchlistStore
from tools.providers.live import PriceView


@dataclass
class Services:
    settings: Settings
    store: Store
    chat: ChatService
    approvals: ApprovalService
    decisions: Decisions
    profiles: ProfileStore
    watchlists: WatchlistStore
    alerts: AlertService | None = None
    deliveries: Deliveries | None = None


def build_services(settings: Settings | None = None, *, model: str | None = None) -> Services:
    settings = settings or get_settings()
    check_model(model, settings)
    database = engine(settings)
    # refuse an older or newer schema with what to run, before any service touches it
    ensure_schema(database, auto_migrate=settings.auto_migrate)
    store = Store(database)
    prices = price_store(settings)
    keys = KeyStore(store.engine)
    profiles = ProfileStore(store.engine)
    watchlists = WatchlistStore(store.engine, watchable(settings, prices))

    approvals = ApprovalService(
        settings,
        store,
        prices,
        lambda: broker(settings),
        risk_limits(settings),
        role_of=keys.role_of,
        cap_of=profiles.cap,
    )
    chat = ChatService(
        settings,
        store,
        prices,
        lambda: document_index(settings),
        lambda: broker(settings),
        approvals,
        model_name=model,
        hub=event_hub(settings),
        role_of=keys.role_of,
        profiles=profiles,
        watchlists=watchlists,
    )
    decisions = Decisions(approvals, chat)
    if settings.slack_bot_token:  # decisions on Slack-born orders reach their thread
        from assistant.slack_threads import SlackNotifier, ThreadMap, web_client

        decisions.listeners.append(SlackNotifier(ThreadMap(store.engine), web_client(settings)))
    alerts = AlertService(store.engine, prices, lambda: PriceView(prices, chat.live))
    chat.alerts = alerts
    deliveries = Deliveries(store.engine, allow_private=settings.alert_webhook_allow_private)
    return Services(
        settings, store, chat, approvals, decisions, profiles, watchlists, alerts, deliveries
    )


def watchable(settings: Settings, prices):
    """A symbol may be watched when the store has prices for it or it is a listed security
    (its prices can be fetched when a provider is configured)."""

    def known(symbol: str) -> bool:
        return prices.exists(symbol) or security_master(settings).get(symbol) is not None

    return known
