"""The product's shared resources, built from settings in one place."""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.settings import Settings, get_settings
from tools.errors import InvalidInputError
from tools.providers import PriceProvider, ProviderName, get_provider

if TYPE_CHECKING:  # each factory imports what it builds: a command loads what it uses
    from sqlalchemy import Engine

    from ingest.chunking import ChunkSettings
    from retrieval.embeddings import Embedder
    from retrieval.index import DocumentIndex
    from tools.broker import Broker
    from tools.market_data import PriceStore
    from tools.providers.live import LivePrices, PriceView, Refresh
    from tools.providers.sec import CompanyFacts
    from tools.risk import RiskLimits
    from tools.securities import Security, SecurityMaster


log = logging.getLogger(__name__)


def price_store(settings: Settings | None = None) -> PriceStore:
    """One store per directory per process, so tools, broker and risk checks share its
    cache of decoded tables (which re-checks each file's identity on every read)."""
    return _price_store((settings or get_settings()).prices_dir)


@cache
def _price_store(root: Path) -> PriceStore:
    from tools.market_data import PriceStore

    return PriceStore(root)


def price_provider(
    settings: Settings | None = None, name: str | None = None, *, timeout: float | None = None
) -> PriceProvider:
    """The provider ``name`` (default: the setting) configured from the settings."""
    settings = settings or get_settings()

    def secret(value) -> str:
        return value.get_secret_value() if value else ""

    return get_provider(
        name or settings.price_provider,
        yahoo_base_url=settings.yahoo_base_url,
        cache_dir=settings.data_dir / "cache" / "yfinance",
        timeout=timeout or settings.price_fetch_timeout_seconds,
        alpaca_keys=(secret(settings.alpaca_api_key), secret(settings.alpaca_secret_key)),
        alpaca_data_url=settings.alpaca_data_url,
        alpaca_feed=settings.alpaca_data_feed,
    )


def live_prices(
    settings: Settings | None = None, store: PriceStore | None = None
) -> LivePrices | None:
    """The on-demand refresher of a store (default: the settings') from the configured
    provider (None: offline). One per store and configuration per process, so its
    circuit breaker is shared by every question."""
    settings = settings or get_settings()
    if settings.price_provider == ProviderName.NONE:
        return None
    key = settings.model_dump_json(
        include={
            "price_provider",
            "yahoo_base_url",
            "alpaca_data_url",
            "alpaca_data_feed",
            "price_fetch_timeout_seconds",
            "price_breaker_failures",
            "price_breaker_seconds",
        }
    )
    return _live_prices(store or price_store(settings), key, settings)


_live: dict[tuple[Path, str], LivePrices] = {}
_live_lock = threading.Lock()


def _live_prices(store: PriceStore, key: str, settings: Settings) -> LivePrices:
    from tools.providers.breaker import CircuitBreaker
    from tools.providers.live import LivePrices

    with _live_lock:
        found = _live.get((store.root, key))
        if found is None:
            name = str(settings.price_provider)
            found = _live[(store.root, key)] = LivePrices(
                store,
                lambda: price_provider(settings),
                name,
                CircuitBreaker(
                    name,
                    failures=settings.price_breaker_failures,
                    cooldown=settings.price_breaker_seconds,
                ),
                # a fetch may take its timeout and a little more, never the client's retries
                deadline_seconds=settings.price_fetch_timeout_seconds + 0.25,
            )
        return found


def price_view(
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
    on_refresh: Callable[[Refresh], None] | None = None,
) -> PriceView:
    """What one tool call reads prices through: the store, refreshed on demand, as of
    the conversation's pinned date."""
    from tools.providers.live import PriceView

    settings = settings or get_settings()
    return PriceView(
        price_store(settings), live_prices(settings), as_of=as_of, on_refresh=on_refresh
    )


@cache
def _engine(url: str) -> Engine:
    made = _new_engine(url)
    # the CLI leaves without the interpreter's teardown (cli/startup.py): close the
    # pool's connections properly, so a server sees a goodbye, not a dropped socket
    atexit.register(made.dispose)
    return made


def _new_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        sqlite = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(sqlite, "connect")
        def _wal(dbapi_connection, _record):
            # WAL lets readers run beside the writer; NORMAL sync is safe in WAL mode
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return sqlite
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:  # e.g. mysql:// without its driver
        raise InvalidInputError(
            f"the database URL needs a driver that is not installed ({exc}); SQLite (the "
            "default) and PostgreSQL (postgresql+psycopg://user@host/db) are supported"
        ) from None


def engine(settings: Settings | None = None) -> Engine:
    """One engine per database URL per process (engines hold the connection pool)."""
    settings = settings or get_settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _engine(settings.effective_database_url)


def last_price(store: PriceStore):
    """A ``price_of`` for brokers: the latest stored price of a symbol."""

    def price_of(symbol: str) -> float:
        return float(store.load(symbol).price.iloc[-1])

    return price_of


def broker(settings: Settings | None = None) -> Broker:
    """The configured broker: the paper broker unless `broker=alpaca`."""
    settings = settings or get_settings()
    if settings.broker == "paper":
        from tools.broker.paper import PaperBroker

        return PaperBroker(
            engine(settings),
            last_price(price_store(settings)),
            initial_cash=settings.paper_initial_cash,
            slippage_bps=settings.paper_slippage_bps,
            allow_short=settings.allow_short,
        )
    if settings.broker == "alpaca":
        from tools.broker.alpaca import AlpacaBroker

        def secret(value) -> str:
            return value.get_secret_value() if value else ""

        return AlpacaBroker(
            secret(settings.alpaca_api_key),
            secret(settings.alpaca_secret_key),
            paper=not settings.alpaca_live,
            base_url=settings.alpaca_base_url,
        )
    from tools.broker import BrokerError

    raise BrokerError(f"unknown broker {settings.broker!r}; use paper or alpaca")


def risk_limits(settings: Settings | None = None) -> RiskLimits:
    """The limits in force: every field of :class:`RiskLimits` read from the settings."""
    from tools.risk import RiskLimits

    settings = settings or get_settings()
    return RiskLimits.model_validate(
        {name: getattr(settings, name) for name in RiskLimits.model_fields}
    )


def embedder(settings: Settings | None = None) -> Embedder:
    """The embedding model the settings name (default: the packaged MiniLM through ONNX
    Runtime, prepared once in the model cache)."""
    from retrieval.embeddings import shared_embedder

    settings = settings or get_settings()
    return shared_embedder(settings.embedding_model, settings.effective_model_cache_dir)


def document_index(settings: Settings | None = None) -> DocumentIndex:
    """The index: embedded Qdrant under the data dir, or the server at QDRANT_URL.

    Embedded Qdrant locks its folder: one process at a time owns a data dir's index.
    """
    from retrieval.index import DocumentIndex

    settings = settings or get_settings()
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return DocumentIndex(
        embedder(settings),
        path=None if settings.qdrant_url else settings.qdrant_path,
        url=settings.qdrant_url,
        api_key=key,
    )


def chunk_settings(settings: Settings | None = None) -> ChunkSettings:
    from ingest.chunking import ChunkSettings

    settings = settings or get_settings()
    return ChunkSettings(settings.chunk_words, settings.chunk_overlap_words)


def redis_client(url: str, connections: int = 16):
    """An asyncio Redis client with a bounded pool: a burst of requests waits a moment for
    one of a few connections instead of opening one per request, so Redis sees a few
    connections per API process however many requests are in flight."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=connections,
        timeout=1.0,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )
    return Redis(connection_pool=pool)


def securities_file(settings: Settings | None = None) -> Path:
    """SEC's company list as last refreshed (``assistant data symbols --refresh``)."""
    return (settings or get_settings()).data_dir / "securities" / "company_tickers_exchange.json"


def security_master(settings: Settings | None = None) -> SecurityMaster:
    """The bundled index constituents, with SEC's company list when it was refreshed."""
    path = securities_file(settings)
    stamp = path.stat().st_mtime_ns if path.exists() else None
    return _security_master(path, stamp)


@cache
def _security_master(path: Path, stamp: int | None) -> SecurityMaster:
    """Cached per file version: a refresh in another process is seen at the next call."""
    from tools.securities import SecurityMaster, bundled, from_sec

    sec: list[Security] = []
    if stamp is not None:
        try:
            sec = from_sec(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:  # a damaged file: the bundled list still works
            log.warning("SEC company list at %s unreadable, not used: %s", path, exc)
    return SecurityMaster(bundled(), sec)


def company_facts(settings: Settings | None = None) -> CompanyFacts:
    """SEC's XBRL company facts, cached under the data dir; one client (and breaker) per
    data dir and SEC address per process."""
    settings = settings or get_settings()
    return _company_facts(
        settings.data_dir / "cache" / "companyfacts",
        settings.edgar_user_agent,
        settings.edgar_base_url,
        settings.sec_timeout_seconds,
    )


@cache
def _company_facts(
    cache_dir: Path, user_agent: str | None, base_url: str | None, timeout: float
) -> CompanyFacts:
    from tools.providers.sec import CompanyFacts

    return CompanyFacts(user_agent, cache_dir, base_url=base_url, timeout=timeout)


def refresh_securities(settings: Settings | None = None) -> int:
    """Fetch SEC's company list and keep it under the data dir; returns how many companies
    it lists. Raises IngestError (network, EDGAR's answer) or InvalidInputError (shape)."""
    from ingest.edgar import EdgarClient
    from tools.securities import from_sec

    settings = settings or get_settings()
    table = EdgarClient(settings.edgar_user_agent, base_url=settings.edgar_base_url).company_list()
    count = len(from_sec(table))  # refuses a list of another shape before it is kept
    path = securities_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table))
    tmp.replace(path)
    return count
