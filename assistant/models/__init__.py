"""Model selection: ``offline`` (the default, no key needed) or any litellm model string."""

from __future__ import annotations

import time
from datetime import date

from pydantic_ai.models import Model

from assistant.settings import Settings
from tools.market_data import PriceStore
from tools.providers import ProviderName


class StoreView:
    """What the offline model knows of the store: its symbols and its latest date (the
    anchor of "last year"), re-read at most every few seconds."""

    def __init__(self, prices: PriceStore, seconds: float = 5.0) -> None:
        self.prices, self.seconds = prices, seconds
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


def resolve_model(name: str | None, settings: Settings, prices: PriceStore) -> Model:
    """The model for ``name`` (default: the setting); ``offline`` needs nothing else."""
    name = name or settings.model
    if name in ("offline", "", None):
        from assistant.models.offline import offline_model

        view = StoreView(prices)
        return offline_model(
            view.symbols,
            view.anchor,
            settings.effective_model_cache_dir,
            fetchable=settings.price_provider != ProviderName.NONE,
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
