"""Model selection: ``offline`` (the default, no key needed) or any litellm model string."""

from __future__ import annotations

from collections.abc import Callable

from pydantic_ai.models import Model

from assistant.settings import Settings


def resolve_model(name: str | None, settings: Settings, symbols: Callable[[], set[str]]) -> Model:
    """The model for ``name`` (default: the setting); ``offline`` needs nothing else."""
    name = name or settings.model
    if name in ("offline", "", None):
        from assistant.models.offline import offline_model

        return offline_model(symbols)
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
