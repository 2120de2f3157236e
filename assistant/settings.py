"""One settings object for the whole product.

Everything the product writes lives under ``data_dir`` so that a second data dir is a
second, independent instance. Values come from ``ASSISTANT_*`` environment variables
(and a ``.env`` file); the conventional unprefixed ``DATABASE_URL``, ``QDRANT_URL`` and
``REDIS_URL`` are accepted as aliases because deployment platforms set those names.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.auth import Role
from tools.providers import ProviderName
from tools.redact import MASK, SECRET_NAME, mask_url, mask_urls_in
from tools.risk import RiskLimits


def _alias(name: str, *extra: str) -> AliasChoices:
    return AliasChoices(f"ASSISTANT_{name}", *extra)


def _limit(name: str, **constraints: Any) -> Any:
    """A risk-limit setting whose default is the one in :class:`tools.risk.RiskLimits`."""
    field = RiskLimits.model_fields[name]
    return Field(default=field.default, description=field.description, **constraints)


def _default_provider() -> ProviderName:
    """yfinance where the `live` extra is installed, else offline."""
    import importlib.util

    found = importlib.util.find_spec("yfinance") is not None
    return ProviderName.YFINANCE if found else ProviderName.NONE


class Settings(BaseSettings):
    """Effective configuration; see `assistant config` for what is in force."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(
        default=Path(".assistant-data"),
        description="Where prices, the index, the SQLite file and charts are written.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=_alias("DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; default: a SQLite file in the data dir.",
    )
    auto_migrate: bool = Field(
        default=False,
        description="Upgrade an older database's schema at start instead of refusing it "
        "(`assistant db upgrade` does it on demand).",
    )
    model: str = Field(
        default="offline",
        description="LLM by litellm model string; 'offline' is the built-in planner.",
    )
    api_base: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    model_fallbacks: list[str] = Field(default_factory=list, description="Models tried in order.")
    model_timeout: float = Field(default=60.0, gt=0)
    model_retries: int = Field(default=2, ge=0)
    max_tool_calls: int = Field(
        default=30, ge=1, description="Per turn (a ranking of every stored stock is one each)."
    )
    max_tokens_per_turn: int = Field(default=60_000, ge=1000)
    four_eyes: bool = Field(
        default=False, description="An approver may not approve their own request."
    )
    approval_ttl_minutes: int = Field(default=60, ge=1)
    approval_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the server expires overdue approvals and fills resting "
        "paper orders the stored prices have reached.",
    )
    alert_sweep_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the server evaluates alerts and sends their deliveries.",
    )
    ingest_every_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often the server ingests new EDGAR filings of watched symbols and "
        "the configured feeds (0: never). Needs ASSISTANT_EDGAR_USER_AGENT or "
        "ASSISTANT_INGEST_FEEDS.",
    )
    ingest_feeds: list[str] = Field(
        default_factory=list, description="RSS/Atom feed URLs the server ingests on schedule."
    )
    ingest_forms: list[str] = Field(
        default_factory=lambda: ["10-K", "10-Q", "8-K"],
        description="EDGAR forms scheduled ingestion fetches for watched symbols.",
    )
    ingest_limit: int = Field(
        default=2, ge=1, le=20, description="Latest filings of each form fetched per symbol."
    )
    alert_webhook_allow_private: bool = Field(
        default=False,
        description="Let alert webhooks target loopback and private addresses (tests, a "
        "receiver on the same network); off, the server never calls the machines behind it.",
    )
    api_key: SecretStr | None = Field(default=None, description="Key for the model provider.")
    qdrant_url: str | None = Field(
        default=None, validation_alias=_alias("QDRANT_URL", "QDRANT_URL")
    )
    qdrant_api_key: SecretStr | None = None
    redis_url: str | None = Field(default=None, validation_alias=_alias("REDIS_URL", "REDIS_URL"))
    price_provider: ProviderName = Field(
        default_factory=_default_provider,
        description="Where prices the store lacks come from, on demand: yfinance (default "
        "with the `live` extra), alpaca (market data with the Alpaca keys) or none (offline).",
    )
    price_fetch_timeout_seconds: float = Field(
        default=1.5,
        gt=0,
        le=120,
        description="A question's fetch from the provider may take this long (a quarter of a "
        "second more at most, whatever the client's own retries).",
    )
    price_breaker_failures: int = Field(
        default=3, ge=1, description="Failures in a row after which the provider is not asked."
    )
    price_breaker_seconds: float = Field(
        default=300.0, gt=0, description="How long the provider is left alone after failing."
    )
    alpaca_data_url: str | None = Field(
        default=None, description="Override Alpaca's market-data URL (data.alpaca.markets)."
    )
    alpaca_data_feed: str = Field(default="iex", description="iex (free) or sip.")
    yahoo_base_url: str | None = Field(
        default=None,
        description="Send Yahoo Finance requests to this base URL instead (a mirror or proxy).",
    )

    model_cache_dir: Path | None = Field(
        default=None,
        description="Where prepared models are kept (the offline model's intent model); "
        "default: <data dir>/models.",
    )
    embedding_model: str | None = Field(
        default=None, description="sentence-transformers model dir; default the packaged MiniLM."
    )
    sentiment_model: str | None = Field(
        default=None, description="Local text-classification model dir; default a lexicon."
    )
    chunk_words: int = Field(default=180, ge=20, le=2000)
    chunk_overlap_words: int = Field(default=30, ge=0, le=500)
    edgar_user_agent: str | None = Field(
        default=None, description="Name and contact email EDGAR requires of automated clients."
    )
    edgar_base_url: str | None = Field(default=None, description="Send EDGAR requests here.")
    sec_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="One SEC request (company facts) may take this long.",
    )
    auth: str = Field(
        default="on", description="'off' allows anonymous use, on loopback hosts only."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A request body must arrive within this time (408)."
    )
    max_message_chars: int = Field(default=4000, ge=10)
    rate_limit_per_minute: int = Field(default=120, ge=1)
    turn_timeout_seconds: float = Field(default=120.0, gt=0)
    max_concurrent_turns: int | None = Field(
        default=None,
        ge=1,
        description="Agent turns run at once per process. Default: the CPU count for the "
        "offline model (its turns are CPU work), 64 for a remote model (they wait on it).",
    )
    cors_origins: list[str] = Field(default_factory=list)
    security_headers: dict[str, str] = Field(
        default_factory=dict,
        description="Response headers added to (or, with an empty value, removed from) the "
        "defaults: nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer.",
    )
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp- token for Socket Mode."
    )
    slack_api_url: str | None = Field(default=None, description="Slack Web API base URL override.")
    slack_approvers: list[str] = Field(
        default_factory=list, description="Slack user ids allowed to approve."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mail alerts and briefings (off when unset)."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="market-assistant@localhost", description="The From address.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    broker: str = Field(default="paper", description="paper | alpaca")
    paper_initial_cash: float = Field(default=100_000.0, gt=0)
    paper_slippage_bps: float = Field(default=5.0, ge=0)
    alpaca_api_key: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    alpaca_live: bool = Field(
        default=False, description="Trade real money on Alpaca; the paper endpoint otherwise."
    )
    alpaca_base_url: str | None = Field(default=None, description="Override Alpaca's URL.")
    allow_short: bool = _limit("allow_short")
    max_order_quantity: float = _limit("max_order_quantity", gt=0)
    max_order_notional: float = _limit("max_order_notional", gt=0)
    max_position_weight: float = _limit("max_position_weight", gt=0, le=1)
    restricted_symbols: list[str] = Field(default_factory=list)
    price_collar: float = _limit("price_collar", gt=0)
    max_orders_per_day: int = _limit("max_orders_per_day", ge=0)
    allow_fractional: bool = _limit("allow_fractional")
    max_sweep_combinations: int = Field(
        default=2_000,
        ge=1,
        le=100_000,
        description="Parameter sets one backtest sweep may run (the API, MCP and the agent).",
    )
    heavy_workers: int = Field(
        default=1,
        ge=1,
        description="Threads for CPU-heavy tool work (backtests, sweeps, optimisation), apart "
        "from the threads that serve requests and check keys.",
    )
    heavy_calls_per_key: int = Field(
        default=1, ge=1, description="Heavy tool calls one caller may have running at once."
    )
    login_role: Role = Field(
        default=Role.ADMIN, description="Role of the browser session the login link opens."
    )
    session_hours: float = Field(default=12.0, gt=0, description="Browser sessions expire.")
    auth_failures_per_minute: int = Field(
        default=10, ge=1, description="Bad keys from one address before it gets 429."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="On SIGTERM, how long running turns may finish."
    )

    @cached_property
    def effective_database_url(self) -> str:
        """The configured URL, or the SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'assistant.db').resolve()}"

    @property
    def effective_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def prices_dir(self) -> Path:
        return self.data_dir / "prices"

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    def masked(self) -> dict[str, Any]:
        """Settings as shown to a person: secrets and URL passwords replaced by a mask."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            shown[name] = _shown(value)
        shown["effective_database_url"] = mask_url_password(self.effective_database_url)
        return shown


def _shown(value: Any) -> Any:
    """A setting's value as a person may see it: secrets masked, however nested."""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, str):
        return mask_urls_in(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {k: MASK if SECRET_NAME.search(k) else _shown(v) for k, v in value.items()}
    return value


def mask_url_password(url: str) -> str:
    """Hide the credentials in a URL (see :mod:`tools.redact`)."""
    return mask_url(url)


def get_settings() -> Settings:
    """Read the environment now (not cached: tests and CLI flags change it)."""
    return Settings()
