"""A circuit breaker for a live data provider.

A provider that is down must cost a question at most one short timeout, not one per
symbol and not one per question: after ``failures`` consecutive failures the breaker
opens and nobody calls the provider for ``cooldown`` seconds; then one call is let
through (half-open) and its outcome closes the breaker or opens it again. A rate limit
(HTTP 429) opens it at once for the provider's ``Retry-After`` (or the cooldown), and
each further 429 in a row doubles the wait, up to an hour.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, Field

MAX_BACKOFF_SECONDS = 3600.0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerStatus(BaseModel):
    """What ``/readyz`` shows of a provider."""

    provider: str
    state: BreakerState
    consecutive_failures: int
    retry_in_seconds: float = Field(description="0 unless open: when a call is tried again.")
    last_error: str | None = None


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        *,
        failures: int = 3,
        cooldown: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider, self.failures, self.cooldown, self._clock = (
            provider,
            failures,
            cooldown,
            clock,
        )
        self._lock = threading.Lock()
        self._consecutive = 0
        self._rate_limited = 0
        self._open_until = 0.0
        self._probing = False
        self.last_error: str | None = None

    def allow(self) -> bool:
        """Whether a call may go to the provider now (half-open lets exactly one through)."""
        with self._lock:
            if self._open_until == 0.0:
                return True
            if self._clock() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._consecutive = self._rate_limited = 0
            self._open_until, self._probing, self.last_error = 0.0, False, None

    def failure(self, error: str, *, retry_after: float | None = None, rate_limited: bool = False):
        with self._lock:
            self._consecutive += 1
            self._probing = False
            self.last_error = error
            if rate_limited:
                self._rate_limited += 1
                wait = retry_after if retry_after and retry_after > 0 else self.cooldown
                wait = min(wait * 2 ** (self._rate_limited - 1), MAX_BACKOFF_SECONDS)
                self._open_until = self._clock() + wait
            elif self._consecutive >= self.failures or self._open_until:
                self._open_until = self._clock() + self.cooldown

    def status(self) -> BreakerStatus:
        with self._lock:
            now = self._clock()
            if self._open_until == 0.0:
                state, wait = BreakerState.CLOSED, 0.0
            elif now < self._open_until:
                state, wait = BreakerState.OPEN, round(self._open_until - now, 1)
            else:
                state, wait = BreakerState.HALF_OPEN, 0.0
            return BreakerStatus(
                provider=self.provider,
                state=state,
                consecutive_failures=self._consecutive,
                retry_in_seconds=wait,
                last_error=self.last_error,
            )
