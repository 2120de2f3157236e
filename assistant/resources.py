"""The product's shared resources, built from settings in one place."""

from __future__ import annotations

from assistant.settings import Settings, get_settings
from tools.market_data import PriceStore


def price_store(settings: Settings | None = None) -> PriceStore:
    return PriceStore((settings or get_settings()).prices_dir)
