"""Model selection: ``offline`` (the default, no key needed) or any litellm model string."""

from __future__ import annotations

import time
from datetime import date

from pydantic_ai.models import Model

from assistant.resources import live_prices
from assistant.settings import Settings
from tools.errors import ToolError
from tools.market_data import PriceStore
from tools.providers import ProviderName
from tools.providers.live import LivePrices, RefreshStatus

MAX_REFRESHED = 5


class StoreView:
    """What the offline model knows of the store: its symbols and its latest date (the
    anchor of "last year"), re-read at most every few seconds. With a price provider, the
    securities a question names are brought up to date before its dates are read, so
    "the last year" means the year to the latest close, not to the store's old end."""

    def __init__(
        self, prices: PriceStore, seconds: float = 5.0, live: LivePrices | None = None
    ) -> None:
        self.prices, self.seconds, self.live = prices, seconds, live
        self._read = float("-inf")
        self._symbols: set[str] = set()
        self._anchor = date.today()

    def _refresh(self) -> None:
        if time.monotonic() - self._read < self.seconds:
            return
        self._symbols = set(self.prices.symbols())
        ends = []
        for symbol in self._symbols:
            try:
                ends.append(self.prices.info(symbol).end)
            except Exception:  # a file being replaced: the next read sees it
                continue
        self._anchor = max(ends) if ends else date.today()
        self._read = time.monotonic()

    def symbols(self) -> set[str]:
        self._refresh()
        return self._symbols

    def anchor(self) -> date:
        self._refresh()
        return self._anchor

    def bring_up_to_date(self, symbols: list[str], as_of: date | None = None) -> None:
        """Refresh the named securities from the provider (a failure is remembered by the
        provider and said by the tools; it is not this step's to report)."""
        if self.live is None:
            return
        fetched = False
        for symbol in symbols[:MAX_REFRESHED]:
            try:
                status = self.live.refresh(symbol, as_of).status
            except ToolError:
                continue  # unknown to the provider: the tool will say so
            fetched |= status is RefreshStatus.FETCHED
            if status is RefreshStatus.FAILED:
                break  # one timeout per question at most: the tools say what failed
        if fetched:
            self._read = float("-inf")


def check_model(name: str | None, settings: Settings) -> None:
    """Refuse at start a model litellm cannot place (one error line, exit 2 / a server
    that does not start), instead of failing every question."""
    name = name or settings.model
    if name in ("offline", "", None):
        return
    from assistant.models.litellm_model import check_model_name

    for each in [name, *settings.model_fallbacks]:
        check_model_name(each, settings.api_base)


def resolve_model(name: str | None, settings: Settings, prices: PriceStore) -> Model:
    """The model for ``name`` (default: the setting); ``offline`` needs nothing else."""
    name = name or settings.model
    if name in ("offline", "", None):
        from assistant.models.offline import offline_model

        view = StoreView(prices, live=live_prices(settings, prices))
        return offline_model(
            view.symbols,
            view.anchor,
            settings.effective_model_cache_dir,
            fetchable=settings.price_provider != ProviderName.NONE,
            refresh=view.bring_up_to_date,
        )
    from assistant.models.litellm_model import LiteLLMModel

    key = settings.api_key.get_secret_value() if settings.api_key else None
    return LiteLLMModel(
        name,
        api_base=settings.api_base,
        api_key=key,
        fallbacks=settings.model_fallbacks,
        timeout=settings.model_timeout,
        num_retries=settings.model_retries,
    )
