"""Wire the chat, approval and decision services from settings (CLI, API and Slack share this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from assistant.alerts import AlertService
from assistant.approvals import ApprovalService
from assistant.auth import Role
from assistant.briefings import BriefingService
from assistant.chat import ChatService
from assistant.decisions import Decisions
from assistant.deliveries import Deliveries
from assistant.hub import event_hub
from assistant.jobs import Handler, Jobs, every
from assistant.keys import KeyStore
from assistant.models import check_model
from assistant.notifications import Notifications
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
from assistant.store import Store, utcnow
from assistant.watch_ingest import WatchIngest
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
    jobs: Jobs | None = None
    briefings: BriefingService | None = None
    notifications: Notifications | None = None
    watch_ingest: WatchIngest | None = None

    def handlers(self) -> dict[str, Handler]:
        """The background jobs this deployment runs (assistant/jobs.py), by kind."""
        assert self.alerts is not None
        alerts = self.alerts

        def sweep(_name: str) -> int:
            return len(alerts.sweep())  # what fired is sent by the deliveries loop

        interval = self.settings.alert_sweep_seconds
        out = {
            "alerts": Handler(
                run=sweep, next_after=every(interval), lease_seconds=max(120.0, 3 * interval)
            )
        }
        if self.briefings is not None:
            out["briefing"] = self.briefings.handler()
        if self.watch_ingest is not None and self.watch_ingest.enabled:
            out["ingest"] = self.watch_ingest.handler()
        return out

    def start_jobs(self) -> None:
        """The standing jobs exist (each process may call this; one row each)."""
        assert self.jobs is not None
        self.jobs.ensure("alerts", utcnow() + timedelta(seconds=self.settings.alert_sweep_seconds))
        if self.watch_ingest is not None and self.watch_ingest.enabled:
            self.jobs.ensure("ingest")


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
    services = Services(settings, store, chat, approvals, decisions, profiles, watchlists)
    return with_background(services, prices)


def with_background(services: Services, prices) -> Services:
    """Alerts, the job table, briefings, deliveries, notifications and scheduled ingestion,
    wired onto the chat (the server and the CLI build them here; so do the tests)."""
    settings, chat, engine = services.settings, services.chat, services.store.engine
    alerts = AlertService(
        engine,
        prices,
        lambda: PriceView(prices, chat.live),
        documents=once(lambda: chat.index_factory()),  # the server's shared index, when serving
        settings=settings,
        owner_allowed=lambda user: (role := chat.role_of(user)) is None or role.allows(Role.TRADER),
    )
    chat.alerts = alerts
    jobs = Jobs(engine)
    briefings = BriefingService(engine, chat, services.watchlists, jobs, settings)

    def name_of(symbol: str) -> str | None:
        from tools.securities import name_key

        found = security_master(settings).get(symbol)
        return name_key(found.name) if found is not None else None

    services.alerts, services.jobs, services.briefings = alerts, jobs, briefings
    chat.briefings = briefings
    services.deliveries = Deliveries(
        engine, settings=settings, sources={"briefing": briefings.message}
    )
    services.notifications = Notifications(engine)
    services.watch_ingest = WatchIngest(
        settings, engine, once(lambda: chat.index_factory()), jobs, name_of
    )
    return services


def once(factory):
    """``factory``'s first result, kept: a sweep or an ingestion round opens the index
    once, not per alert (the server's factory returns its one shared index anyway)."""
    held = []

    def get():
        if not held:
            held.append(factory())
        return held[0]

    return get


def watchable(settings: Settings, prices):
    """A symbol may be watched when the store has prices for it or it is a listed security
    (its prices can be fetched when a provider is configured)."""

    def known(symbol: str) -> bool:
        return prices.exists(symbol) or security_master(settings).get(symbol) is not None

    return known
